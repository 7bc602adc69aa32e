import { describe, expect, it } from 'vitest';
import type { VmView, WorkspaceChange, WorkspaceSnapshot } from '../../preload/contract';
import { applyPatch } from '../../preload/snapshot-patch';
import { wirePayload } from '../ipc/events';
import { SnapshotHolder } from './snapshot';

const vm = (name: string, state = 'RUNNING'): VmView => ({
  name,
  role: 'compute',
  state,
  ipAddress: null,
  ipVerified: false,
  cpuCores: 1,
  memoryGb: 1,
  gpuCount: 0,
  lastSeen: null,
});
const snap = (vms: VmView[], status: WorkspaceSnapshot['status'] = 'running'): WorkspaceSnapshot => ({
  id: 'w',
  kind: 'cluster',
  name: 'big',
  path: '',
  statePath: '',
  status,
  serial: 1,
  lineage: null,
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
  cluster: { clusterName: 'big', vms, networks: [], volumes: [], pools: [] },
});

describe('SnapshotHolder', () => {
  it('announces the first snapshot whole, then patches against the one copy it holds', () => {
    const holder = new SnapshotHolder();
    const vms = Array.from({ length: 100 }, (_, i) => vm(`big-compute-${i}`));
    const first = holder.record(snap(vms));
    expect(first.patch).toBeUndefined();
    expect(first.snapshot?.cluster?.vms).toHaveLength(100);

    const next = snap(vms.map((v, i) => (i === 3 ? vm(v.name, 'SHUTOFF') : { ...v })));
    const second = holder.record(next);
    expect(second).toMatchObject({ base: first.seq, seq: first.seq + 1, patch: { cluster: { vms: { set: [{ name: 'big-compute-3', state: 'SHUTOFF' }] } } } });
    // The window's copy, patched, equals what main now holds — which is the only copy main keeps.
    expect({ ...applyPatch(first.snapshot!, second.patch!), seq: second.seq }).toEqual(holder.get('w'));
    expect(holder.get('w')).toBe(second.snapshot);
  });

  it('answers a window with the held copy while nothing changed, and records (and announces) a change', () => {
    const holder = new SnapshotHolder();
    const first = holder.record(snap([vm('a')]));
    const same = holder.reconcile(snap([vm('a')]));
    expect(same.change).toBeNull();
    expect(same.snapshot).toBe(first.snapshot);
    const moved = holder.reconcile(snap([vm('a')], 'stopped'));
    expect(moved.change).toMatchObject({ base: first.seq, patch: { fields: { status: 'stopped' } } });
    expect(moved.snapshot.seq).toBe(moved.change!.seq);
    holder.forget('w');
    expect(holder.get('w')).toBeUndefined();
  });

  it('a later holder (a restarted host) never reuses a revision', async () => {
    const a = new SnapshotHolder().record(snap([]));
    await new Promise((r) => setTimeout(r, 5));
    expect(new SnapshotHolder().record(snap([])).seq).toBeGreaterThan(a.seq);
  });
});

describe('wirePayload', () => {
  it('sends a patch without the held snapshot, and a whole snapshot as it is', () => {
    const holder = new SnapshotHolder();
    const first = holder.record(snap([vm('a')]));
    const second = holder.record(snap([vm('a', 'SHUTOFF')]));
    expect(wirePayload('workspace:changed', first)).toBe(first);
    const slim = wirePayload('workspace:changed', second) as WorkspaceChange;
    expect(slim.snapshot).toBeUndefined();
    expect(slim).toEqual({ id: 'w', seq: second.seq, base: first.seq, patch: second.patch });
    const list = [] as const;
    expect(wirePayload('workspaces:changed', list)).toBe(list);
  });
});
