/**
 * `npm run bench -- backend`: the PostgreSQL state backend against the local file backend, in the same run.
 *
 * - save / load of a 10,000-VM cluster state (median of repetitions): PostgreSQL vs file (aim: save ≤ 3×).
 * - change propagation: time from a commit in one backend object (its own pool) to the NOTIFY reaching a listener
 *   on another connection, p50 / p95 over 50 commits; the baseline is the 250 ms aim.
 * - commit → snapshot: time from a commit by one desk (its own StateStore and pool) to the `workspace:changed` snapshot
 *   published by another desk's AppServices (its own data dir, LISTEN, re-read), p50 / p95 over 50 commits.
 *
 * Starts its own PostgreSQL (test/support/postgres.ts); prints a line with a `note` and no figures where it cannot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkspaceChange } from '../preload/contract';
import { composeServices } from '../main/compose';
import { confBackend } from '../main/settings/conf-backend';
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
    const notifySamples = samples.splice(0);
    const notifyLost = lost;
    lost = 0;

    // Commit on one desk → snapshot event on another (AppServices: LISTEN, then a fresh read of the workspace).
    const folder = join(dir, 'desk-b', 'fed');
    await mkdir(folder, { recursive: true });
    const url = `${pgf.url}?workspace=bench-desks`;
    await writeFile(join(folder, 'refedez.yaml'), `refedez: { folder: .refedez }\nmachines: {}\nclusterdesk: { backend: "${url}" }\n`);
    const deskB = await composeServices({ dataDir: join(dir, 'desk-b', 'data'), settingsBackend: confBackend(join(dir, 'desk-b', 'data')), host: 'serve' });
    const deskA = new StateStore();
    try {
      const entry = await deskB.addWorkspace(folder);
      const seenAt = new Map<number, number>();
      deskB.events.subscribe((e, p) => {
        const snap = e === 'workspace:changed' ? (p as WorkspaceChange).snapshot : undefined;
        if (snap && snap.id === entry.id && snap.serial !== null && !seenAt.has(snap.serial)) seenAt.set(snap.serial, performance.now());
        wake?.();
      });
      const target = { kind: 'federation' as const, file: join(dir, 'desk-a', 'state.json'), backend: { url, key: 'bench-desks' } };
      const fed = (n: number) => ({ type: 'dirty', data: { deployed_files_path: folder, machines: [], n } }) as never;
      await deskA.update(target, 'seed', () => fed(0));
      const until = performance.now() + 30_000;
      while (deskB.backends.connected(entry.id) !== true && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      for (let n = 1; n <= 50; n++) {
        const t0 = performance.now();
        const w = await deskA.update(target, 'bench', () => fed(n));
        const deadline = t0 + 5000;
        while (!seenAt.has(w.serial) && performance.now() < deadline) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 50);
          });
        }
        const at = seenAt.get(w.serial);
        if (at === undefined) lost++;
        samples.push((at ?? performance.now()) - t0);
      }
    } finally {
      deskB.dispose();
      await deskA.close();
    }
    report({
      bench: 'backend',
      case: 'propagation commit→snapshot on another desk (50 commits)',
      ms: percentile(samples, 95),
      baseline: 'aim p95 250 ms',
      baseline_ms: 250,
      p50_ms: Math.round(median(samples) * 100) / 100,
      p95_ms: Math.round(percentile(samples, 95) * 100) / 100,
      ...(lost ? { note: `${lost} of 50 snapshots not seen within 5 s` } : {}),
    });
    report({
      bench: 'backend',
      case: 'propagation commit→notify (50 commits)',
      ms: percentile(notifySamples, 95),
      baseline: 'aim p95 250 ms',
      baseline_ms: 250,
      p50_ms: Math.round(median(notifySamples) * 100) / 100,
      p95_ms: Math.round(percentile(notifySamples, 95) * 100) / 100,
      ...(notifyLost ? { note: `${notifyLost} of 50 notifications not heard within 5 s` } : {}),
    });
  } finally {
    await pgA.close();
    await pgB.close();
    await cleanup();
    await pgf.stop();
  }
}
