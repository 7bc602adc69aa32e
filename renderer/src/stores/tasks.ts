/**
 * The task list's pure transitions: every operation this page has heard of (its own or started elsewhere — the tray,
 * another window), its latest progress per target, and how it ended. Kept after the end, newest first, bounded.
 */
import type { OperationFinished, ProgressEvent, RecordedStatus } from '../../../preload/contract';
import { driftAfter, type DriftMark } from '../../../preload/desk-model';

export interface Task {
  readonly opId: string;
  readonly workspaceId: string;
  readonly operation: string;
  /** Page clock, ms, when the operation was first heard of (its `begin` event, sent as it starts). */
  readonly startedAt: number;
  readonly endedAt: number | null;
  /**
   * Latest progress per target ('' = the whole operation), in first-seen order. Updated in place (a 10,000-VM start
   * sends an event per VM: copying the map each time would be quadratic); `seq` counts the updates, and the task
   * object itself is new after each one, so subscribers still re-render.
   */
  readonly targets: ReadonlyMap<string, ProgressEvent>;
  readonly seq: number;
  readonly finished: OperationFinished | null;
}

/** Tasks kept; the oldest ended ones go first. */
export const TASK_LIMIT = 50;

function bound(list: readonly Task[]): readonly Task[] {
  if (list.length <= TASK_LIMIT) return list;
  const out = [...list];
  for (let i = out.length - 1; i >= 0 && out.length > TASK_LIMIT; i--) if (out[i]!.finished) out.splice(i, 1);
  return out;
}

export function taskProgress(list: readonly Task[], ev: ProgressEvent, now: number): readonly Task[] {
  const i = list.findIndex((t) => t.opId === ev.opId);
  if (i < 0) {
    const task: Task = {
      opId: ev.opId,
      workspaceId: ev.workspaceId,
      operation: ev.operation,
      startedAt: now,
      endedAt: null,
      targets: new Map([[ev.target, ev]]),
      seq: 1,
      finished: null,
    };
    return bound([task, ...list]);
  }
  const cur = list[i]!;
  if (cur.finished) return list; // a late event after the end changes nothing
  (cur.targets as Map<string, ProgressEvent>).set(ev.target, ev);
  const next = { ...cur, seq: cur.seq + 1 };
  return list.map((t, j) => (j === i ? next : t));
}

export function taskFinished(list: readonly Task[], ev: OperationFinished, now: number): readonly Task[] {
  const i = list.findIndex((t) => t.opId === ev.opId);
  if (i < 0) {
    const task: Task = {
      opId: ev.opId,
      workspaceId: ev.workspaceId,
      operation: ev.operation,
      startedAt: now,
      endedAt: now,
      targets: new Map(),
      seq: 0,
      finished: ev,
    };
    return bound([task, ...list]);
  }
  return list.map((t, j) => (j === i ? { ...t, endedAt: now, finished: ev } : t));
}

/** Per-target rows, the whole-operation row first; rows for targets that reported progress only. */
export function taskRows(task: Task): readonly ProgressEvent[] {
  const rows = [...task.targets.values()];
  return [...rows.filter((r) => r.target === ''), ...rows.filter((r) => r.target !== '')];
}

export type TaskState = 'running' | 'finished' | 'failed' | 'cancelled';

export function taskState(task: Task): TaskState {
  if (!task.finished) return 'running';
  if (task.finished.ok) return 'finished';
  return task.finished.error?.code === 'cancelled' ? 'cancelled' : 'failed';
}

/** "4 s", "2 min 05 s", "1 h 02 min". */
export function elapsedText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The last finished operation per workspace, and the drift the last refresh / probe left (see desk-model). */
export interface WorkspaceHistory {
  readonly last: OperationFinished | null;
  readonly drift: DriftMark | null;
}

export function historyAfter(prev: WorkspaceHistory | undefined, ev: OperationFinished, status: RecordedStatus | null | undefined): WorkspaceHistory {
  return { last: ev, drift: driftAfter(prev?.drift ?? null, ev, status) };
}
