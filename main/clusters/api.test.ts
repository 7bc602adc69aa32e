/** The facade as the app uses it: composed services, the runner, demo workspaces and snapshots (real test driver). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventMap, EventName, ProgressEvent } from '../../preload/contract';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';
import { vmDriftNotes } from './api';
import { openLibvirtHost } from './libvirt/host';
import { saveTestHost, testHostFile } from './libvirt/test-host';

let dataDir: string;
let services: AppServices;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cd-cluster-api-'));
  services = await composeServices({ dataDir, settingsBackend: confBackend(dataDir), host: 'serve', warn: () => undefined });
});
afterEach(async () => {
  services.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ClusterFacade', () => {
  it('demo → start → refresh with drift on VmView → stop → destroy with the typed confirmation', async () => {
    const events: [EventName, unknown][] = [];
    services.events.subscribe(<E extends EventName>(e: E, p: EventMap[E]) => void events.push([e, p]));
    const clusters = services.clusters!;
    const entry = await clusters.createDemo();
    expect(entry).toMatchObject({ kind: 'cluster', name: 'demo-1', path: join(dataDir, 'demos', 'cluster-1', 'cluster.yaml') });
    expect((await clusters.createDemo()).name).toBe('demo-2');
    const yaml = await readFile(entry.path, 'utf8');
    const uri = /libvirt_uri: "([^"]+)"/.exec(yaml)![1]!;
    expect(testHostFile(uri)).toBe(join(dataDir, 'demos', 'cluster-1', 'host.xml'));
    expect((await services.snapshot(entry.id)).status).toBe('none');

    expect(await clusters.validate(entry.id)).toMatchObject({ valid: true });
    const started = await clusters.start(entry.id);
    expect(started.snapshot.status).toBe('running');
    expect(started.snapshot.cluster!.vms.map((v) => [v.name, v.role, v.state])).toEqual([
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
    expect(events.some(([e, p]) => e === 'operation:finished' && (p as { ok: boolean }).ok)).toBe(true);
    expect(services.registry.get(entry.id).lineage).toBe(started.snapshot.lineage);

    const h = await openLibvirtHost(uri);
    try {
      await h.suspendDomain('demo-1-compute-02');
      await saveTestHost(h, testHostFile(uri)!);
    } finally {
      await h.close();
    }
    const dry = await clusters.refresh(entry.id, false);
    expect(dry.applied).toBe(false);
    expect(dry.snapshot.cluster!.vms.find((v) => v.name === 'demo-1-compute-02')).toMatchObject({ state: 'RUNNING', drift: 'libvirt says PAUSED' });
    expect((await services.snapshot(entry.id)).cluster!.vms.find((v) => v.name === 'demo-1-compute-02')?.drift).toBe('libvirt says PAUSED');
    const applied = await clusters.refresh(entry.id, true);
    expect(applied.snapshot.cluster!.vms.find((v) => v.name === 'demo-1-compute-02')).toMatchObject({ state: 'PAUSED' });
    expect(applied.snapshot.cluster!.vms.every((v) => v.drift === undefined)).toBe(true);

    const stopped = await clusters.stop(entry.id);
    expect(stopped.snapshot.status).toBe('stopped');
    expect(stopped.outcomes.map((o) => o.result)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);

    await expect(clusters.destroy(entry.id, 'demo')).rejects.toMatchObject({ code: 'confirmation-required' });
    const destroyed = await clusters.destroy(entry.id, 'demo-1');
    expect(destroyed.snapshot.status).toBe('none');
  });

  it('one operation per workspace: a second one answers busy', async () => {
    const clusters = services.clusters!;
    const entry = await clusters.createDemo(join(dataDir, 'mine'));
    expect(entry.name).toBe('demo');
    const first = clusters.start(entry.id);
    await expect(clusters.stop(entry.id)).rejects.toMatchObject({ code: 'busy' });
    await first;
    await expect(clusters.createDemo(join(dataDir, 'mine'))).rejects.toMatchObject({ code: 'path-refused' });
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
