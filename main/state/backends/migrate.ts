/**
 * Moving a workspace's state between backends with its history, like `terraform init -migrate-state`:
 * `clusterdesk state push --to postgres://…` and `clusterdesk state pull --to-file`. Generations move verbatim (the
 * exact text), so a push followed by a pull gives a byte-equal state file and the same history.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors';
import { atomicWrite, ensureDir } from '../atomic-write';
import { foreignError, fsError } from '../errors';
import { historyName, listHistory } from '../history';
import { siblingPaths } from '../locations';
import { parseState } from '../parse';
import type { StateKind, StateOf } from '../schema';
import type { StateStore, StateTarget } from '../store';
import type { PgStateBackend, PgTarget, RawGeneration } from './postgres';

export interface MoveResult {
  readonly generations: number;
  readonly serial: number;
  readonly lineage: string;
}

/** Copies a state file and its history into the backend (all or nothing). Another lineage there needs `adopt`. */
export async function pushToBackend<K extends StateKind>(
  store: StateStore,
  from: StateTarget<K>,
  to: PgStateBackend,
  target: PgTarget<K>,
  opts: { readonly adopt?: boolean; readonly signal?: AbortSignal } = {},
): Promise<MoveResult> {
  return store.transaction(
    from,
    'push',
    async (tx) => {
      const current = await tx.read();
      if (!current)
        throw new AppError('not-found', `${from.file} holds no state to push.`, { path: from.file, hint: 'Start the deployment (or restore a backup) first.' });
      if (typeof current.serial !== 'number' || typeof current.lineage !== 'string') {
        throw new AppError('state-foreign', `${from.file} was written by another tool (no serial or lineage).`, {
          path: from.file,
          hint: 'Adopt it first (clusterdesk state adopt), then push.',
        });
      }
      const gens = new Map<number, RawGeneration>();
      for (const h of await listHistory(from.file)) {
        try {
          const text = await readFile(h.path, 'utf8');
          const { state } = parseState(from.kind, text, h.path);
          if (state.lineage !== current.lineage) continue; // an adopted foreign original stays behind
          gens.set(h.serial, {
            serial: h.serial,
            text,
            savedAt: typeof state.last_modified === 'string' ? state.last_modified : (await stat(h.path)).mtime.toISOString(),
          });
        } catch {
          // a damaged generation is not worth moving
        }
      }
      const text = await readFile(from.file, 'utf8');
      gens.set(current.serial, {
        serial: current.serial,
        text,
        savedAt: typeof current.last_modified === 'string' ? current.last_modified : new Date().toISOString(),
      });
      const list = [...gens.values()].sort((a, b) => a.serial - b.serial);
      const done = await to.importGenerations(target, list, opts);
      return { generations: list.length, ...done };
    },
    opts.signal ? { signal: opts.signal } : {},
  );
}

/**
 * Writes the backend's state and history into a state file (its history folder included). Refuses a file of another
 * lineage (unless `adopt`) or one ahead of the backend.
 */
export async function pullToFile<K extends StateKind>(
  from: PgStateBackend,
  source: PgTarget<K>,
  store: StateStore,
  to: StateTarget<K>,
  opts: { readonly adopt?: boolean; readonly signal?: AbortSignal } = {},
): Promise<MoveResult> {
  const text = await from.currentText(source.key);
  const label = from.labelOf(source.key);
  if (text === null) throw new AppError('not-found', `${label} holds no state to pull.`, { path: label });
  const { state } = parseState(source.kind, text, label);
  const lineage = state.lineage as string;
  const serial = state.serial as number;
  const history = (await from.history(source.key)).filter((g) => g.serial !== serial);
  return store.transaction(
    to,
    'pull',
    async (tx) => {
      let existing: StateOf<K> | null = null;
      try {
        existing = await tx.read();
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'state-foreign' && opts.adopt)) throw err;
      }
      if (existing && existing.lineage !== lineage && !opts.adopt) throw foreignError(to.file, String(existing.lineage), lineage);
      if (existing && existing.lineage === lineage && (existing.serial ?? 0) > serial) {
        throw new AppError('state-stale', `${to.file} is ahead of ${label} (serial ${existing.serial} > ${serial}).`, {
          path: to.file,
          hint: 'Push it instead (clusterdesk state push --to …), or pull into another file.',
        });
      }
      const dir = siblingPaths(to.file).history;
      await ensureDir(dir, to.file);
      for (const g of history) {
        try {
          await writeFile(join(dir, historyName(g.serial)), g.text, { mode: 0o600 });
        } catch (err) {
          throw fsError(err, to.file, 'write the history of');
        }
      }
      await atomicWrite(to.file, text, { historyName: historyName(serial) });
      return { generations: history.length + 1, serial, lineage };
    },
    opts.signal ? { signal: opts.signal } : {},
  );
}
