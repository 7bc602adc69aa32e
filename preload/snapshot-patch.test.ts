import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterDetail, FederationDetail, VmView, WorkspaceSnapshot } from './contract';
import { applyKeyed, applyPatch, deepEqual, diffKeyed, diffSnapshot, isEmptyPatch } from './snapshot-patch';

/** A JSON round trip: what a patch looks like after the wire (undefined fields gone). */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const names = fc.constantFrom(...Array.from({ length: 14 }, (_, i) => `hpc-compute-${String(i).padStart(2, '0')}`));

const vm: fc.Arbitrary<VmView> = fc.record(
  {
    name: names,
    role: fc.constantFrom('controller', 'compute', 'other'),
    state: fc.constantFrom('RUNNING', 'SHUTOFF', 'PAUSED', 'UNDEFINED'),
    ipAddress: fc.option(fc.constantFrom('10.0.0.1', '10.0.0.2')),
    ipVerified: fc.boolean(),
    cpuCores: fc.integer({ min: 1, max: 4 }),
    memoryGb: fc.constantFrom(1, 2, 0.5),
    gpuCount: fc.integer({ min: 0, max: 1 }),
    lastSeen: fc.option(fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')),
    drift: fc.constantFrom('libvirt says SHUTOFF', 'missing from libvirt'),
  },
  { requiredKeys: ['name', 'role', 'state', 'ipAddress', 'ipVerified', 'cpuCores', 'memoryGb', 'gpuCount', 'lastSeen'] },
);

const cluster: fc.Arbitrary<ClusterDetail> = fc.record({
  clusterName: fc.constantFrom('hpc', 'big'),
  vms: fc.uniqueArray(vm, { selector: (v) => v.name, maxLength: 10 }),
  networks: fc.array(
    fc.record({
      name: fc.constantFrom('n1', 'n2'),
      subnet: fc.constant('10.0.0.0/24'),
      bridge: fc.constant('br'),
      activeIps: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2')),
    }),
    { maxLength: 2 },
  ),
  volumes: fc.uniqueArray(fc.record({ name: names, path: fc.constantFrom('/p/a', '/p/b'), sizeGb: fc.constantFrom(20, 40), format: fc.constant('qcow2') }), {
    selector: (v) => v.name,
    maxLength: 6,
  }),
  pools: fc.array(fc.record({ name: fc.constant('pool'), path: fc.constantFrom('/p', '/q') }), { maxLength: 1 }),
});

const federation: fc.Arbitrary<FederationDetail> = fc.record({
  deployedFilesPath: fc.option(fc.constant('/d')),
  machines: fc.array(
    fc.record({
      name: fc.constantFrom('server', 'site-1'),
      kind: fc.constantFrom('local' as const, 'remote' as const),
      host: fc.constant('127.0.0.1'),
      port: fc.constant(22),
      user: fc.constant('u'),
      tmpDir: fc.constant('/tmp/x'),
      startedAt: fc.option(fc.constant('t')),
      pid: fc.option(fc.integer({ min: 1, max: 9 })),
    }),
    { maxLength: 2 },
  ),
});

const snapshot: fc.Arbitrary<WorkspaceSnapshot> = fc
  .record({
    status: fc.constantFrom('running', 'stopped', 'partial', null),
    serial: fc.option(fc.integer({ min: 1, max: 5 })),
    lineage: fc.option(fc.constantFrom('l1', 'l2')),
    lastModified: fc.option(fc.constant('2026-01-01T00:00:00Z')),
    lock: fc.option(
      fc.record({
        id: fc.constant('k'),
        pid: fc.integer({ min: 1, max: 3 }),
        host: fc.constant('h'),
        operation: fc.constant('o'),
        since: fc.constant('s'),
        stale: fc.boolean(),
      }),
    ),
    error: fc.option(fc.record({ code: fc.constantFrom('state-corrupt' as const, 'state-foreign' as const), message: fc.constantFrom('a', 'b') })),
    operation: fc.option(fc.record({ opId: fc.constantFrom('o1', 'o2'), name: fc.constant('cluster:start'), since: fc.constant('t') })),
    cluster: fc.option(cluster, { nil: undefined }),
    federation: fc.option(federation, { nil: undefined }),
  })
  .map((r) => {
    const { cluster: c, federation: f, ...rest } = r;
    return {
      id: 'w',
      kind: 'cluster',
      name: 'hpc',
      path: '/w/cluster.yaml',
      statePath: '/w/output/state.json',
      ...rest,
      ...(c ? { cluster: c } : {}),
      ...(f ? { federation: f } : {}),
    } as WorkspaceSnapshot;
  })
  // Plain objects, as JSON and the snapshot builder make them (fast-check may generate null-prototype records).
  .map((s) => wire(s));

describe('snapshot patches', () => {
  it('apply(diff(a, b), a) deep-equals b, also after a JSON round trip of the patch', () => {
    fc.assert(
      fc.property(snapshot, snapshot, (a, b) => {
        const patch = diffSnapshot(a, b);
        expect(applyPatch(a, patch)).toStrictEqual(b);
        expect(wire(applyPatch(a, wire(patch)))).toStrictEqual(wire(b));
      }),
      { numRuns: 400 },
    );
  });

  it('diff(a, a) is empty and applying it returns the same object', () => {
    fc.assert(
      fc.property(snapshot, (a) => {
        const patch = diffSnapshot(a, wire(a));
        expect(isEmptyPatch(patch)).toBe(true);
        expect(applyPatch(a, patch)).toBe(a);
      }),
    );
  });

  it('keyed lists: apply(diff(a, b), a) equals b and rows not in the patch keep their identity', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(vm, { selector: (v) => v.name, maxLength: 12 }).map(wire),
        fc.uniqueArray(vm, { selector: (v) => v.name, maxLength: 12 }).map(wire),
        (a, b) => {
          // b reuses a's row objects where they are equal, as a fresh build from the same state would produce equal rows.
          const patch = diffKeyed(a, b);
          const out = applyKeyed(a, patch);
          expect(out).toStrictEqual(b);
          const touched = new Set([...(patch?.set ?? []).map((r) => r.name), ...(patch?.remove ?? [])]);
          for (const row of out) {
            const old = a.find((r) => r.name === row.name);
            if (old && !touched.has(row.name)) expect(row).toBe(old);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a change to 2 of 1,000 VMs sends 2 rows, and the other 998 keep their identity', () => {
    const vms: VmView[] = Array.from({ length: 1000 }, (_, i) => ({
      name: `big-compute-${String(i).padStart(4, '0')}`,
      role: 'compute',
      state: 'RUNNING',
      ipAddress: null,
      ipVerified: false,
      cpuCores: 2,
      memoryGb: 2,
      gpuCount: 0,
      lastSeen: null,
    }));
    const base = {
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
    } as const;
    const a: WorkspaceSnapshot = { ...base, cluster: { clusterName: 'big', vms, networks: [], volumes: [], pools: [] } };
    const changed = wire(vms).map((v, i) => (i === 10 || i === 500 ? { ...v, state: 'SHUTOFF', drift: 'libvirt says SHUTOFF' } : v));
    const b: WorkspaceSnapshot = { ...base, serial: 2, cluster: { clusterName: 'big', vms: changed, networks: [], volumes: [], pools: [] } };
    const patch = diffSnapshot(a, b);
    expect(patch).toEqual({ fields: { serial: 2 }, cluster: { vms: { set: [changed[10], changed[500]] } } });
    const out = applyPatch(a, wire(patch));
    expect(out).toStrictEqual(b);
    expect(out.cluster!.vms.filter((v, i) => v === vms[i])).toHaveLength(998);
  });

  it('deepEqual treats absent and undefined properties alike and compares arrays by position', () => {
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(deepEqual({ a: null }, { a: undefined })).toBe(false);
  });
});
