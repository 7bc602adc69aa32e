/**
 * Pure state transitions behind the zustand stores, kept free of React and of the API so they run in Node tests.
 */
import type { ErrorData, OperationFinished, ProgressEvent, TargetOutcome, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';

// ------------------------------------------------------------------------------------------------ workspaces

/** Keep the selection if it still exists, else fall back to the first workspace (or none). */
export function reconcileSelection(entries: readonly WorkspaceEntry[], selectedId: string | null): string | null {
  if (selectedId && entries.some((e) => e.id === selectedId)) return selectedId;
  return entries[0]?.id ?? null;
}

/** Ids present in `next` but not in `prev`: the workspaces whose snapshot must be fetched. */
export function addedIds(prev: readonly WorkspaceEntry[], next: readonly WorkspaceEntry[]): readonly string[] {
  const known = new Set(prev.map((e) => e.id));
  return next.filter((e) => !known.has(e.id)).map((e) => e.id);
}

// ------------------------------------------------------------------------------------------------ snapshots

export type SnapshotMap = Readonly<Record<string, WorkspaceSnapshot>>;

/** Replace one workspace's snapshot (main's snapshot is the truth; the latest one wins). */
export function upsertSnapshot(map: SnapshotMap, snapshot: WorkspaceSnapshot): SnapshotMap {
  return { ...map, [snapshot.id]: snapshot };
}

/** Drop snapshots of workspaces that are no longer registered. */
export function pruneSnapshots(map: SnapshotMap, ids: readonly string[]): SnapshotMap {
  const keep = new Set(ids);
  const out: Record<string, WorkspaceSnapshot> = {};
  for (const [id, s] of Object.entries(map)) if (keep.has(id)) out[id] = s;
  return out;
}

// ------------------------------------------------------------------------------------------------ operations

/** How the last operation on a workspace ended, shown until the next one starts. */
export interface OperationOutcome {
  /** Known when the outcome came from a finished event (a refusal before the start has none). */
  readonly opId?: string;
  readonly operation: string;
  readonly ok: boolean;
  readonly error?: ErrorData;
  readonly outcomes: readonly TargetOutcome[];
}

/** Everything the UI knows about operations on one workspace. */
export interface WorkspaceOps {
  /** Label of our own in-flight invoke (e.g. `cluster:start`), so buttons disable before main's first event. */
  readonly pending: string | null;
  /** The running operation as seen through progress events; null once finished. */
  readonly opId: string | null;
  readonly operation: string | null;
  /** Latest progress event per target ('' = the whole operation), in first-seen order. */
  readonly targets: Readonly<Record<string, ProgressEvent>>;
  /** Recent progress messages, oldest first, bounded. */
  readonly log: readonly ProgressEvent[];
  readonly last: OperationOutcome | null;
}

export const EMPTY_OPS: WorkspaceOps = { pending: null, opId: null, operation: null, targets: {}, log: [], last: null };

/** Progress messages kept per workspace; a 10,000-VM start must not grow the store without bound. */
export const LOG_LIMIT = 500;

export type OpsMap = Readonly<Record<string, WorkspaceOps>>;

function get(map: OpsMap, workspaceId: string): WorkspaceOps {
  return map[workspaceId] ?? EMPTY_OPS;
}

/** Our own invoke started: mark the workspace busy and clear the previous outcome. */
export function beginInvoke(map: OpsMap, workspaceId: string, label: string): OpsMap {
  return { ...map, [workspaceId]: { ...get(map, workspaceId), pending: label, last: null } };
}

/**
 * Our own invoke settled. The operation's outcome comes with its finished event (for every window alike); `refusal`
 * is only for an invoke refused before any operation began (busy, a bad argument), which no event reports.
 */
export function endInvoke(map: OpsMap, workspaceId: string, refusal: OperationOutcome | null): OpsMap {
  const cur = get(map, workspaceId);
  return { ...map, [workspaceId]: { ...cur, pending: null, ...(refusal ? { last: refusal } : {}) } };
}

/** A progress event: a new opId starts a fresh progress view; the same opId updates its target and appends to the log. */
export function applyProgress(map: OpsMap, ev: ProgressEvent): OpsMap {
  const cur = get(map, ev.workspaceId);
  const fresh = cur.opId !== ev.opId;
  const targets = fresh ? {} : cur.targets;
  const log = fresh ? [] : cur.log;
  const nextLog = log.length >= LOG_LIMIT ? [...log.slice(log.length - LOG_LIMIT + 1), ev] : [...log, ev];
  return {
    ...map,
    [ev.workspaceId]: {
      ...cur,
      opId: ev.opId,
      operation: ev.operation,
      targets: { ...targets, [ev.target]: ev },
      log: nextLog,
      last: fresh ? null : cur.last,
    },
  };
}

/**
 * An operation finished: its outcome (with the per-target results) is recorded, whoever started it — this window,
 * the tray or another window. Progress is kept visible (it is the story of what happened) but the workspace stops
 * being busy.
 */
export function applyFinished(map: OpsMap, ev: OperationFinished): OpsMap {
  const cur = get(map, ev.workspaceId);
  if (cur.opId !== null && cur.opId !== ev.opId) return map; // a stale event for an older operation
  const last: OperationOutcome = {
    opId: ev.opId,
    operation: ev.operation,
    ok: ev.ok,
    ...(ev.error ? { error: ev.error } : {}),
    outcomes: ev.outcomes,
  };
  return { ...map, [ev.workspaceId]: { ...cur, opId: null, last } };
}

export function clearLast(map: OpsMap, workspaceId: string): OpsMap {
  const cur = map[workspaceId];
  return cur ? { ...map, [workspaceId]: { ...cur, last: null } } : map;
}

/** Whether a workspace is busy: our own call in flight, progress without a finish yet, or main says one runs. */
export function isBusy(ops: WorkspaceOps | undefined, snapshot: WorkspaceSnapshot | undefined): boolean {
  return Boolean(ops?.pending || ops?.opId || snapshot?.operation);
}

/** Progress rows in first-seen order; the whole-operation row ('') first. */
export function progressRows(ops: WorkspaceOps): readonly ProgressEvent[] {
  const rows = Object.values(ops.targets);
  return [...rows.filter((r) => r.target === ''), ...rows.filter((r) => r.target !== '')];
}

// ------------------------------------------------------------------------------------------------ errors

export interface Banner {
  readonly id: number;
  /** What was being done, e.g. `Adding workspace`. */
  readonly title: string;
  readonly error: ErrorData;
  readonly workspaceId: string | null;
}

/** Add a banner unless the same error is already shown for the same context (repeated clicks). */
export function pushBanner(banners: readonly Banner[], banner: Banner): readonly Banner[] {
  const dup = banners.some(
    (b) => b.title === banner.title && b.workspaceId === banner.workspaceId && b.error.code === banner.error.code && b.error.message === banner.error.message,
  );
  return dup ? banners : [...banners, banner];
}
