/**
 * What start and destroy must never do: touch what is not ours, lose track of what they created, or leave a
 * resource unrecorded — on conflicts, mid-run failures and cancellation. Real test driver, no mocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testOwner } from '../../test/support/libvirt-host';
import { openLibvirtHost } from './libvirt/host';
import { saveTestHost } from './libvirt/test-host';
import { ownerOf, serializeXml } from './libvirt/xml';
import { destroyCluster } from './destroy';
import { refreshCluster } from './refresh';
import { startCluster } from './start';
import { clusterFixture, hostDomains, recordingContext, type ClusterFixture } from '../../test/support/clusters';
import { create } from 'xmlbuilder2';
import { createClusterEnv } from './env';
import { writeFile } from 'node:fs/promises';
import { fixtureYaml } from '../../test/support/clusters';
import { emptyState } from './records';
import { buildVolumeXml, networkDhcpHosts } from './libvirt/xml';

/** Rewrites the fixture's cluster.yaml with `computeNodes` listed nodes (the config grows or shrinks). */
async function resize(f: ClusterFixture, computeNodes: number): Promise<void> {
  await writeFile(f.ws.configFile, fixtureYaml('hpc', f.host.uri, { form: 'list', computeNodes, baseImage: 'images/base.qcow2' }));
}

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

/** A domain definition with no ownership mark (what another tool would define). */
function foreignDomainXml(name: string): string {
  const d = create().ele('domain', { type: 'test' });
  d.ele('name').txt(name);
  d.ele('memory', { unit: 'KiB' }).txt('262144');
  d.ele('vcpu').txt('1');
  d.ele('os').ele('type').txt('hvm');
  return serializeXml(d);
}

async function onHost<T>(f: ClusterFixture, fn: (h: Awaited<ReturnType<ClusterFixture['host']['open']>>) => Promise<T>): Promise<T> {
  const h = await f.host.open();
  try {
    const out = await fn(h);
    await saveTestHost(h, f.host.file);
    return out;
  } finally {
    await h.close();
  }
}

