/**
 * `hpc start` and `hpc stop` of a large cluster on libvirt's test driver (issue #14: a 1,000-VM start took 17 min and
 * wrote 757 state generations, one per created resource).
 *
 *   npm run bench -- start [--sizes 1000] [--parallelism 8] [--no-stop]
 *
 * Per size N (1 controller + N-1 compute nodes, DHCP, on a fresh test-driver host file like the demo's):
 *   - `start n=N`: wall time of `startCluster` from nothing to all RUNNING, against the aim (30 s at 1,000 VMs); extra
 *     fields: `generations` (state generations written, from the final serial), its aim (50) and ratio.
 *   - `stop n=N`: the same for `stopCluster` right after (graceful; the test driver shuts down at once).
 * A 10-VM start runs first as a warm-up (not reported). The aims are the baseline (`baseline_ms` = the time aim), so `ratio` ≤ 1 means the aim is met. A slow run never
 * throws: the line is printed with the figure and a `note`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClusterEnv } from '../main/clusters/env';
import { createDemoHost } from '../main/clusters/libvirt/test-host';
import { startCluster } from '../main/clusters/start';
import { stopCluster } from '../main/clusters/stop';
import { simpleContext } from '../main/operations/types';
import { StateStore } from '../main/state';
import { scaleConfigYaml } from '../test/support/clusters';
import { report } from './lib';

const AIM_MS_PER_1000 = 30_000;
const AIM_GENERATIONS = 50;

function errText(err: unknown): string {
  return err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { sizes: { type: 'string' }, parallelism: { type: 'string' }, 'no-stop': { type: 'boolean' } } });
  const sizes = (values.sizes ?? '1000')
    .split(',')
    .map((s) => Math.floor(Number(s)))
    .filter((n) => n >= 2 && n <= 1000);
  const parallelism = values.parallelism ? Math.max(1, Number(values.parallelism)) : undefined;
  // One small start first, not reported: module loading and the first connection would land on the first size.
  for (const [i, n] of [10, ...sizes].entries()) {
    const warmup = i === 0;
    const dir = await mkdtemp(join(tmpdir(), 'cd-bench-start-'));
    const store = new StateStore();
    const env = createClusterEnv({ store, processEnv: {}, stopTimeoutSec: 30, pollIntervalMs: 50, ...(parallelism ? { parallelism } : {}) });
    try {
      const uri = await createDemoHost(join(dir, 'host.xml'));
      const configFile = join(dir, 'cluster.yaml');
      await writeFile(configFile, scaleConfigYaml('bench', uri, n));
      const ws = { configFile, statePath: join(dir, 'output', 'state.json') };
      const aimMs = (AIM_MS_PER_1000 * n) / 1000;
      const aimGen = AIM_GENERATIONS;
      const line = (op: string, ms: number, generations: number, notes: string[], extra: Record<string, unknown>) => {
        if (ms > aimMs) notes.push(`slower than the aim (${Math.round(ms)} ms > ${aimMs} ms)`);
        if (generations > aimGen) notes.push(`more generations than the aim (${generations} > ${aimGen})`);
        report({
          bench: 'start',
          case: `${op} n=${n} (test driver host file, parallelism ${env.parallelism})`,
          ms,
          baseline: `aim ${aimMs / 1000} s`,
          baseline_ms: aimMs,
          generations,
          generations_aim: aimGen,
          generations_ratio: Math.round((generations / aimGen) * 100) / 100,
          ...extra,
          ...(notes.length ? { note: notes.join('; ') } : {}),
        });
      };

      if (warmup) {
        await startCluster(env, ws, simpleContext()).catch(() => undefined);
        continue;
      }
      const serial = async () => (await store.loadCluster(ws.statePath))?.serial ?? 0;
      const notes: string[] = [];
      const t0 = performance.now();
      let results: string[] = [];
      try {
        results = (await startCluster(env, ws, simpleContext())).outcomes.map((o) => o.result);
      } catch (err) {
        notes.push(`start failed: ${errText(err)}`);
      }
      const ms = performance.now() - t0;
      const gen = await serial();
      const started = results.filter((r) => r === 'started').length;
      if (started !== n && notes.length === 0) notes.push(`${started} of ${n} VMs started`);
      line('start', ms, gen, notes, { vms_started: started });

      if (values['no-stop'] || started === 0) continue;
      const stopNotes: string[] = [];
      const s0 = performance.now();
      let stopped: string[] = [];
      try {
        stopped = (await stopCluster(env, ws, simpleContext())).outcomes.map((o) => o.result);
      } catch (err) {
        stopNotes.push(`stop failed: ${errText(err)}`);
      }
      const sms = performance.now() - s0;
      const sgen = (await serial()) - gen;
      const off = stopped.filter((r) => r === 'stopped' || r === 'forced').length;
      if (off !== started && stopNotes.length === 0) stopNotes.push(`${off} of ${started} VMs stopped`);
      line('stop', sms, sgen, stopNotes, { vms_stopped: off });
    } finally {
      await env.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  }
}
