/**
 * Stop of 3 real VMs whose guests ignore the ACPI power button, with a 10 s graceful timeout: the stop has to wait
 * the timeout out and force them off. Waiting for the VMs one after another would take 3 timeouts; the baseline is
 * one timeout, so `ratio` = total stop time / timeout (aim ≤ 1.2).
 *
 * Runs on the QEMU tier (scripts/qemu/README.md): a namespaced libvirtd and TCG guests. Where the tier cannot run
 * (not Linux, not root) it prints why on stderr and exits 0.
 *
 *   npm run bench -- qemu-stop [--reps 1] [--timeout 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterEnv, destroyCluster, startCluster, stopCluster } from '../main/clusters/service';
import { simpleContext } from '../main/operations/types';
import { StateStore } from '../main/state';
import { MARKER, removeDir, setUpTier, skipReason, tearDownTierSync, waitForMarker, writeCluster } from '../scripts/qemu/tier';
import { median, report } from './lib';

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  const reason = skipReason();
  if (reason) {
    process.stderr.write(`qemu-stop skipped: ${reason}\n`);
    return;
  }
  const reps = Math.max(1, Number(arg(args, '--reps') ?? 1));
  const timeoutSec = Math.max(1, Number(arg(args, '--timeout') ?? 10));
  const tier = await setUpTier(); // "qemu tier setup failed: …"
  const down = () => tearDownTierSync(tier.runDir);
  process.once('exit', down);
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  const parent = await mkdtemp(join(tmpdir(), 'clusterdesk-bench-qemu-'));
  const store = new StateStore({ lockTimeoutMs: 30_000 });
  const env = createClusterEnv({ store, stopTimeoutSec: timeoutSec, parallelism: 4, pollIntervalMs: 200, processEnv: {} });
  try {
    const c = await writeCluster(tier, parent, { name: 'cdq-bench', net: 9, acpi: 'ignore', uri: tier.uri });
    const ws = { configFile: c.configFile, statePath: c.statePath };
    const samples: number[] = [];
    let forced = 0;
    for (let i = 0; i < reps; i++) {
      await startCluster(env, ws, simpleContext());
      await Promise.all(c.vms.map((vm) => waitForMarker(c.serialLog(vm), MARKER.up, 300_000)));
      const t0 = performance.now();
      const r = await stopCluster(env, ws, simpleContext(), { timeoutSec });
      samples.push(performance.now() - t0);
      forced = r.outcomes.filter((o) => o.result === 'forced').length;
      // The next boot's marker must not be this one's.
      await Promise.all(c.vms.map((vm) => rm(c.serialLog(vm), { force: true })));
    }
    await destroyCluster(env, ws, simpleContext());
    report({
      bench: 'qemu-stop',
      case: `stop 3 ACPI-ignoring VMs, timeout ${timeoutSec} s`,
      ms: median(samples),
      baseline: 'one graceful timeout',
      baseline_ms: timeoutSec * 1000,
      reps,
      forced,
    });
  } finally {
    await env.dispose();
    down();
    await removeDir(parent);
  }
}
