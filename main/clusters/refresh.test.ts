/** refresh / status against the real test driver: drift, apply, IP sources, and failures that must not write. */
import { readFile, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { saveTestHost } from './libvirt/test-host';
import { createClusterEnv } from './env';
import { clusterStatus, refreshCluster } from './refresh';
import { startCluster } from './start';
import { clusterFixture, recordingContext, type ClusterFixture } from '../../test/support/clusters';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

async function behindOurBack(f: ClusterFixture, fn: (h: Awaited<ReturnType<ClusterFixture['host']['open']>>) => Promise<void>): Promise<void> {
  const h = await f.host.open();
  try {
    await fn(h);
    await saveTestHost(h, f.host.file);
  } finally {
    await h.close();
  }
}

describe('refresh', () => {
  it('a domain undefined behind our back is drift; nothing is written until apply, which records it UNDEFINED', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    await startCluster(fx.env, fx.ws, recordingContext());
    await behindOurBack(fx, async (h) => {
      await h.destroyDomain('hpc-compute-02');
      await h.undefineDomain('hpc-compute-02');
      await h.suspendDomain('hpc-compute-01');
    });
    const before = await readFile(fx.ws.statePath);
    const dry = await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: false });
    expect(dry.applied).toBe(false);
    expect(dry.drift).toEqual([
      { kind: 'state-differs', resource: 'vm', name: 'hpc-compute-01', recorded: 'RUNNING', actual: 'PAUSED' },
      { kind: 'missing', resource: 'vm', name: 'hpc-compute-02', recorded: 'RUNNING', actual: null },
    ]);
    expect(await readFile(fx.ws.statePath)).toEqual(before);

    const applied = await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true });
    expect(applied.applied).toBe(true);
    expect(applied.drift).toEqual(dry.drift);
    const st = (await fx.state())!;
    expect(st.vms.map((v) => [v.name, v.state])).toEqual([
      ['hpc-controller', 'RUNNING'],
      ['hpc-compute-01', 'PAUSED'],
      ['hpc-compute-02', 'UNDEFINED'],
    ]);
    expect(st.status).toBe('partial');
    // Recorded now: a second refresh has nothing to report.
    expect((await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: false })).drift).toEqual([]);
  });

  it('ours but unrecorded: a VM of ours missing from the state is reported, and recorded on apply', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    await startCluster(fx.env, fx.ws, recordingContext());
    // Simulate a start that crashed between creating hpc-compute-02 and recording it.
    await fx.store.update({ kind: 'cluster', file: fx.ws.statePath }, 'test', (s) => ({ ...s!, vms: s!.vms.filter((v) => v.name !== 'hpc-compute-02') }));
    const report = await clusterStatus(fx.env, fx.ws);
    expect(report.drift).toEqual([{ kind: 'unrecorded', resource: 'vm', name: 'hpc-compute-02', recorded: null, actual: 'RUNNING' }]);
    await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true });
    const vm = (await fx.state())!.vms.find((v) => v.name === 'hpc-compute-02');
    expect(vm).toMatchObject({ state: 'RUNNING', cpu_cores: 2, memory_gb: 2, ip_address: '10.88.0.22' });
  });

  it('interface addresses are used when the driver reports one in the cluster subnet (real calls, opt-in on the test driver)', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const env = createClusterEnv({ store: fx.store, processEnv: {}, testDriverAddresses: true });
    try {
      const report = await clusterStatus(env, fx.ws);
      const vms = report.state!.vms as readonly { name: string; ip_address: string | null; ip_verified?: boolean }[];
      for (const vm of vms) {
        expect(vm.ip_verified).toBe(true);
        expect(vm.ip_address).toMatch(/^10\.88\.0\.\d+$/);
      }
      // The test driver invents its addresses, so they differ from the reservations: reported as IP drift.
      const recorded = new Map((await fx.state())!.vms.map((v) => [v.name, v.ip_address]));
      const differs = report.drift.filter((d) => d.kind === 'ip-differs');
      expect(differs.map((d) => d.name).sort()).toEqual(
        vms
          .filter((v) => v.ip_address !== recorded.get(v.name))
          .map((v) => v.name)
          .sort(),
      );
    } finally {
      await env.dispose();
    }
  });

  it('a connection failure (host file gone) never changes the state: byte for byte, with and without apply', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const before = await readFile(fx.ws.statePath);
    await rm(fx.host.file);
    await expect(refreshCluster(fx.env, fx.ws, recordingContext(), { apply: false })).rejects.toMatchObject({ code: 'libvirt-conn' });
    await expect(refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true })).rejects.toMatchObject({ code: 'libvirt-conn' });
    expect(await readFile(fx.ws.statePath)).toEqual(before);
  });

  it('a bad URI setting: typed error, state untouched', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const before = await readFile(fx.ws.statePath);
    const ws = { ...fx.ws, libvirtUri: 'test:///nonexistent/dir/host.xml' };
    await expect(refreshCluster(fx.env, ws, recordingContext(), { apply: true })).rejects.toMatchObject({ code: 'libvirt-conn' });
    await expect(clusterStatus(fx.env, { ...fx.ws, libvirtUri: 'bogus+proto:///x' })).rejects.toHaveProperty('code');
    expect(await readFile(fx.ws.statePath)).toEqual(before);
  });

  it('nothing recorded: no drift, nothing written', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    expect(await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true })).toEqual({ drift: [], applied: false, state: null });
    expect(await fx.state()).toBeNull();
  });
});
