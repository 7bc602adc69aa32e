/**
 * The State tab's "move state" actions, as operations: push the workspace's local state file (and its history) to a
 * PostgreSQL backend, or pull a backend's state into the local file — the same functions as `clusterdesk state push`
 * and `state pull` (migrate.ts). The local file is always the file here, whatever backend the workspace uses.
 */
import type { TargetOutcome } from '../../../preload/contract';
import type { StateStore, StateTarget } from '../store';
import { pullToFile, pushToBackend } from './migrate';
import { PgStateBackend } from './postgres';

export interface MoveRequest {
  /** postgres://USER@HOST:PORT/DB?schema=…(&workspace=KEY) — no password. */
  readonly url: string;
  /** The workspace key; default the URL's `workspace=`, else `defaultKey`. */
  readonly key?: string;
  readonly adopt?: boolean;
  readonly signal?: AbortSignal;
}

async function withBackend<T>(store: StateStore, url: string, fn: (b: PgStateBackend) => Promise<T>): Promise<T> {
  const backend = PgStateBackend.create(url, { historyLimit: store.historyLimit, lockTimeoutMs: store.lockTimeoutMs });
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** Local file → backend (all or nothing; another lineage there needs `adopt`). */
export async function pushWorkspace(store: StateStore, target: StateTarget, defaultKey: string, req: MoveRequest): Promise<{ outcomes: TargetOutcome[] }> {
  return withBackend(store, req.url, async (backend) => {
    const key = req.key || backend.location.workspace || defaultKey;
    const r = await pushToBackend(
      store,
      { ...target, backend: null },
      backend,
      { kind: target.kind, key },
      {
        ...(req.adopt ? { adopt: true } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      },
    );
    return {
      outcomes: [
        { target: backend.labelOf(key), result: 'pushed', message: `${r.generations} generation(s), serial ${r.serial}, lineage ${r.lineage.slice(0, 8)}` },
      ],
    };
  });
}

/** Backend → local file (history included; another lineage in the file needs `adopt`). */
export async function pullWorkspace(store: StateStore, target: StateTarget, defaultKey: string, req: MoveRequest): Promise<{ outcomes: TargetOutcome[] }> {
  return withBackend(store, req.url, async (backend) => {
    const key = req.key || backend.location.workspace || defaultKey;
    const r = await pullToFile(
      backend,
      { kind: target.kind, key },
      store,
      { ...target, backend: null },
      {
        ...(req.adopt ? { adopt: true } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      },
    );
    return {
      outcomes: [{ target: target.file, result: 'pulled', message: `${r.generations} generation(s) from ${backend.labelOf(key)}, serial ${r.serial}` }],
    };
  });
}
