import { describe, expect, it } from 'vitest';
import type { VmView, WorkspaceSnapshot } from '../../../preload/contract';
import { diffSnapshot } from '../../../preload/snapshot-patch';
import { applyChange, takeSnapshot } from './workspace-changes';

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
const snap = (seq: number, vms: VmView[]): WorkspaceSnapshot => ({
  id: 'w',
  kind: 'cluster',
  name: 'big',
  path: '',
  statePath: '',
  status: 'running',
  serial: 1,
  lineage: null,
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
  cluster: { clusterName: 'big', vms, networks: [], volumes: [], pools: [] },
  seq,
});

describe('workspace:changed in the window', () => {
  const vms = Array.from({ length: 50 }, (_, i) => vm(`big-compute-${i}`));
  const a = snap(10, vms);
  const b = snap(
    11,
    vms.map((v, i) => (i === 7 ? vm(v.name, 'SHUTOFF') : { ...v })),
  );

  it('applies a patch on its base in place: only the changed VM is a new object', () => {
    const out = applyChange({ w: a }, { id: 'w', seq: 11, base: 10, patch: diffSnapshot(a, b) });
    if (out.kind !== 'applied') throw new Error(out.kind);
    const next = out.map['w']!;
    expect(next.seq).toBe(11);
    expect(next.cluster!.vms[7]!.state).toBe('SHUTOFF');
    expect(next.cluster!.vms.filter((v, i) => v === vms[i])).toHaveLength(49);
  });

  it('asks for a whole snapshot when it missed a change or holds none, and ignores an old one', () => {
    const patch = diffSnapshot(a, b);
    expect(applyChange({ w: snap(9, vms) }, { id: 'w', seq: 11, base: 10, patch }).kind).toBe('resync');
    expect(applyChange({}, { id: 'w', seq: 11, base: 10, patch }).kind).toBe('resync');
    expect(applyChange({ w: snap(12, vms) }, { id: 'w', seq: 11, base: 10, patch }).kind).toBe('stale');
  });

  it('takes a whole snapshot from the event, and from a fetch unless a later patch already arrived', () => {
    const out = applyChange({}, { id: 'w', seq: 11, snapshot: b });
    expect(out.kind === 'applied' && out.map['w']).toEqual(b);
    expect(takeSnapshot({ w: snap(12, vms) }, b)['w']!.seq).toBe(12);
    expect(takeSnapshot({ w: a }, b)['w']).toBe(b);
    const placeholder = { ...b, seq: undefined };
    expect(takeSnapshot({ w: snap(12, vms) }, placeholder)['w']).toBe(placeholder);
  });
});
