/**
 * `npm run bench -- backend`: the PostgreSQL state backend against the local file backend, in the same run.
 *
 * - save / load of a 10,000-VM cluster state (median of repetitions): PostgreSQL vs file (aim: save ≤ 3×).
 * - change propagation: time from a commit in one backend object (its own pool) to the NOTIFY reaching a listener
 *   on another connection, p50 / p95 over 50 commits; the baseline is the 250 ms aim.
 *
 * Starts its own PostgreSQL (test/support/postgres.ts); prints a line with a `note` and no figures where it cannot.
 */
import { join } from 'node:path';
import { startPostgres, postgresUnavailable } from '../test/support/postgres';
import { PgStateBackend, type PgChange } from '../main/state/backends/postgres';
import { StateStore } from '../main/state/store';
import { sampleCluster, tempDir } from '../test/support/state/samples';
import { median, report, timeMedian } from './lib';

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function main(args: string[]): Promise<void> {
  const why = postgresUnavailable();
  if (why) {
    process.stdout.write(`${JSON.stringify({ bench: 'backend', case: 'all', skipped: true, note: why })}\n`);
    return;
  }
  const vms = Number(args[0] ?? 10_000);
  const reps = Number(args[1] ?? 9);
  const pgf = await startPostgres();
  process.env.PGPASSFILE = pgf.passfile;
  const { dir, cleanup } = await tempDir('cd-bench-backend-');
  const store = new StateStore({ historyLimit: 10 });
  const pgA = PgStateBackend.create(pgf.url, { historyLimit: 10 });
  const pgB = PgStateBackend.create(pgf.url);
  try {
    const state = sampleCluster(vms, 'bench');
    const file = join(dir, 'output', 'state.json');
    const fileTarget = { kind: 'cluster' as const, file };
    const pgTarget = { kind: 'cluster' as const, key: 'bench' };
    let i = 0;
    const fileSave = await timeMedian(() => store.update(fileTarget, 'bench', () => ({ ...state, counter: ++i })), reps);
    const pgSave = await timeMedian(() => pgA.update(pgTarget, 'bench', () => ({ ...state, counter: ++i })), reps);
    report({ bench: 'backend', case: `save n=${vms}`, ms: pgSave, baseline: 'file backend save', baseline_ms: fileSave, aim: '≤ 3' });
    const fileLoad = await timeMedian(() => store.load(fileTarget), reps);
    const pgLoad = await timeMedian(() => pgA.load(pgTarget), reps);
    report({ bench: 'backend', case: `load n=${vms}`, ms: pgLoad, baseline: 'file backend load', baseline_ms: fileLoad });

    // Propagation: small commits, one at a time, each timed until the other connection hears it.
    const small = { kind: 'cluster' as const, key: 'bench-propagation' };
    await pgA.update(small, 'seed', () => ({ ...sampleCluster(10, 'prop'), counter: 0 }));
    // Every serial heard, with the time it was heard: a NOTIFY can arrive before the committing call returns.
    const heardAt = new Map<number, number>();
    let wake: (() => void) | null = null;
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const stop = pgB.watch(
      (c: PgChange) => {
        if (c.key === small.key && c.serial !== null) heardAt.set(c.serial, performance.now());
        wake?.();
      },
      (s) => s.connected && connected(),
    );
    await ready;
    const samples: number[] = [];
    let lost = 0;
    for (let n = 0; n < 50; n++) {
      const t0 = performance.now();
      const w = await pgA.update(small, 'bench', (c) => ({ ...c!, counter: n }));
      const deadline = t0 + 5000;
      while (!heardAt.has(w.serial) && performance.now() < deadline) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      const at = heardAt.get(w.serial);
      if (at === undefined) lost++;
      samples.push((at ?? performance.now()) - t0);
    }
    stop();
    report({
      bench: 'backend',
      case: 'propagation commit→notify (50 commits)',
      ms: percentile(samples, 95),
      baseline: 'aim p95 250 ms',
      baseline_ms: 250,
      p50_ms: Math.round(median(samples) * 100) / 100,
      p95_ms: Math.round(percentile(samples, 95) * 100) / 100,
      ...(lost ? { note: `${lost} of 50 notifications not heard within 5 s` } : {}),
    });
  } finally {
    await pgA.close();
    await pgB.close();
    await cleanup();
    await pgf.stop();
  }
}