describe('conflicts', () => {
  it('refuses up front when a name is taken by something not ours, creates nothing, deletes nothing; a re-run after the fix completes', async () => {
    fx = await clusterFixture({ computeNodes: 3, seed: { domains: [{ name: 'hpc-compute-02', state: 'RUNNING' }] } });
    const err = await startCluster(fx.env, fx.ws, recordingContext()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'libvirt-conflict', fields: { details: { conflicts: ['hpc-compute-02'] } } });
    // Nothing was created, so no `partial` state is left behind.
    expect(await fx.state()).toBeNull();
    expect(await hostDomains(fx.host)).toEqual([['hpc-compute-02', 'RUNNING']]);
    await onHost(fx, async (h) => expect(await h.listNetworks()).toEqual([]));

    await onHost(fx, async (h) => {
      await h.destroyDomain('hpc-compute-02');
      await h.undefineDomain('hpc-compute-02');
    });
    await startCluster(fx.env, fx.ws, recordingContext());
    const done = (await fx.state())!;
    expect(done.status).toBe('running');
    expect(done.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(done.vms).toHaveLength(4);
  });

  it('a name taken mid-run: partial, everything that exists recorded, the intruder untouched; re-run completes', async () => {
    fx = await clusterFixture({ computeNodes: 3 });
    const env = createClusterEnv({ store: fx.store, parallelism: 1, pollIntervalMs: 20, processEnv: {} });
    let injected: Promise<string> | null = null;
    const ctx = recordingContext(undefined, (u) => {
      // While the controller is being defined, another tool takes hpc-compute-02 (through its own handle).
      if (u.step === 'define' && u.target === 'hpc-controller' && !injected) {
        injected = openLibvirtHost(fx!.host.uri).then(async (h) => {
          try {
            return await h.defineDomain(foreignDomainXml('hpc-compute-02'));
          } finally {
            await h.close();
          }
        });
      }
    });
    const err = await startCluster(env, fx.ws, ctx).catch((e: unknown) => e);
    await env.dispose();
    expect(await injected).toBe('hpc-compute-02');
    expect(err).toMatchObject({ code: 'libvirt-conflict' });
    const outcomes = (err as { fields: { details: { outcomes: { target: string; result: string }[] } } }).fields.details.outcomes;
    expect(outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'started'],
      ['hpc-compute-01', 'started'],
      ['hpc-compute-02', 'failed'],
      ['hpc-compute-03', 'started'],
    ]);
    const st = (await fx.state())!;
    expect(st.status).toBe('partial');
    expect(st.vms.map((v) => v.name)).toEqual(['hpc-controller', 'hpc-compute-01', 'hpc-compute-03']);
    expect(st.volumes.map((v) => v.name)).toEqual(['hpc-controller.qcow2', 'hpc-compute-01.qcow2', 'hpc-compute-02.qcow2', 'hpc-compute-03.qcow2']);
    // Every domain of ours that exists is recorded; the intruder is still there, unmarked.
    const domains = await hostDomains(fx.host);
    expect(domains.map(([n]) => n)).toEqual(['hpc-compute-01', 'hpc-compute-02', 'hpc-compute-03', 'hpc-controller']);
    await onHost(fx, async (h) => expect(ownerOf(await h.domainXml('hpc-compute-02'))).toBeNull());

    await onHost(fx, (h) => h.undefineDomain('hpc-compute-02'));
    const again = await startCluster(fx.env, fx.ws, recordingContext());
    expect(again.outcomes.map((o) => o.result)).toEqual(['already running', 'already running', 'started', 'already running']);
    expect((await fx.state())!.status).toBe('running');
  });

  it('destroy leaves a foreign <name>-prod-x domain and an unmarked <name>-network alone', async () => {
    fx = await clusterFixture({ computeNodes: 1, seed: { domains: [{ name: 'hpc-prod-x', state: 'RUNNING' }] } });
    await startCluster(fx.env, fx.ws, recordingContext());
    // Behind our back, our network is replaced by someone else's with the same name.
    await onHost(fx, async (h) => {
      await h.destroyNetwork('hpc-network');
      await h.undefineNetwork('hpc-network');
      const n = create().ele('network');
      n.ele('name').txt('hpc-network');
      n.ele('bridge', { name: 'other0' });
      await h.defineNetwork(serializeXml(n));
    });
    const result = await destroyCluster(fx.env, fx.ws, recordingContext());
    expect(result.outcomes.find((o) => o.target === 'hpc-network')).toMatchObject({ result: 'skipped' });
    expect(await fx.state()).toBeNull();
    expect(await hostDomains(fx.host)).toEqual([['hpc-prod-x', 'RUNNING']]);
    await onHost(fx, async (h) => {
      expect((await h.listNetworks()).map((n) => n.name)).toEqual(['hpc-network']);
      expect(ownerOf(await h.networkXml('hpc-network'))).toBeNull();
    });
  });

  it('an unmarked network with our name is a conflict; one marked by another lineage too', async () => {
    const other = testOwner('hpc', '99999999-0000-4000-8000-000000000000', 'network');
    fx = await clusterFixture({ computeNodes: 1, seed: { networks: [{ name: 'hpc-network', octet: 5, owner: other }] } });
    await expect(startCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({ code: 'libvirt-conflict' });
    await onHost(fx, async (h) => expect(ownerOf(await h.networkXml('hpc-network'))?.lineage).toBe(other.lineage));
  });
});

