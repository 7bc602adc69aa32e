/**
 * The real `clusterdesk hpc …` commands, as child processes, against real QEMU guests on the namespaced libvirtd:
 * exit codes, output and the state file they leave. And libvirt's "domain is not running" — what a real daemon says
 * when a VM went off between our read and our call — becomes the outcome the user expects, never an error of ours.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftItem, TargetOutcome } from '../../preload/contract';
import { createClusterEnv, stopCluster, vmAction, type ClusterEnv } from '../../main/clusters/service';
import { openLibvirtHost } from '../../main/clusters/libvirt/host';
import type { LibvirtHost } from '../../main/clusters/libvirt/types';
import { isActive } from '../../main/clusters/vm-state';
import { toErrorData } from '../../main/errors';
import type { ClusterState } from '../../main/state';
import { MARKER, waitForMarker, writeCluster, type TierCluster } from '../../scripts/qemu/tier';
import { runCli, type CliRun } from '../support/run-cli';
import { BOOT_WAIT_MS, bench, ctx, leftOnDaemon, tier, type Bench } from './support';

let b: Bench;
let c: TierCluster;
let dataDir = '';

beforeAll(async () => {
  b = await bench();
  // A controller and one compute node: two guests are enough here, and boot sooner than three.
  c = await writeCluster(tier(), b.parent, { name: 'cdq-cli', net: 4, acpi: 'handle', uri: tier().uri, computeNodes: 1 });
  dataDir = join(b.parent, 'data');
});
afterAll(async () => {
  await b?.cleanup(c ? [c] : []);
});

/** `clusterdesk hpc ARGS… CONFIG` as a child process (generous: TCG guests on a shared 2-core machine). */
const hpc = (...args: string[]): Promise<CliRun> => runCli(['hpc', ...args, c.configFile], { dataDir, cwd: b.parent, timeoutMs: BOOT_WAIT_MS });

function show(r: CliRun): string {
  return `exit ${String(r.code)}\n${r.stdout}\n${r.stderr}`;
}

const results = (outcomes: readonly TargetOutcome[]) => outcomes.map((o) => [o.target, o.result]);

