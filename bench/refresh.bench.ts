/**
 * Refresh of N VMs on libvirt's test driver: our bulk path (`virConnectGetAllDomainStats` through koffi, selective
 * decoding) against
 *   - the naive path: list domains, then name + info per domain through @unraid/libvirt, issued in parallel;
 *   - the simplest Python script: Debian's python3-libvirt, `listAllDomains()` + `name()` + `info()` per domain, timed
 *     inside Python (interpreter start-up excluded, as ours excludes Node's) — skipped with a printed reason when
 *     python3-libvirt is not installed (scripts/install.sh installs it);
 *   - the floor: the raw bulk call alone (no decode, free not timed), through the same koffi binding.
 * All are measured in the same run on hosts loaded from the same generated node file.
 *
 *   npm run bench -- refresh [--sizes 1000,10000] [--reps 7]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as libvirt from '@unraid/libvirt';
import { create } from 'xmlbuilder2';
import { statsMask } from '../main/clusters/libvirt/bulk-stats';
import { openLibvirtHost } from '../main/clusters/libvirt/host';
import { callAsync, loadNative, type Ptr } from '../main/clusters/libvirt/native';
import { testHostUri } from '../main/clusters/libvirt/test-host';
import { TEST_NS, serializeXml } from '../main/clusters/libvirt/xml';
import { domainStateName } from '../main/clusters/libvirt/types';
import { median, report, timeMedian } from './lib';

/** The per-domain loop every python3-libvirt user writes first; prints JSON {count, states, samples_ms}. */
const PYTHON_LOOP = `
import json, sys, time
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
reps, warmup = int(sys.argv[2]), int(sys.argv[3])
def once():
    return [(d.name(), d.info()[0]) for d in conn.listAllDomains()]
for _ in range(warmup):
    once()
samples = []
for _ in range(reps):
    t0 = time.perf_counter()
    out = once()
    samples.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"count": len(out), "states": sorted("%s=%d" % x for x in out), "samples_ms": samples}))
`;

interface PythonRun {
  readonly count: number;
  readonly states: string[];
  readonly samples_ms: number[];
}

/** Debian's python3-libvirt belongs to the system interpreter; a `python3` earlier on PATH (pyenv, venv) may lack it. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

/** Runs the Python loop with the first interpreter that has the module; a reason instead when none does (never throws). */
async function pythonLoop(uri: string, reps: number): Promise<{ run: PythonRun; python: string } | { skipped: string }> {
  let reason = 'python3-libvirt is not installed (apt-get install -y python3-libvirt)';
  for (const python of PYTHONS) {
    const r = await new Promise<{ run: PythonRun } | { missing: boolean; reason: string }>((resolve) => {
      execFile(python, ['-c', PYTHON_LOOP, uri, String(reps), '2'], { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) => {
        if (err) {
          const missing = /No module named 'libvirt'/.test(stderr) || (err as NodeJS.ErrnoException).code === 'ENOENT';
          return resolve({ missing, reason: `the Python loop failed: ${stderr.trim().split('\n').pop() ?? err.message}` });
        }
        try {
          resolve({ run: JSON.parse(stdout) as PythonRun });
        } catch {
          resolve({ missing: false, reason: `the Python loop printed no result: ${stdout.slice(0, 200)}` });
        }
      });
    });
    if ('run' in r) return { run: r.run, python };
    if (!r.missing) reason = r.reason;
  }
  return { skipped: reason };
}

const RUNSTATES = [1, 3, 5] as const; // RUNNING, PAUSED, SHUTOFF

