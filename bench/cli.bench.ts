/**
 * CLI start-up: `clusterdesk --version`, `hpc status` (test-driver cluster) and `fed status` against bare `node -e 0`,
 * all spawned from the same node binary in the same run, interleaved so they share the machine's load. Runs the built
 * CLI (bin/clusterdesk.js → out/main/cli.js), as a user does: run `npm run build` (or `npx electron-vite build`) first.
 *
 *   npm run bench -- cli [--reps 10]
 *   NODE_DISABLE_COMPILE_CACHE=1 npm run bench -- cli    (without Node's compile cache, which bin/clusterdesk.js enables)
 *   npm run bench -- cli --compare /tmp/main-copy        (also times another built checkout, e.g. main, in the same rounds)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDemoCluster } from '../main/clusters/service';
import { median, report } from './lib';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'clusterdesk.js');

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Wall time of one process from spawn to exit, in ms; the exit code is checked so a failing command is not timed. */
function timeProcess(argv: readonly string[], cwd: string): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - t0, code, stderr }));
  });
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  const reps = Number(arg(args, '--reps') ?? 10);
  // Another built checkout (its bin/clusterdesk.js), timed in the same interleaved rounds: on a shared, loaded
  // machine only a same-run comparison says whether a change helped.
  const compare = arg(args, '--compare');
  const compareBin = compare ? join(compare, 'bin', 'clusterdesk.js') : null;
  if (compare && !existsSync(join(compare, 'out', 'main', 'cli.js'))) {
    process.stdout.write(
      `${JSON.stringify({ bench: 'cli', skipped: `--compare ${compare}: not a built checkout (run \`npx electron-vite build\` there)` })}\n`,
    );
    return;
  }
  if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) {
    process.stdout.write(`${JSON.stringify({ bench: 'cli', skipped: 'the CLI is not built: run `npm run build` first' })}\n`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'clusterdesk-bench-cli-'));
  try {
    const dataDir = join(dir, 'data');
    const demo = await createDemoCluster(dataDir, join(dir, 'demo'));
    const fed = join(dir, 'fed');
    await mkdir(fed, { recursive: true });
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: ./.refedez\n  capabilities: ./project.yml\n  kits: ./kits\nmachines: {}\n');
    const casesOf = (bin: string, suffix: string): { name: string; argv: string[] }[] => [
      { name: `--version${suffix}`, argv: [bin, '--version'] },
      { name: `hpc status${suffix}`, argv: [bin, '--data-dir', dataDir, 'hpc', 'status', demo.configFile] },
      { name: `fed status${suffix}`, argv: [bin, '--data-dir', dataDir, 'fed', 'status', fed] },
    ];
    const cases = [...casesOf(BIN, ''), ...(compareBin ? casesOf(compareBin, ` (${compare ?? ''})`) : [])];
    const bare: number[] = [];
    const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    const failures = new Map<string, string>();
    // One warm-up round (file cache), then `reps` interleaved rounds.
    for (let round = -1; round < reps; round++) {
      const b = await timeProcess(['-e', '0'], dir);
      if (round >= 0) bare.push(b.ms);
      for (const c of cases) {
        const r = await timeProcess(c.argv, dir);
        if (r.code !== 0) failures.set(c.name, `exit ${String(r.code)}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
        else if (round >= 0) samples.get(c.name)!.push(r.ms);
      }
    }
    const bareMs = median(bare);
    const aims: Record<string, number> = { '--version': 1.5, 'hpc status': 2.5, 'fed status': 2.5 };
    for (const c of cases) {
      const s = samples.get(c.name)!;
      const failed = failures.get(c.name);
      if (!s.length) {
        process.stdout.write(`${JSON.stringify({ bench: 'cli', case: `clusterdesk ${c.name}`, skipped: `the command failed: ${failed ?? 'no samples'}` })}\n`);
        continue;
      }
      const base = c.name.replace(/ \(.*\)$/, '');
      report({
        bench: 'cli',
        case: `clusterdesk ${c.name}`,
        ms: median(s),
        baseline: 'node -e 0 (same binary, same run)',
        baseline_ms: bareMs,
        aim_ratio: aims[base],
        reps: s.length,
        node: process.version,
        // bin/clusterdesk.js turns Node's compile cache on (filled by the warm-up round); NODE_DISABLE_COMPILE_CACHE=1
        // measures without it.
        compile_cache: process.env.NODE_DISABLE_COMPILE_CACHE ? 'off' : 'on',
        ...(failed ? { note: `some runs failed: ${failed}` } : {}),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
