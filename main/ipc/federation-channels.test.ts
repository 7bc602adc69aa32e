/** The federation channels as the window and the tray use them: the real handler table, the demo federation (local machines). */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceChange, WorkspaceSnapshot } from '../../preload/contract';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import type { SettingsBackend } from '../settings/settings';
import type { HandlerTable } from './dispatch';
import { createHandlerTable } from './table';
import { tableCaller } from '../../test/support/ipc-call';

function memoryBackend(): SettingsBackend {
  const data = new Map<string, unknown>();
  return { get: (k) => data.get(k), set: (k, v) => void data.set(k, v), path: ':memory:' };
}

let dataDir: string;
let services: AppServices;
let table: HandlerTable;
const { call, refusal } = tableCaller(() => table);
const snapshots: WorkspaceSnapshot[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cd-fed-channels-'));
  services = await composeServices({ dataDir, settingsBackend: memoryBackend(), host: 'serve', warn: () => undefined });
  table = createHandlerTable(services);
  services.events.subscribe((e, p) => void (e === 'workspace:changed' && snapshots.push((p as WorkspaceChange).snapshot!)));
});

afterAll(async () => {
  services?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

const lastOf = (id: string) => snapshots.filter((s) => s.id === id).at(-1);

describe('federation channels', () => {
  it('demo federation: start → probe → stop → clean, each publishing the new snapshot', async () => {
    const entry = await call('federation:create-demo', {});
    expect(entry.kind).toBe('federation');
    expect(entry.path).toBe(join(dataDir, 'demos', 'federation-1'));
    expect((await call('federation:create-demo', {})).path).toBe(join(dataDir, 'demos', 'federation-2'));

    const events: string[] = [];
    const off = services.runner.subscribe({ progress: (e) => events.push(`${e.operation}:${e.target}:${e.step}`), finished: () => undefined });
    const started = await call('federation:start', { workspaceId: entry.id });
    off();
    const running = lastOf(entry.id)!;
    expect(running.status).toBe('running');
    expect(running.operation).toBeNull();
    expect(running.federation?.machines.map((m) => m.name)).toEqual(['server1', 'site-1', 'site-2']);
    expect(started.outcomes.map((o) => o.result)).toEqual(['started', 'started', 'started']);
    expect(events).toContain('federation:start:site-1:upload');
    expect(services.registry.get(entry.id).lineage).toBe(running.lineage);

    const logs = await call('federation:logs', { workspaceId: entry.id, lines: 3 });
    expect(logs.map((l) => l.machine)).toEqual(['server1', 'site-1', 'site-2']);
    expect(logs.every((l) => !l.error)).toBe(true);
    const probes = await call('federation:probe', { workspaceId: entry.id });
    expect(probes.map((p) => p.reachable)).toEqual([true, true, true]);

    const stopped = await call('federation:stop', { workspaceId: entry.id });
    expect(lastOf(entry.id)!.status).toBe('dirty');
    expect(stopped.outcomes.map((o) => o.target)).toEqual(['server1', 'site-1', 'site-2']);
    const again = await call('federation:stop', { workspaceId: entry.id });
    // Stop again is safe and lists every recorded machine.
    expect(again.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['server1', 'already stopped'],
      ['site-1', 'already stopped'],
      ['site-2', 'already stopped'],
    ]);
    // Dirty with folders to clean: start is refused (they would be forgotten).
    expect(await refusal('federation:start', { workspaceId: entry.id })).toMatchObject({ code: 'state-wrong-status', details: { opId: expect.any(String) } });
    await call('federation:clean', { workspaceId: entry.id });
    expect(lastOf(entry.id)!.status).toBe('clean');
    expect(existsSync(join(entry.path, '.refedez'))).toBe(false);
  });

  it('restore of a `running` generation over a stopped federation probes the machines: one probe outcome per machine', async () => {
    const entry = (await call('workspaces:list', {})).find((e) => e.path === join(dataDir, 'demos', 'federation-2'))!;
    await call('federation:start', { workspaceId: entry.id });
    await call('federation:stop', { workspaceId: entry.id });
    expect(lastOf(entry.id)!.status).toBe('dirty');
    const running = (await call('state:backups', { workspaceId: entry.id })).find((b) => b.status === 'running' && b.valid)!;
    const restored = await call('state:restore', { workspaceId: entry.id, backupId: running.id });
    expect(lastOf(entry.id)!.status).toBe('running');
    // The probe that follows the restore answers for every recorded machine (a stopped participant may still be
    // exiting: `alive` or `exited`, never a silent restore); these outcomes are the drift mark's input.
    expect(restored.outcomes.map((o) => o.target)).toEqual(['server1', 'site-1', 'site-2']);
    for (const o of restored.outcomes) expect(['alive', 'exited']).toContain(o.result);
    await call('federation:stop', { workspaceId: entry.id });
    await call('federation:clean', { workspaceId: entry.id });
    expect(lastOf(entry.id)!.status).toBe('clean');
  });

  it('busy: a second mutation while one runs is refused', async () => {
    const entry = await call('federation:create-demo', {});
    const first = call('federation:start', { workspaceId: entry.id });
    expect(await refusal('federation:stop', { workspaceId: entry.id })).toMatchObject({ code: 'busy' });
    await first;
    expect(lastOf(entry.id)!.status).toBe('running');
    await call('federation:clean', { workspaceId: entry.id, force: true });
    expect(lastOf(entry.id)!.status).toBe('clean');
  });

  it('trust-host for a host the federation does not use is refused', async () => {
    const entry = await call('federation:create-demo', {});
    expect(
      await refusal('federation:trust-host', { workspaceId: entry.id, host: '127.0.0.99', port: 22, fingerprint: `SHA256:${'A'.repeat(43)}` }),
    ).toMatchObject({
      code: 'not-found',
    });
    expect(await refusal('federation:trust-host', { workspaceId: entry.id, host: '127.0.0.99', port: 22, fingerprint: 'md5:xx' })).toMatchObject({
      code: 'invalid-argument',
    });
  });
});