describe('cancellation', () => {
  it('cancelled mid-start: partial, every created resource recorded; re-run completes', async () => {
    fx = await clusterFixture({ computeNodes: 3 });
    const env = createClusterEnv({ store: fx.store, parallelism: 1, pollIntervalMs: 20, processEnv: {} });
    const ac = new AbortController();
    const ctx = recordingContext(ac.signal, (u) => {
      if (u.step === 'define' && u.target === 'hpc-compute-01') ac.abort();
    });
    const err = await startCluster(env, fx.ws, ctx).catch((e: unknown) => e);
    await env.dispose();
    expect(err).toMatchObject({ code: 'cancelled' });
    const st = (await fx.state())!;
    expect(st.status).toBe('partial');
    const domains = (await hostDomains(fx.host)).map(([n]) => n);
    expect(domains).toEqual(['hpc-compute-01', 'hpc-controller']);
    expect(st.vms.map((v) => v.name).sort()).toEqual(domains);
    expect(st.vms.find((v) => v.name === 'hpc-compute-01')?.state).toBe('SHUTOFF');
    const volumes = await onHost(fx, async (h) => (await h.listVolumes('hpc-pool')).map((v) => v.name).sort());
    expect(st.volumes.map((v) => v.name).sort()).toEqual(volumes);
    expect(ctx.updates.some((u) => u.target === 'hpc-compute-02')).toBe(false);

    await startCluster(fx.env, fx.ws, recordingContext());
    expect((await fx.state())!.status).toBe('running');
  });

  it('cancelled before the lock is taken: nothing written', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    const ac = new AbortController();
    ac.abort();
    await expect(startCluster(fx.env, fx.ws, recordingContext(ac.signal))).rejects.toMatchObject({ code: 'cancelled' });
    expect(await fx.state()).toBeNull();
  });
});

