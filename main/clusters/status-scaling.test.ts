/**
 * Issue #10: `hpc status` was quadratic (the VM list rebuilt once per VM). This test catches that class of regression
 * without timing anything: it counts every read of the recorded VM list, of each VM record and of each record libvirt
 * reported while `observe` compares them, at n and at 2n VMs on the real test driver. Linear work reads about twice as
 * much at 2n; a per-VM scan or copy of the list reads four times as much.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempTestHost, testOwner, type TempTestHost } from '../../test/support/libvirt-host';
import type { ClusterState } from '../state';
import type { LibvirtHost } from './libvirt/types';
import { observe } from './refresh';
import { patchVm, type ClusterVm } from './records';

const CLUSTER = 'scale';
const N = 60;
const vmName = (i: number) => `${CLUSTER}-compute-${String(i + 1).padStart(3, '0')}`;

let tmp: TempTestHost;
let host: LibvirtHost;

beforeAll(async () => {
  // 2N domains of ours; every third one off, so states drift from the record (all RUNNING) and both paths run.
  const owner = testOwner(CLUSTER);
  tmp = await createTempTestHost({
    domains: Array.from({ length: 2 * N }, (_, i) => ({ name: vmName(i), state: i % 3 === 0 ? ('SHUTOFF' as const) : ('RUNNING' as const), owner })),
  });
  host = await tmp.open();
}, 120_000);

afterAll(async () => {
  await host?.close();
  await tmp?.cleanup();
});

/** Counts property reads on an object (and, for arrays, on every element read through it). */
function counted<T extends object>(value: T, counter: { reads: number }): T {
  return new Proxy(value, {
    get(target, prop, receiver) {
      counter.reads++;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

function recorded(n: number, counter: { reads: number }): ClusterState {
  const vms: ClusterVm[] = [];
  for (let i = 0; i < n; i++) {
    const vm: ClusterVm = {
      name: vmName(i),
      cpu_cores: 1,
      memory_gb: 1,
      state: 'RUNNING',
      ip_address: `10.0.0.${i + 2}`,
      gpu_count: 0,
      volumes: [],
      created_at: '2026-11-30T00:00:00.000Z',
      last_seen: null,
      mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`,
      role: 'compute',
      ip_verified: false,
    };
    vms.push(counted(vm, counter));
  }
  return {
    cluster_name: CLUSTER,
    cluster_type: 'hpc',
    status: 'running',
    created_at: '2026-11-30T00:00:00.000Z',
    lineage: testOwner(CLUSTER).lineage,
    vms: counted(vms, counter),
    networks: [],
    volumes: [],
    pools: [],
  };
}

/** The reads `observe` makes of the record and of libvirt's answer for the first `n` VMs (the other N are unrecorded). */
async function readsAt(n: number): Promise<{ reads: number; drift: number; vms: number }> {
  const counter = { reads: 0 };
  const state = recorded(n, counter);
  // Only the first n domains exist for this run: the rest would be unrecorded VMs of ours (read per VM through
  // libvirt, a cost of its own), so the host answers with a counted view of the first n.
  const view = new Proxy(host, {
    get(target, prop) {
      if (prop === 'domainStats') {
        return async () => (await target.domainStats()).filter((d) => Number(/(\d+)$/.exec(d.name)?.[1]) <= n).map((d) => counted({ ...d }, counter));
      }
      return Reflect.get(target, prop, target) as unknown;
    },
  });
  const seen = await observe(view, state, null);
  return { reads: counter.reads, drift: seen.drift.length, vms: seen.next.vms.length };
}

describe('status scales linearly with the VM count', () => {
  it('observe reads the record and libvirt’s answer a bounded number of times per VM, at n and at 2n', async () => {
    const small = await readsAt(N);
    const large = await readsAt(2 * N);
    expect(small.vms).toBe(N);
    expect(large.vms).toBe(2 * N);
    expect(small.drift).toBe(N / 3);
    expect(large.drift).toBe((2 * N) / 3);
    // Linear: twice the VMs, about twice the reads (a per-VM pass over the list would be about 4x).
    expect(large.reads / small.reads).toBeLessThan(2.5);
    expect(small.reads / N).toBeLessThan(80);
  });

  it('the counter does catch a quadratic pass (the per-VM patch loop status once used)', () => {
    const reads = (n: number) => {
      const counter = { reads: 0 };
      let s = recorded(n, counter);
      for (let i = 0; i < n; i++) s = patchVm(s, vmName(i), { last_seen: 'now' });
      return counter.reads;
    };
    expect(reads(2 * N) / reads(N)).toBeGreaterThan(3);
  });
});