/** Real libvirt calls in an order another actor could cause: `before(host, name)` runs just before `op`. */
function interleaved(op: 'destroyDomain' | 'shutdownDomain', before: (host: LibvirtHost, name: string) => Promise<void>, seen: unknown[]): ClusterEnv {
  return createClusterEnv({
    store: b.store,
    parallelism: 4,
    pollIntervalMs: 200,
    processEnv: {},
    open: async (uri) => {
      const host = await openLibvirtHost(uri);
      return new Proxy(host, {
        get(target, prop, receiver) {
          if (prop === op) {
            return async (name: string) => {
              await before(target, name);
              try {
                await target[op](name);
              } catch (err) {
                seen.push(err);
                throw err;
              }
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  });
}

async function waitUntilOff(host: LibvirtHost, name: string): Promise<void> {
  const deadline = Date.now() + BOOT_WAIT_MS;
  for (;;) {
    const d = await host.getDomain(name);
    if (!d || !isActive(d.state)) return;
    if (Date.now() > deadline) throw new Error(`${name} did not power off`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('clusterdesk hpc on real QEMU guests (child processes)', () => {
  it(
    'start: exit 0, every VM started, the cluster running, its state file written',
    async () => {
      const start = await hpc('start', '--json');
      expect(start.code, show(start)).toBe(0);
      const started = start.json<{ ok: boolean; outcomes: TargetOutcome[]; status: string }>();
      expect(started.ok).toBe(true);
      expect(results(started.outcomes)).toEqual(c.vms.map((vm) => [vm, 'started']));
      expect(started.status).toBe('running');
      expect(existsSync(c.statePath)).toBe(true);
      // The guests really boot (and arm their ACPI handler, which the stops below rely on).
      await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.up, BOOT_WAIT_MS)));
    },
    2 * BOOT_WAIT_MS, // a start through a child process, then TCG boots sharing 2 cores with the other files' guests
  );

  it('status: exit 0, the RUNNING guests recorded, no drift; the human status names them', async () => {
    const status = await hpc('status', '--json');
    expect(status.code, show(status)).toBe(0);
    const s = status.json<{ ok: boolean; uri: string; recorded: ClusterState; drift: DriftItem[] }>();
    expect(s.uri).toBe(tier().uri);
    expect(s.recorded.vms.map((v) => [v.name, v.state])).toEqual(c.vms.map((vm) => [vm, 'RUNNING']));
    expect(s.drift.filter((d) => d.kind !== 'ip-differs')).toEqual([]);

    const human = await hpc('status');
    expect(human.code, show(human)).toBe(0);
    expect(human.stdout).toContain('cluster cdq-cli: running');
    for (const vm of c.vms) expect(human.stdout).toMatch(new RegExp(`^${vm}\\s+RUNNING`, 'm'));
    expect(human.stdout).toContain(`(libvirt: ${tier().uri})`);
  });

  it('a VM action on a guest that went off since the check answers state-wrong-status (libvirt: "domain is not running")', async () => {
    const victim = c.vms[1]!;
    const seen: unknown[] = [];
    // Someone forces the guest off between our check (RUNNING) and our shutdown request.
    const env = interleaved('shutdownDomain', (host, name) => host.destroyDomain(name), seen);
    try {
      const err = await vmAction(env, b.workspace(c), ctx(), victim, 'shutdown').then(
        () => null,
        (e: unknown) => toErrorData(e),
      );
      expect(seen.map((e) => toErrorData(e).message)).toEqual([expect.stringMatching(/domain is not running/)]);
      expect(err).toMatchObject({ code: 'state-wrong-status', message: `Cannot shutdown ${victim}: it is SHUTOFF, and shutdown needs RUNNING.` });
    } finally {
      await env.dispose();
    }
  });

  it('a stop whose force-off finds the guest already off (libvirt: "domain is not running") reports it stopped, not failed', async () => {
    const seen: unknown[] = [];
    // A 0 s timeout: every guest is still shutting down at the deadline; each powers off (ACPI) before the force-off.
    const env = interleaved('destroyDomain', waitUntilOff, seen);
    try {
      const stopped = await stopCluster(env, b.workspace(c), ctx(), { timeoutSec: 0 });
      const [controller, compute1] = c.vms;
      // The controller was running (its force-off came too late); the compute node was off already (test above).
      expect(results(stopped.outcomes)).toEqual([
        [controller, 'stopped'],
        [compute1, 'already-off'],
      ]);
      expect(stopped.outcomes.filter((o) => o.error)).toEqual([]);
      // The real daemon did answer "not running" to our force-off (the guest needs over a second to power off on
      // ACPI, far longer than our first poll after the request).
      expect(seen.map((e) => toErrorData(e))).toEqual([
        expect.objectContaining({ code: 'libvirt-conflict', message: expect.stringMatching(/domain is not running/) }),
      ]);
      const state = (await b.store.loadCluster(c.statePath))!;
      expect(state.status).toBe('stopped');
      expect(state.vms.map((v) => v.state)).toEqual(['SHUTOFF', 'SHUTOFF']);
    } finally {
      await env.dispose();
    }
  });

  it('stop of guests that are not running is already-off (exit 0); destroy needs --force, then leaves nothing', async () => {
    const stop = await hpc('stop', '--json', '--timeout', '10');
    expect(stop.code, show(stop)).toBe(0);
    const stopped = stop.json<{ ok: boolean; outcomes: TargetOutcome[]; status: string }>();
    expect(results(stopped.outcomes)).toEqual(c.vms.map((vm) => [vm, 'already-off']));
    expect(stopped.status).toBe('stopped');

    const refused = await hpc('destroy');
    expect(refused.code, show(refused)).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(await leftOnDaemon(tier().uri, c)).toHaveLength(c.vms.length + 2); // the domains, the network, the pool: untouched

    const destroy = await hpc('destroy', '--force', '--json');
    expect(destroy.code, show(destroy)).toBe(0);
    expect(destroy.json<{ ok: boolean }>().ok).toBe(true);
    expect(await leftOnDaemon(tier().uri, c)).toEqual([]);
    expect(existsSync(c.poolDir)).toBe(false);
    expect(existsSync(c.statePath)).toBe(false);

    const after = await hpc('status', '--json');
    expect(after.code, show(after)).toBe(0);
    expect(after.json<{ recorded: unknown }>().recorded).toBeNull();
  });
});
