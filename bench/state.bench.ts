/**
 * State engine benchmark: safe save and load+validation against naive baselines measured in the same run.
 *
 *   npm run bench -- state [--sizes 100,1000,10000]
 *
 * - save: `transaction → tx.write` (lock + validation + tmp write + fsync + .backup hard link + rename + folder
 *   fsync + history copy + trim) vs `JSON.stringify` + `writeFile` of the same text (no fsync, no lock).
 * - update: `store.update` (the above plus reading and validating the current file) vs read + parse + stringify +
 *   writeFile.
 * - load: `store.load` (read + parse + schema validation) vs `readFile` + `JSON.parse`.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCertainlyValidCluster } from '../main/state/fast-validate';
import { clusterStateSchema, serializeState, StateStore, type StateTarget } from '../main/state/index';
import { sampleCluster, tempDir } from '../test/support/state/samples';
import { report, timeMedian } from './lib';

function parseSizes(args: readonly string[]): number[] {
  const i = args.indexOf('--sizes');
  const raw = i >= 0 ? args[i + 1] : undefined;
  return raw
    ? raw
        .split(',')
        .map(Number)
        .filter((n) => n > 0)
    : [100, 1000, 10_000];
}

/** Entry point called by bench/run.ts. */
export async function main(args: string[]): Promise<void> {
  const { dir, cleanup } = await tempDir('clusterdesk-bench-');
  try {
    for (const n of parseSizes(args)) {
      const reps = n >= 10_000 ? 15 : n >= 1000 ? 30 : 60;
      const state = sampleCluster(n, 'bench');
      const target: StateTarget<'cluster'> = { kind: 'cluster', file: join(dir, `n${n}`, 'state.json') };
      const naiveFile = join(dir, `naive-${n}.json`);
      const store = new StateStore();
      await store.update(target, 'bench-init', () => state);

      const naiveSave = await timeMedian(() => writeFile(naiveFile, serializeState(state)), reps, 2);
      const safeSave = await timeMedian(() => store.transaction(target, 'bench-save', (tx) => tx.write(state)), reps, 2);
      const size = (await stat(target.file)).size;
      report({
        bench: 'state',
        case: `save n=${n}`,
        ms: safeSave,
        baseline: 'naive JSON.stringify + writeFile (no fsync, no lock)',
        baseline_ms: naiveSave,
        size_bytes: size,
        includes: 'lock, validation, tmp write, fsync, .backup link, rename, dir fsync, history copy, trim',
      });

      const naiveUpdate = await timeMedian(
        async () => {
          const cur = JSON.parse(await readFile(naiveFile, 'utf8')) as typeof state;
          await writeFile(naiveFile, serializeState({ ...cur, status: 'running' }));
        },
        reps,
        2,
      );
      const safeUpdate = await timeMedian(() => store.update(target, 'bench-update', (cur) => ({ ...cur!, status: 'running' })), reps, 2);
      report({
        bench: 'state',
        case: `update n=${n}`,
        ms: safeUpdate,
        baseline: 'naive readFile + JSON.parse + stringify + writeFile',
        baseline_ms: naiveUpdate,
        size_bytes: size,
      });

      const naiveLoad = await timeMedian(async () => JSON.parse(await readFile(target.file, 'utf8')) as unknown, reps, 2);
      const safeLoad = await timeMedian(() => store.load(target), reps, 2);
      const text = await readFile(target.file, 'utf8');
      const parsed = JSON.parse(text) as unknown;
      const fastMs = await timeMedian(() => isCertainlyValidCluster(parsed), reps, 2);
      const zodMs = await timeMedian(() => clusterStateSchema.parse(parsed), reps, 2);
      report({
        bench: 'state',
        case: `load n=${n}`,
        ms: safeLoad,
        baseline: 'readFile + JSON.parse (no validation)',
        baseline_ms: naiveLoad,
        size_bytes: size,
        fast_validation_ms: Math.round(fastMs * 100) / 100,
        zod_validation_ms: Math.round(zodMs * 100) / 100,
      });
    }
  } finally {
    await cleanup();
  }
}
