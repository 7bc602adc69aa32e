/**
 * Guests that ignore the ACPI power button, started after a failure injected mid-way: the re-run adopts what the
 * failed start created and deletes nothing that existed before; stop then forces every VM off after one shared
 * timeout (not one per VM).
 */
import { mkdir, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../main/errors';
import { openLibvirtHost } from '../../main/clusters/libvirt/host';
import { buildDomainXml, buildNetworkXml, childText } from '../../main/clusters/libvirt/xml';
import { destroyCluster, startCluster, stopCluster } from '../../main/clusters/service';
import { MARKER, waitForMarker, writeCluster, type TierCluster } from '../../scripts/qemu/tier';
import { BOOT_WAIT_MS, bench, ctx, leftOnDaemon, tier, type Bench } from './support';

const TIMEOUT_SEC = 10;
let b: Bench;
let c: TierCluster;
const bystander = { domain: 'cdq-bystander', network: 'cdq-bystander-net' };

async function withHost<T>(fn: (h: Awaited<ReturnType<typeof openLibvirtHost>>) => Promise<T>): Promise<T> {
  const h = await openLibvirtHost(tier().uri);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

beforeAll(async () => {
  b = await bench();
  c = await writeCluster(tier(), b.parent, { name: 'cdq-force', net: 2, acpi: 'ignore', uri: tier().uri, withoutSerialDir: true });
  // Someone else's domain and network on the same daemon: nothing of ours may touch them.
  const other = { lineage: '00000000-0000-4000-8000-000000000000', cluster: 'someone-else' };
  await withHost(async (h) => {
    await h.defineDomain(buildDomainXml({ name: bystander.domain, type: 'qemu', vcpus: 1, memoryKiB: 65536, owner: other }));
    await h.defineNetwork(
      buildNetworkXml({
        name: bystander.network,
        bridge: 'cdqby',
        gateway: '10.231.99.1',
        netmask: '255.255.255.0',
        dhcpStart: '10.231.99.2',
        dhcpEnd: '10.231.99.254',
        hosts: [],
        owner: other,
        mode: 'isolated',
      }),
    );
  });
});
afterAll(async () => {
  await b?.cleanup(c ? [c] : []);
  await withHost(async (h) => {
    if (await h.getDomain(bystander.domain)) await h.undefineDomain(bystander.domain);
    if (await h.getNetwork(bystander.network)) await h.undefineNetwork(bystander.network);
  }).catch(() => undefined);
});

describe('ACPI-ignoring guests after a failed start', () => {
  let before: { inodes: number[]; uuids: (string | null)[] };

  it('a start that fails mid-way (QEMU cannot open the serial log) records what it created as partial', async () => {
    const ws = b.workspace(c);
    const err = await startCluster(b.env, ws, ctx()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/3 of 3 VMs could not be started/);
    const state = (await b.store.loadCluster(c.statePath))!;
    expect(state.status).toBe('partial');
    expect(state.vms.map((v) => [v.name, v.state])).toEqual(c.vms.map((vm) => [vm, 'SHUTOFF']));
    expect(state.volumes).toHaveLength(3);
    before = {
      inodes: await Promise.all(state.volumes.map(async (v) => (await stat(v.path)).ino)),
      uuids: await withHost((h) => Promise.all(c.vms.map(async (vm) => childText(await h.domainXml(vm), 'uuid')))),
    };
  });

  it('the re-run adopts everything and deletes nothing that existed before', async () => {
    await mkdir(c.serialDir, { recursive: true });
    const ws = b.workspace(c);
    const started = await startCluster(b.env, ws, ctx());
    expect(started.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'started']));
    const state = (await b.store.loadCluster(c.statePath))!;
    expect(state.status).toBe('running');
    expect(await Promise.all(state.volumes.map(async (v) => (await stat(v.path)).ino))).toEqual(before.inodes);
    expect(await withHost((h) => Promise.all(c.vms.map(async (vm) => childText(await h.domainXml(vm), 'uuid'))))).toEqual(before.uuids);
    expect(await withHost(async (h) => [!!(await h.getDomain(bystander.domain)), !!(await h.getNetwork(bystander.network))])).toEqual([true, true]);
    const ups = await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.up, BOOT_WAIT_MS)));
    expect(ups.every((l) => l.includes('acpi=ignore'))).toBe(true);
  });

  it(`stop forces every VM off after one ${TIMEOUT_SEC} s timeout, not one per VM`, async () => {
    const t0 = performance.now();
    const stopped = await stopCluster(b.env, b.workspace(c), ctx(), { timeoutSec: TIMEOUT_SEC });
    const seconds = (performance.now() - t0) / 1000;
    expect(stopped.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'forced']));
    // Sequential waits would take at least 3 timeouts; the measured ratio is the qemu-stop benchmark's business.
    expect(seconds).toBeGreaterThanOrEqual(TIMEOUT_SEC);
    expect(seconds).toBeLessThan(3 * TIMEOUT_SEC);
    process.stdout.write(`forced stop of 3 ACPI-ignoring VMs with a ${TIMEOUT_SEC} s timeout: ${seconds.toFixed(1)} s\n`);
    const state = (await b.store.loadCluster(c.statePath))!;
    expect(state.status).toBe('stopped');
    expect(state.vms.map((v) => v.state)).toEqual(['SHUTOFF', 'SHUTOFF', 'SHUTOFF']);
  });

  it('destroy removes the cluster and leaves the bystanders alone', async () => {
    await destroyCluster(b.env, b.workspace(c), ctx());
    expect(await leftOnDaemon(tier().uri, c)).toEqual([]);
    expect(await withHost(async (h) => [!!(await h.getDomain(bystander.domain)), !!(await h.getNetwork(bystander.network))])).toEqual([true, true]);
  });
});
