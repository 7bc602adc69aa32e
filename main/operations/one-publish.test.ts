/**
 * One click, one snapshot: drives `cluster:stop` and `federation:stop` through the real handler table (as the window
 * and the tray do) against the demo workspaces (libvirt's test driver, local machines) and counts what each costs —
 * snapshot builds, `workspace:changed` events and state-file reads outside the operation's transaction.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Channel, InvokeArg, InvokeResult, Result } from '../../preload/contract';
import { composeServices } from '../compose';
import { dispatch } from '../ipc/dispatch';
import { createHandlerTable } from '../ipc/table';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';

let dir = '';
let services: AppServices;
let table: ReturnType<typeof createHandlerTable>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-one-publish-'));
  services = await composeServices({ dataDir: dir, settingsBackend: confBackend(dir), host: 'serve', warn: () => undefined });
  table = createHandlerTable(services);
});

afterAll(async () => {
  services?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function call<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<InvokeResult<C>> {
  const r = (await dispatch(table, channel, arg)) as Result<InvokeResult<C>>;
  if (!r.ok) throw new Error(`${channel}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

/** Counts, while `fn` runs and until the file watcher has had its say, what one operation costs. */
async function measure(workspaceId: string, fn: () => Promise<unknown>): Promise<{ builds: number; events: number; reads: number }> {
  // Let the watcher's reaction to earlier operations pass first.
  await delay(400);
  const snapshot = vi.spyOn(services, 'snapshot');
  const load = vi.spyOn(services.store, 'loadWithFormat');
  let events = 0;
  const off = services.events.subscribe((e, p) => {
    if (e === 'workspace:changed' && (p as { id: string }).id === workspaceId) events++;
  });
  try {
    await fn();
    // Late file-watcher events (the state file and its lock changed) must not publish again: give them time to come.
    await delay(600);
    return { builds: snapshot.mock.calls.length, events, reads: load.mock.calls.length };
  } finally {
    off();
    snapshot.mockRestore();
    load.mockRestore();
  }
}

describe('one operation, one snapshot', () => {
  it('cluster:stop builds one snapshot, emits one workspace:changed and reads the state once besides its transaction', async () => {
    const entry = await call('cluster:create-demo', { folder: join(dir, 'cluster') });
    await call('cluster:start', { workspaceId: entry.id });
    const cost = await measure(entry.id, () => call('cluster:stop', { workspaceId: entry.id }));
    expect(cost).toEqual({ builds: 1, events: 1, reads: 1 });
  });

  it('federation:stop builds one snapshot, emits one workspace:changed and reads the state once besides its transaction', async () => {
    const entry = await call('federation:create-demo', { folder: join(dir, 'federation') });
    await call('federation:start', { workspaceId: entry.id });
    const cost = await measure(entry.id, () => call('federation:stop', { workspaceId: entry.id }));
    expect(cost).toEqual({ builds: 1, events: 1, reads: 1 });
    await call('federation:clean', { workspaceId: entry.id });
  });
});