/** A node file with `n` domains (defining 10k one by one would dominate the run). */
function hostXml(n: number): string {
  const node = create().ele('node');
  for (let i = 0; i < n; i++) {
    const d = node.ele('domain', { type: 'test' });
    d.ele('name').txt(`bench-vm-${String(i).padStart(5, '0')}`);
    d.ele('memory', { unit: 'KiB' }).txt('1048576');
    d.ele('vcpu').txt(String(1 + (i % 8)));
    d.ele('os').ele('type').txt('hvm');
    d.ele(TEST_NS, 'test:runstate').txt(String(RUNSTATES[i % RUNSTATES.length]));
  }
  return serializeXml(node, { declaration: true });
}

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  const sizes = (arg(args, '--sizes') ?? '1000,10000').split(',').map(Number);
  const reps = Number(arg(args, '--reps') ?? 7);
  const dir = await mkdtemp(join(tmpdir(), 'clusterdesk-bench-refresh-'));
  try {
    for (const n of sizes) {
      const file = join(dir, `host-${n}.xml`);
      await writeFile(file, hostXml(n));
      const uri = testHostUri(file);
      const host = await openLibvirtHost(uri);
      // The floor: the raw bulk call on its own connection (the same file, the same binding), free not timed.
      const native = await loadNative();
      const rawConn = await callAsync<Ptr>(native.fn.virConnectOpen, uri);
      const hv = new libvirt.Hypervisor({ uri });
      await hv.connectOpen();
      try {
        const bulk = async () => host.domainStats();
        const naive = async () => {
          const domains = await hv.connectListAllDomains();
          return Promise.all(domains.map(async (d) => ({ name: await hv.domainGetName(d), state: domainStateName((await hv.domainGetInfo(d)).state) })));
        };
        // Both paths must see the same thing, or the comparison means nothing.
        const a = (await bulk()).map((d) => `${d.name}=${d.state}`).sort();
        const b = (await naive()).map((d) => `${d.name}=${d.state}`).sort();
        if (a.length !== n || a.join() !== b.join()) throw new Error(`bulk and naive disagree at n=${n}`);

        const raw = async () => {
          const out: [Ptr | null] = [null];
          const t0 = performance.now();
          const count = await callAsync<number>(native.fn.virConnectGetAllDomainStats, rawConn, statsMask(), out, 0);
          const elapsed = performance.now() - t0;
          if (count !== n) throw new Error(`raw bulk call returned ${count}, expected ${n}`);
          await callAsync<void>(native.fn.virDomainStatsRecordListFree, out[0]);
          return elapsed;
        };

        // Ours is timed before and again right after Python (half the repetitions each, pooled): on a loaded machine
        // the load moves during the run, and this puts both sides under it.
        const timeSamples = async (count: number): Promise<number[]> => {
          await bulk();
          const out: number[] = [];
          for (let i = 0; i < count; i++) {
            const t0 = performance.now();
            await bulk();
            out.push(performance.now() - t0);
          }
          return out;
        };
        const before = await timeSamples(reps);
        const ms = median(before);
        const rawSamples: number[] = [];
        await raw();
        for (let i = 0; i < reps; i++) rawSamples.push(await raw());
        const floorMs = median(rawSamples);
        const py = await pythonLoop(uri, reps);
        // Ours again, right after Python: on a loaded machine the two figures show how much the load moved.
        const after = await timeSamples(reps);
        if ('run' in py) {
          if (py.run.count !== n || py.run.states.length !== n) throw new Error(`python3-libvirt saw ${py.run.count} domains at n=${n}`);
          report({
            bench: 'refresh',
            case: `refresh n=${n} vs python3-libvirt`,
            ms: median([...before, ...after]),
            baseline: 'python3-libvirt: listAllDomains() + name() + info() per domain (timed inside Python)',
            python: py.python,
            baseline_ms: median(py.run.samples_ms),
            aim_ratio: 1,
            floor_raw_bulk_call_ms: Math.round(floorMs * 100) / 100,
            ours_before_after_python_ms: [Math.round(ms * 100) / 100, Math.round(median(after) * 100) / 100],
            reps,
          });
        } else {
          process.stdout.write(`${JSON.stringify({ bench: 'refresh', case: `refresh n=${n} vs python3-libvirt`, skipped: py.skipped })}\n`);
        }
        const baselineMs = await timeMedian(naive, Math.max(3, Math.ceil(reps / 2)), 1);
        report({
          bench: 'refresh',
          case: `refresh n=${n}`,
          ms,
          baseline: 'list + name + info per domain (@unraid/libvirt, parallel)',
          baseline_ms: baselineMs,
          speedup: Math.round((baselineMs / ms) * 10) / 10,
          floor_raw_bulk_call_ms: Math.round(floorMs * 100) / 100,
          reps,
        });
      } finally {
        await callAsync<number>(native.fn.virConnectClose, rawConn);
        await hv.connectClose();
        await host.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
