/**
 * `app:tray-template` and `app:tray-click` through the real handler table, a demo cluster on libvirt's test driver:
 * the template follows the events (never a state read of its own after the first), and a click runs the window's call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrayMenuItem, TrayTemplate } from '../../preload/contract';
import { tableCaller } from '../../test/support/ipc-call';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';
import type { HandlerTable } from './dispatch';
import { createHandlerTable } from './table';

let dataDir: string;
let services: AppServices;
let table: HandlerTable;
const { call, refusal } = tableCaller(() => table);
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cd-tray-channels-'));
  services = await composeServices({ dataDir, settingsBackend: confBackend(dataDir), host: 'serve', warn: () => undefined });
  table = createHandlerTable(services);
});
afterEach(async () => {
  services.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

const sub = (t: TrayTemplate, id: string): readonly TrayMenuItem[] => t.items.find((i) => i.id === `ws:${id}`)?.submenu ?? [];
const enabled = (items: readonly TrayMenuItem[]) => items.filter((i) => i.action && i.enabled).map((i) => i.label);

describe('tray channels', () => {
  it('template follows start and stop run by tray clicks; disabled items are refused with the rule’s reason', async () => {
    const entry = await call('cluster:create-demo', {});
    let t = await call('app:tray-template', {});
    expect(t.items.find((i) => i.id === `ws:${entry.id}`)?.label).toBe('demo-1 — none');
    expect(enabled(sub(t, entry.id))).toEqual(['Start']);

    const stopRefused = await refusal('app:tray-click', { itemId: `ws:${entry.id}:cluster:stop` });
    expect(stopRefused).toMatchObject({ code: 'state-wrong-status', message: expect.stringContaining('start the cluster first') });
    expect((await refusal('app:tray-click', { itemId: 'nope' })).code).toBe('not-found');
    expect((await refusal('app:tray-click', { itemId: 'open' })).code).toBe('unsupported');

    // From here on the template is built from events alone: no snapshot is built for it.
    const snapshot = vi.spyOn(services, 'snapshot');
    const started = await call('app:tray-click', { itemId: `ws:${entry.id}:cluster:start` });
    expect(started.invoked).toEqual([{ channel: 'cluster:start', workspaceId: entry.id, opId: expect.any(String) }]);
    t = await call('app:tray-template', {});
    expect(t.icon).toBe('idle');
    expect(enabled(sub(t, entry.id))).toEqual(['Stop', 'Refresh']);
    expect(sub(t, entry.id).find((i) => i.id === `ws:${entry.id}:last`)?.label).toBe('Last: Start cluster — 4 started');
    // The one publish of the operation builds one snapshot; the tray added none.
    expect(snapshot).toHaveBeenCalledTimes(1);

    const all = await call('app:tray-click', { itemId: 'refresh-all' });
    expect(all.invoked.map((i) => i.channel)).toEqual(['cluster:refresh']);
    await call('app:tray-click', { itemId: `ws:${entry.id}:cluster:stop` });
    t = await call('app:tray-template', {});
    expect(enabled(sub(t, entry.id))).toEqual(['Start', 'Refresh']);
    expect(sub(t, entry.id)[0]?.label).toBe('Status: stopped');
  });
});