describe('volumes, pools and networks are owned like domains', () => {
  it("a volume with a node's name that start did not record is refused, never adopted, and destroy leaves it", async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    // Someone else puts a disk named like the next node's into our pool.
    await onHost(fx, (h) => h.createVolume('hpc-pool', buildVolumeXml({ name: 'hpc-compute-02.qcow2', capacityGb: 1 })));
    await resize(fx, 2);
    const before = (await fx.state())!;
    const err = await startCluster(fx.env, fx.ws, recordingContext()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'libvirt-conflict', fields: { details: { conflicts: ['hpc-pool/hpc-compute-02.qcow2'] } } });
    const after = (await fx.state())!;
    expect(after.volumes.map((v) => v.name)).toEqual(before.volumes.map((v) => v.name));
    expect(after.vms.map((v) => v.name)).toEqual(['hpc-controller', 'hpc-compute-01']);

    // A refresh does not record it either.
    await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true });
    expect((await fx.state())!.volumes.map((v) => v.name)).not.toContain('hpc-compute-02.qcow2');

    const result = await destroyCluster(fx.env, fx.ws, recordingContext()).catch((e: unknown) => e);
    // The foreign volume keeps the pool; everything of ours is gone.
    expect(JSON.stringify(result)).toContain('hpc-compute-02.qcow2');
    await onHost(fx, async (h) => {
      expect((await h.listVolumes('hpc-pool')).map((v) => v.name)).toEqual(['hpc-compute-02.qcow2']);
    });
    expect(await hostDomains(fx.host)).toEqual([]);
  });

  it('a foreign pool with our name: start refused, nothing created, no state; destroy leaves it', async () => {
    fx = await clusterFixture({ computeNodes: 1, seed: { pools: [{ name: 'hpc-pool', volumes: ['hpc-controller.qcow2'] }] } });
    const err = await startCluster(fx.env, fx.ws, recordingContext()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'libvirt-conflict', fields: { details: { conflicts: ['hpc-pool'] } } });
    expect(await fx.state()).toBeNull();
    await onHost(fx, async (h) => {
      expect(await h.listNetworks()).toEqual([]);
      expect((await h.listVolumes('hpc-pool')).map((v) => v.name)).toEqual(['hpc-controller.qcow2']);
    });
    // Destroy with nothing recorded removes nothing.
    expect((await destroyCluster(fx.env, fx.ws, recordingContext())).outcomes).toEqual([]);
    await onHost(fx, async (h) => expect((await h.listVolumes('hpc-pool')).map((v) => v.name)).toEqual(['hpc-controller.qcow2']));
  });

  it('a foreign network recorded nowhere: destroy of another cluster state leaves it; start refuses it', async () => {
    fx = await clusterFixture({ computeNodes: 1, seed: { networks: [{ name: 'hpc-network', octet: 7 }] } });
    await expect(startCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({
      code: 'libvirt-conflict',
      fields: { details: { conflicts: ['hpc-network'] } },
    });
    expect(await fx.state()).toBeNull();
    await onHost(fx, async (h) => expect((await h.listNetworks()).map((n) => n.name)).toEqual(['hpc-network']));
  });

  it('a pool we did not create is ours only with recorded UUID evidence (adoption); the evidence survives start', async () => {
    fx = await clusterFixture({ computeNodes: 1, seed: { pools: [{ name: 'hpc-pool' }] } });
    const uuid = await onHost(fx, async (h) => /<uuid>([^<]+)<\/uuid>/.exec(await h.poolXml('hpc-pool'))![1]!);
    const target = { kind: 'cluster' as const, file: fx.ws.statePath, clusterName: 'hpc' };
    // What adoption records: the pool with its exact UUID (and path).
    await fx.store.transaction(target, 'test:adopt', async (tx) => {
      await tx.write({ ...emptyState('hpc'), pools: [{ name: 'hpc-pool', path: '/somewhere', uuid }] });
    });
    await startCluster(fx.env, fx.ws, recordingContext());
    const st = (await fx.state())!;
    expect(st.status).toBe('running');
    expect(st.pools).toEqual([expect.objectContaining({ name: 'hpc-pool', uuid })]);
    // A wrong UUID is no evidence.
    await fx.store.transaction(target, 'test:tamper', async (tx) => {
      const cur = (await tx.read())!;
      await tx.write({ ...cur, pools: [{ name: 'hpc-pool', path: '/somewhere', uuid: '00000000-0000-4000-8000-00000000dead' }] });
    });
    await expect(startCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({
      code: 'libvirt-conflict',
      fields: { details: { conflicts: ['hpc-pool'] } },
    });
  });

  it('a resumed start keeps what the state records (volume written ahead, no domain yet)', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    const env = createClusterEnv({ store: fx.store, parallelism: 1, pollIntervalMs: 20, processEnv: {} });
    const ac = new AbortController();
    // Cancelled right after compute-01's volume is asked for: the volume exists, recorded, its domain does not.
    const ctx = recordingContext(ac.signal, (u) => {
      if (u.step === 'volume' && u.target === 'hpc-compute-01') ac.abort();
    });
    await expect(startCluster(env, fx.ws, ctx)).rejects.toMatchObject({ code: 'cancelled' });
    await env.dispose();
    const st = (await fx.state())!;
    expect(st.status).toBe('partial');
    expect(st.volumes.map((v) => v.name)).toContain('hpc-compute-01.qcow2');
    expect((await hostDomains(fx.host)).map(([n]) => n)).toEqual(['hpc-controller']);
    const again = await startCluster(fx.env, fx.ws, recordingContext());
    expect(again.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'already running'],
      ['hpc-compute-01', 'started'],
      ['hpc-compute-02', 'started'],
    ]);
  });

  it('a node added to a running cluster gets its DHCP reservation in the existing network', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const lineage = (await fx.state())!.lineage;
    await resize(fx, 2);
    const again = await startCluster(fx.env, fx.ws, recordingContext());
    expect(again.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'already running'],
      ['hpc-compute-01', 'already running'],
      ['hpc-compute-02', 'started'],
    ]);
    expect((await fx.state())!.lineage).toBe(lineage);
    await onHost(fx, async (h) => {
      const hosts = networkDhcpHosts(await h.networkXml('hpc-network'));
      expect(hosts.map((x) => [x.name, x.ip])).toEqual([
        ['hpc-controller', '10.88.0.10'],
        ['hpc-compute-01', '10.88.0.21'],
        ['hpc-compute-02', '10.88.0.22'],
      ]);
      expect((await h.getNetwork('hpc-network'))?.active).toBe(true);
    });
  });
});
