/** The cluster lifecycle on libvirt's real test driver: start → refresh → stop → start → destroy. */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { destroyCluster } from './destroy';
import { ownerOf } from './libvirt/xml';
import { clusterStatus, refreshCluster } from './refresh';
import { startCluster } from './start';
import { stopCluster } from './stop';
import { clusterFixture, hostDomains, recordingContext, type ClusterFixture } from '../../test/support/clusters';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

describe('cluster lifecycle', () => {
  it('start → refresh → stop → start → destroy (list form)', async () => {
    fx = await clusterFixture({ form: 'list', computeNodes: 3 });
    const ctx = recordingContext();
    const started = await startCluster(fx.env, fx.ws, ctx);
    expect(started.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'started'],
      ['hpc-compute-01', 'started'],
      ['hpc-compute-02', 'started'],
      ['hpc-compute-03', 'started'],
    ]);
    const s1 = (await fx.state())!;
    expect(s1.status).toBe('running');
    expect(s1.vms.map((v) => [v.name, v.state, v.ip_address])).toEqual([
      ['hpc-controller', 'RUNNING', '10.88.0.10'],
      ['hpc-compute-01', 'RUNNING', '10.88.0.21'],
      ['hpc-compute-02', 'RUNNING', '10.88.0.22'],
      ['hpc-compute-03', 'RUNNING', '10.88.0.23'],
    ]);
    expect(s1.networks).toEqual([{ name: 'hpc-network', subnet: '10.88.0.0/24', bridge: 'cdt88', active_ips: [] }]);
    expect(s1.pools?.map((p) => p.name)).toEqual(['hpc-pool']);
    expect(s1.volumes.map((v) => v.name).sort()).toEqual(['hpc-compute-01.qcow2', 'hpc-compute-02.qcow2', 'hpc-compute-03.qcow2', 'hpc-controller.qcow2']);
    expect(ctx.updates.some((u) => u.target === 'hpc-compute-02' && u.step === 'define')).toBe(true);
    // Every domain and network carries our mark with the state's lineage; the host file was written back.
    const h = await fx.host.open();
    try {
      expect(ownerOf(await h.domainXml('hpc-compute-01'))).toEqual({ lineage: s1.lineage, cluster: 'hpc', role: 'compute' });
      expect(ownerOf(await h.networkXml('hpc-network'))?.lineage).toBe(s1.lineage);
    } finally {
      await h.close();
    }
    expect(await readFile(fx.host.file, 'utf8')).toContain('hpc-compute-03');

    const refreshed = await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true });
    expect(refreshed.drift).toEqual([]);
    const s2 = (await fx.state())!;
    expect(s2.serial).toBe(s1.serial! + 1);
    expect(s2.vms.every((v) => v.last_seen !== null)).toBe(true);
    // The test driver's interface address (192.168.122.x) is outside the cluster subnet: the configured IP stays, unverified.
    expect(s2.vms.map((v) => [v.ip_address, (v as { ip_verified?: boolean }).ip_verified])).toEqual(s2.vms.map((v) => [v.ip_address, false]));

    const stopped = await stopCluster(fx.env, fx.ws, recordingContext());
    expect(stopped.outcomes.map((o) => o.result)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    expect((await fx.state())!.status).toBe('stopped');
    expect((await fx.state())!.vms.map((v) => v.state)).toEqual(['SHUTOFF', 'SHUTOFF', 'SHUTOFF', 'SHUTOFF']);
    expect((await hostDomains(fx.host)).map(([, st]) => st)).toEqual(['SHUTOFF', 'SHUTOFF', 'SHUTOFF', 'SHUTOFF']);

    const again = await startCluster(fx.env, fx.ws, recordingContext());
    expect(again.outcomes.map((o) => o.result)).toEqual(['started', 'started', 'started', 'started']);
    const s3 = (await fx.state())!;
    expect(s3.status).toBe('running');
    expect(s3.lineage).toBe(s1.lineage);

    const destroyed = await destroyCluster(fx.env, fx.ws, recordingContext());
    expect(
      destroyed.outcomes
        .filter((o) => o.result === 'deleted')
        .map((o) => o.target)
        .sort(),
    ).toEqual([
      'hpc-compute-01',
      'hpc-compute-01.qcow2',
      'hpc-compute-02',
      'hpc-compute-02.qcow2',
      'hpc-compute-03',
      'hpc-compute-03.qcow2',
      'hpc-controller',
      'hpc-controller.qcow2',
      'hpc-network',
      'hpc-pool',
    ]);
    expect(await fx.state()).toBeNull();
    expect(await hostDomains(fx.host)).toEqual([]);
    const h2 = await fx.host.open();
    try {
      expect(await h2.listNetworks()).toEqual([]);
      expect(await h2.listPools()).toEqual([]);
    } finally {
      await h2.close();
    }
    // History keeps the last generation (the running cluster) for restore.
    const backups = await fx.store.backups({ kind: 'cluster', file: fx.ws.statePath });
    expect(backups[0]).toMatchObject({ valid: true, status: 'running', count: 4 });
  });

  it('count form: N DHCP nodes get reserved addresses and distinct MACs; re-running start is idempotent', async () => {
    fx = await clusterFixture({ form: 'count', computeNodes: 5 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const s1 = (await fx.state())!;
    expect(s1.vms.map((v) => v.name)).toEqual(['hpc-controller', 'hpc-compute-01', 'hpc-compute-02', 'hpc-compute-03', 'hpc-compute-04', 'hpc-compute-05']);
    expect(s1.vms.slice(1).map((v) => v.ip_address)).toEqual(['10.88.0.11', '10.88.0.12', '10.88.0.13', '10.88.0.14', '10.88.0.15']);
    const macs = new Set(s1.vms.map((v) => (v as { mac?: string }).mac));
    expect(macs.size).toBe(6);
    const h = await fx.host.open();
    try {
      const net = await h.networkXml('hpc-network');
      for (const vm of s1.vms) expect(net).toContain(`ip='${vm.ip_address}'`);
    } finally {
      await h.close();
    }
    const second = await startCluster(fx.env, fx.ws, recordingContext());
    expect(second.outcomes.map((o) => o.result)).toEqual(Array(6).fill('already running'));
    const s2 = (await fx.state())!;
    expect(s2.status).toBe('running');
    expect(s2.vms.map((v) => [v.name, v.created_at])).toEqual(s1.vms.map((v) => [v.name, v.created_at]));
  });

  it('network mode: NAT by default, isolated on request (no <forward>), anything else is a config error', async () => {
    fx = await clusterFixture({ computeNodes: 1, networkMode: 'isolated' });
    await startCluster(fx.env, fx.ws, recordingContext());
    const h = await fx.host.open();
    try {
      expect(await h.networkXml('hpc-network')).not.toContain('<forward');
    } finally {
      await h.close();
    }
    await fx.cleanup();
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const h2 = await fx.host.open();
    try {
      expect(await h2.networkXml('hpc-network')).toContain("<forward mode='nat'");
    } finally {
      await h2.close();
    }
    await fx.cleanup();
    fx = await clusterFixture({ computeNodes: 1, networkMode: 'bridged' });
    await expect(startCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({
      code: 'config-invalid',
      fields: { field: 'clusterdesk.network_mode' },
    });
    expect(await fx.state()).toBeNull();
  });

  it('status reads without the lock and without writing', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const before = await readFile(fx.ws.statePath);
    const report = await clusterStatus(fx.env, fx.ws);
    expect(report.drift).toEqual([]);
    expect(report.state?.vms.map((v) => v.state)).toEqual(['RUNNING', 'RUNNING']);
    expect(report.uri).toBe(fx.host.uri);
    expect(await readFile(fx.ws.statePath)).toEqual(before);
  });
});
