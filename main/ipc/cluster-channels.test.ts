/** The cluster channels as the window and the tray use them: the real handler table, demo workspaces, the test driver. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventMap, EventName, ProgressEvent, WorkspaceChange } from '../../preload/contract';
import { openLibvirtHost } from '../clusters/libvirt/host';
import { saveTestHost, testHostFile } from '../clusters/libvirt/test-host';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';
import { vmDriftNotes } from '../workspaces/snapshot';
import type { HandlerTable } from './dispatch';
import { createHandlerTable } from './table';
import { tableCaller } from '../../test/support/ipc-call';

let dataDir: string;
let services: AppServices;
let table: HandlerTable;
const { call, refusal } = tableCaller(() => table);
let events: [EventName, unknown][];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cd-cluster-channels-'));
  services = await composeServices({ dataDir, settingsBackend: confBackend(dataDir), host: 'serve', warn: () => undefined });
  table = createHandlerTable(services);
  events = [];
  services.events.subscribe(<E extends EventName>(e: E, p: EventMap[E]) => void events.push([e, p]));
});
afterEach(async () => {
  services.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

/** The snapshots published for a workspace since `from` (an index into `events`). */
const published = (id: string, from = 0) =>
  events
    .slice(from)
    .filter(([e, p]) => e === 'workspace:changed' && (p as WorkspaceChange).id === id)
    .map(([, p]) => (p as WorkspaceChange).snapshot!);

describe('cluster channels', () => {
  it('demo → start → refresh with drift on VmView → stop → destroy with the typed confirmation', async () => {
    const entry = await call('cluster:create-demo', {});
    expect(entry).toMatchObject({ kind: 'cluster', name: 'demo-1', path: join(dataDir, 'demos', 'cluster-1', 'cluster.yaml') });
    expect((await call('cluster:create-demo', {})).name).toBe('demo-2');
    const yaml = await readFile(entry.path, 'utf8');
    const uri = /libvirt_uri: "([^"]+)"/.exec(yaml)![1]!;
    expect(testHostFile(uri)).toBe(join(dataDir, 'demos', 'cluster-1', 'host.xml'));
    expect((await call('workspace:snapshot', { workspaceId: entry.id })).status).toBe('none');

    expect(await call('cluster:validate', { workspaceId: entry.id })).toMatchObject({ valid: true });
    let mark = events.length;
    const started = await call('cluster:start', { workspaceId: entry.id });
    expect(started).toEqual({ opId: expect.any(String), outcomes: expect.any(Array) });
    const [afterStart, ...more] = published(entry.id, mark);
    expect(more).toEqual([]);
    expect(afterStart!.status).toBe('running');
    expect(afterStart!.operation).toBeNull();
    expect(afterStart!.cluster!.vms.map((v) => [v.name, v.role, v.state])).toEqual([
      ['demo-1-controller', 'controller', 'RUNNING'],
      ['demo-1-compute-01', 'compute', 'RUNNING'],
      ['demo-1-compute-02', 'compute', 'RUNNING'],
      ['demo-1-compute-03', 'compute', 'RUNNING'],
    ]);
    const progress = events.filter(([e]) => e === 'operation:progress').map(([, p]) => p as ProgressEvent);
    expect(progress.every((p) => p.opId === started.opId && p.operation === 'cluster:start')).toBe(true);
    expect(new Set(progress.map((p) => p.target))).toEqual(
      new Set(['', 'demo-1-network', 'demo-1-pool', 'demo-1-controller', 'demo-1-compute-01', 'demo-1-compute-02', 'demo-1-compute-03']),
    );
    // The snapshot is published before the operation is announced finished, and the finished event carries the outcomes.
    const names = events
      .slice(mark)
      .map(([e]) => e)
      .filter((e) => e !== 'operation:progress');
    expect(names).toEqual(['workspace:changed', 'operation:finished']);
    expect(events.at(-1)![1]).toMatchObject({ opId: started.opId, ok: true, outcomes: started.outcomes });
    expect(services.registry.get(entry.id).lineage).toBe(afterStart!.lineage);

    const h = await openLibvirtHost(uri);
    try {
      await h.suspendDomain('demo-1-compute-02');
      await saveTestHost(h, testHostFile(uri)!);
    } finally {
      await h.close();
    }
    mark = events.length;
    const dry = await call('cluster:refresh', { workspaceId: entry.id });
    expect(dry.applied).toBe(false);
    expect(
      published(entry.id, mark)
        .at(-1)!
        .cluster!.vms.find((v) => v.name === 'demo-1-compute-02'),
    ).toMatchObject({ state: 'RUNNING', drift: 'libvirt says PAUSED' });
    expect((await call('workspace:snapshot', { workspaceId: entry.id })).cluster!.vms.find((v) => v.name === 'demo-1-compute-02')?.drift).toBe(
      'libvirt says PAUSED',
    );
    mark = events.length;
    await call('cluster:refresh', { workspaceId: entry.id, apply: true });
    const applied = published(entry.id, mark).at(-1)!;
    expect(applied.cluster!.vms.find((v) => v.name === 'demo-1-compute-02')).toMatchObject({ state: 'PAUSED' });
    expect(applied.cluster!.vms.every((v) => v.drift === undefined)).toBe(true);

    mark = events.length;
    const stopped = await call('cluster:stop', { workspaceId: entry.id });
    expect(published(entry.id, mark).map((s) => s.status)).toEqual(['stopped']);
    expect(stopped.outcomes.map((o) => o.result)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);

    expect(await refusal('cluster:destroy', { workspaceId: entry.id, confirm: 'demo' })).toMatchObject({ code: 'confirmation-required' });
    mark = events.length;
    await call('cluster:destroy', { workspaceId: entry.id, confirm: 'demo-1' });
    expect(published(entry.id, mark).map((s) => s.status)).toEqual(['none']);
  });

  it('one operation per workspace: a second one answers busy, naming the running one', async () => {
    const entry = await call('cluster:create-demo', { folder: join(dataDir, 'mine') });
    expect(entry.name).toBe('demo');
    const first = call('cluster:start', { workspaceId: entry.id });
    const busy = await refusal('cluster:stop', { workspaceId: entry.id });
    expect(busy).toMatchObject({ code: 'busy', details: { operation: 'cluster:start' } });
    await first;
    expect(await refusal('cluster:create-demo', { folder: join(dataDir, 'mine') })).toMatchObject({ code: 'path-refused' });
  });
});

describe('vmDriftNotes', () => {
  it('one note per VM, several differences joined; non-VM drift ignored', () => {
    const notes = vmDriftNotes([
      { kind: 'state-differs', resource: 'vm', name: 'a', recorded: 'RUNNING', actual: 'PAUSED' },
      { kind: 'ip-differs', resource: 'vm', name: 'a', recorded: '10.0.0.2', actual: '10.0.0.9' },
      { kind: 'missing', resource: 'vm', name: 'b', recorded: 'RUNNING', actual: null },
      { kind: 'unrecorded', resource: 'vm', name: 'c', recorded: null, actual: 'RUNNING' },
      { kind: 'missing', resource: 'network', name: 'n', recorded: '10.0.0.0/24', actual: null },
    ]);
    expect([...notes]).toEqual([
      ['a', 'libvirt says PAUSED; IP is 10.0.0.9'],
      ['b', 'missing from libvirt'],
      ['c', 'not recorded'],
    ]);
  });
});
