/**
 * The same cluster operations through libvirt's own remote transport: `qemu+ssh://` to an sshd (throwaway user and
 * key) inside the namespace. No agent of ours on the far side — libvirt's virt-ssh-helper relays to the daemon.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, destroyCluster, startCluster, stopCluster } from '../../main/clusters/service';
import { MARKER, startSshd, waitForMarker, writeCluster, type TierCluster, type TierSsh } from '../../scripts/qemu/tier';
import { BOOT_WAIT_MS, bench, ctx, leftOnDaemon, tier, type Bench } from './support';

let b: Bench;
let c: TierCluster;
let ssh: TierSsh;

beforeAll(async () => {
  ssh = await startSshd(tier());
  b = await bench();
  c = await writeCluster(tier(), b.parent, { name: 'cdq-remote', net: 3, acpi: 'handle', uri: ssh.uri });
});
afterAll(async () => {
  await b?.cleanup(c ? [c] : []);
});

describe('a cluster on a remote host through qemu+ssh://', () => {
  it('start → status → stop → destroy, exactly as locally', async () => {
    const ws = b.workspace(c);
    expect(ssh.uri).toMatch(/^qemu\+ssh:\/\/cdqemu@127\.0\.0\.1:\d+\/system\?/);

    const started = await startCluster(b.env, ws, ctx());
    expect(started.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'started']));
    await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.dhcp, BOOT_WAIT_MS)));

    const status = await clusterStatus(b.env, ws);
    expect(status.uri).toBe(ssh.uri);
    expect(status.drift.filter((d) => d.resource === 'vm' && d.kind !== 'ip-differs')).toEqual([]);
    expect(status.state!.vms.map((v) => v.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(new Set(status.state!.vms.map((v) => v.ip_address)).size).toBe(3);

    const stopped = await stopCluster(b.env, ws, ctx(), { timeoutSec: 120 });
    expect(stopped.outcomes.map((o) => [o.target, o.result])).toEqual(c.vms.map((vm) => [vm, 'stopped']));
    expect((await b.store.loadCluster(c.statePath))!.status).toBe('stopped');

    await destroyCluster(b.env, ws, ctx());
    expect(await leftOnDaemon(tier().uri, c)).toEqual([]); // checked through the local socket: really gone
    expect(existsSync(c.poolDir)).toBe(false);
    expect(existsSync(c.statePath)).toBe(false);
    // The operations really went through the sshd (not a local socket).
    expect(await readFile(join(tier().runDir, 'ssh', 'sshd.log'), 'utf8')).toMatch(/Accepted publickey for cdqemu from 127\.0\.0\.1/);
  });
});
