/**
 * A real cluster (controller + 2 compute nodes, TCG guests) on the namespaced libvirtd: start, what real VMs give
 * (serial markers, DHCP leases, qcow2 files), drift after a QEMU process dies behind libvirt's back, a graceful
 * ACPI stop, and a destroy that leaves nothing.
 */
import { existsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpv4, parseSubnet } from '../../main/clusters/config/net';
import { destroyCluster, refreshCluster, startCluster, stopCluster } from '../../main/clusters/service';
import { MARKER, qemuHostPid, waitForMarker, writeCluster, type TierCluster } from '../../scripts/qemu/tier';
import { BOOT_WAIT_MS, bench, ctx, leftOnDaemon, tier, type Bench } from './support';

let b: Bench;
let c: TierCluster;

beforeAll(async () => {
  b = await bench();
  c = await writeCluster(tier(), b.parent, { name: 'cdq-life', net: 1, acpi: 'handle', uri: tier().uri });
});
afterAll(async () => {
  await b?.cleanup(c ? [c] : []);
});

async function qcow2Magic(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return buf.toString('latin1');
  } finally {
    await fh.close();
  }
}

describe('a real cluster on QEMU', () => {
  it('starts three VMs: RUNNING, serial markers, DHCP leases recorded as unique IPs, qcow2 volumes in the pool dir', async () => {
    const ws = b.workspace(c);
    const started = await startCluster(b.env, ws, ctx());
    expect(started.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'started']));
    const state = (await b.store.loadCluster(c.statePath))!;
    expect(state.status).toBe('running');
    expect(state.vms.map((v) => v.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);

    // The guests really run: their /init reaches the serial console, then gets a DHCP lease.
    const ups = await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.up, BOOT_WAIT_MS)));
    expect(ups.every((l) => l.includes('acpi=handle'))).toBe(true);
    const leased = await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.dhcp, BOOT_WAIT_MS)));
    const guestIps = leased.map((l) => /ip=(\S+)/.exec(l)![1]!);

    // The guest prints its DHCP marker once it holds the lease; libvirt's lease helper records it a moment later
    // (asynchronously, through dnsmasq). Refresh until every lease is seen, bounded by the boot wait.
    let refreshed = await refreshCluster(b.env, ws, ctx(), { apply: true });
    for (const end = Date.now() + BOOT_WAIT_MS; Date.now() < end;) {
      if (refreshed.state!.vms.every((v) => (v as { ip_verified?: boolean }).ip_verified === true)) break;
      await new Promise((r) => setTimeout(r, 500));
      refreshed = await refreshCluster(b.env, ws, ctx(), { apply: true });
    }
    const vms = refreshed.state!.vms;
    const subnet = parseSubnet(c.subnet);
    if ('error' in subnet) throw new Error(subnet.error);
    const ips = vms.map((v) => v.ip_address);
    expect(ips).toEqual(guestIps); // what the guests were given is what is recorded
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) {
      const v = parseIpv4(ip!)!;
      expect(v > subnet.gateway && v < subnet.broadcast).toBe(true);
    }
    expect(vms.every((v) => (v as { ip_verified?: boolean }).ip_verified === true)).toBe(true);
    expect(refreshed.state!.networks[0]!.active_ips.sort()).toEqual([...guestIps].sort());

    // One qcow2 overlay per VM, a real file in the pool's directory.
    const volumes = refreshed.state!.volumes;
    expect(volumes.map((v) => v.name)).toEqual(c.vms.map((vm) => `${vm}.qcow2`));
    for (const v of volumes) {
      expect(v.path.startsWith(`${c.poolDir}/`)).toBe(true);
      expect(v.format).toBe('qcow2');
      expect(await qcow2Magic(v.path)).toBe('QFI\xfb');
    }
  });

  it("shows a QEMU process killed behind libvirt's back as drift; start brings that VM back", async () => {
    const ws = b.workspace(c);
    const victim = c.vms[1]!;
    const pid = await qemuHostPid(tier(), victim);
    process.kill(pid, 'SIGKILL');
    // libvirt notices the monitor hang up; refresh (read-only) reports what changed without recording it.
    let drift: Awaited<ReturnType<typeof refreshCluster>>['drift'] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      drift = (await refreshCluster(b.env, ws, ctx(), { apply: false })).drift;
      if (drift.some((d) => d.name === victim)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(drift.filter((d) => d.resource === 'vm')).toEqual([{ kind: 'state-differs', resource: 'vm', name: victim, recorded: 'RUNNING', actual: 'SHUTOFF' }]);
    expect((await b.store.loadCluster(c.statePath))!.vms[1]!.state).toBe('RUNNING');

    await rm(c.serialLog(victim), { force: true }); // its next boot's markers must be new ones
    const restarted = await startCluster(b.env, ws, ctx());
    expect(restarted.outcomes.map((o) => o.result)).toEqual(['already running', 'started', 'already running']);
    await waitForMarker(c.serialLog(victim), MARKER.up, BOOT_WAIT_MS);
  });

  it('stops guests that handle ACPI gracefully: every VM "stopped", none forced', async () => {
    const stopped = await stopCluster(b.env, b.workspace(c), ctx(), { timeoutSec: 120 });
    expect(stopped.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'stopped']));
    for (const vm of c.vms) await waitForMarker(c.serialLog(vm), MARKER.poweroff, 1_000);
    const state = (await b.store.loadCluster(c.statePath))!;
    expect(state.status).toBe('stopped');
    expect(state.vms.map((v) => v.state)).toEqual(['SHUTOFF', 'SHUTOFF', 'SHUTOFF']);
  });

  it('destroys everything: no domain, network, pool or volume file left', async () => {
    const volumes = (await b.store.loadCluster(c.statePath))!.volumes.map((v) => v.path);
    expect(volumes).toHaveLength(3);
    await destroyCluster(b.env, b.workspace(c), ctx());
    expect(await leftOnDaemon(tier().uri, c)).toEqual([]);
    for (const v of volumes) expect(existsSync(v)).toBe(false);
    expect(existsSync(c.poolDir)).toBe(false);
    expect(existsSync(c.statePath)).toBe(false);
  });
});
