/**
 * What the desktop surfaces say about operations — one pure model for the task list, the dashboard, the tray and the
 * notifications (Electron's on the desktop, the page's toasts in a browser), so they cannot word things differently:
 * an operation's outcome summary, the drift its refresh or probe found, and the notification it deserves.
 */
import type { OperationFinished, RecordedStatus, TargetOutcome, WorkspaceSnapshot } from './contract';
import { operationLabel } from './operation-labels';

/** Results that are a problem for their target: listed with the target's name and why. */
const PROBLEM_RESULTS: ReadonlySet<string> = new Set(['failed', 'unreachable', 'exited', 'cancelled', 'drift', 'timeout']);

/** How many targets a problem group names before "+N more". */
const NAMED = 3;

/**
 * One line for an operation's per-target outcomes, grouped by result in first-seen order: "6 stopped, 2 forced";
 * problems name their targets and why: "3 signalled, 1 unreachable: site3 — connection timed out". An operation without
 * per-target outcomes says "Done" or its error.
 */
export function outcomeSummary(ev: {
  readonly ok: boolean;
  readonly error?: { readonly message: string };
  readonly outcomes: readonly TargetOutcome[];
}): string {
  if (ev.outcomes.length === 0) return ev.ok ? 'Done' : (ev.error?.message ?? 'Failed');
  const groups = new Map<string, TargetOutcome[]>();
  for (const o of ev.outcomes) {
    const list = groups.get(o.result);
    if (list) list.push(o);
    else groups.set(o.result, [o]);
  }
  const parts: string[] = [];
  for (const [result, list] of groups) {
    const problem = PROBLEM_RESULTS.has(result) || list.some((o) => o.error);
    const counted = list.every((o) => o.target === '') ? result : `${list.length} ${result}`;
    if (!problem) {
      parts.push(counted);
      continue;
    }
    const named = list.slice(0, NAMED).map((o) => {
      const why = o.error?.message ?? o.message;
      const who = o.target || 'overall';
      return why ? `${who} — ${why}` : who;
    });
    const more = list.length > NAMED ? `; +${list.length - NAMED} more` : '';
    parts.push(`${counted}: ${named.join('; ')}${more}`);
  }
  return parts.join(', ');
}

/** Drift found by the last refresh (cluster) or probe (federation): how many resources differ, and which. */
export interface DriftMark {
  readonly count: number;
  readonly summary: string;
  readonly source: 'refresh' | 'probe';
}

/** The operations whose outcomes say what drifted. */
export const DRIFT_SOURCES: ReadonlySet<string> = new Set(['cluster:refresh', 'federation:probe']);
/** Writes that end with a probe of the federation's machines (a cluster's refresh goes into the snapshot instead). */
const PROBED_AFTER_WRITE: ReadonlySet<string> = new Set(['state:restore', 'state:import']);

/**
 * The drift a finished refresh or probe reports (null: none, or not such an operation). A refresh's outcome per
 * difference has result `drift` (not applied) or `recorded` (applied); a probe's per machine is `alive`, `exited`,
 * `unreachable` or `unknown` — a drift when it disagrees with the recorded status (a running federation whose
 * participant exited, a stopped one whose participant still runs).
 */
export function driftFromFinished(ev: OperationFinished, status: RecordedStatus | null | undefined): DriftMark | null {
  if (!ev.ok || !DRIFT_SOURCES.has(ev.operation)) return null;
  const refresh = ev.operation === 'cluster:refresh';
  const items = refresh
    ? ev.outcomes.filter((o) => o.result === 'drift')
    : ev.outcomes.filter((o) =>
        status === 'running' ? o.result === 'exited' || o.result === 'unreachable' : status === 'dirty' || status === 'clean' ? o.result === 'alive' : false,
      );
  if (items.length === 0) return null;
  const named = items.slice(0, 2).map((o) => (o.message ? `${o.target} — ${o.message}` : `${o.target} ${o.result}`));
  const more = items.length > 2 ? `; +${items.length - 2} more` : '';
  return {
    count: items.length,
    summary: `${items.length} difference${items.length === 1 ? '' : 's'} from the record: ${named.join('; ')}${more}`,
    source: refresh ? 'refresh' : 'probe',
  };
}

/**
 * The drift mark after an operation ended: a refresh or probe replaces it with what it found (a failed one keeps the
 * old mark); any other operation on the workspace makes it obsolete (what was compared has changed).
 */
export function driftAfter(prev: DriftMark | null, ev: OperationFinished, status: RecordedStatus | null | undefined): DriftMark | null {
  if (DRIFT_SOURCES.has(ev.operation)) return ev.ok ? driftFromFinished(ev, status) : prev;
  // A restore or import of a federation ends with a probe (main/ipc/table.ts): its per-machine results are a probe's.
  if (PROBED_AFTER_WRITE.has(ev.operation) && ev.ok) return driftFromFinished({ ...ev, operation: 'federation:probe' }, status);
  return null;
}

/** VMs the snapshot marks as drifted (the last unapplied refresh's notes, `VmView.drift`). */
export function snapshotDrift(snapshot: WorkspaceSnapshot | undefined): DriftMark | null {
  const vms = snapshot?.cluster?.vms.filter((v) => v.drift) ?? [];
  if (vms.length === 0) return null;
  const named = vms.slice(0, 2).map((v) => `${v.name} — ${v.drift}`);
  const more = vms.length > 2 ? `; +${vms.length - 2} more` : '';
  return { count: vms.length, summary: `${vms.length} VM${vms.length === 1 ? '' : 's'} differ from the record: ${named.join('; ')}${more}`, source: 'refresh' };
}

/** A notification about an operation, for Electron's notifications and the page's toasts alike. */
export interface DeskNotification {
  /** Unique per operation and kind (so a toast shown once is never shown twice). */
  readonly key: string;
  readonly kind: 'finished' | 'failed' | 'drift';
  readonly workspaceId: string;
  readonly title: string;
  readonly body: string;
}

/** Reads that say nothing when they succeed without news (drift, when found, is the news). */
const QUIET: ReadonlySet<string> = new Set(['cluster:refresh', 'cluster:validate', 'federation:probe']);

/**
 * The one notification an ended operation deserves, or null: a failure (not a cancellation: the user asked for it),
 * drift found by a refresh or probe (manual or periodic), or a mutation that finished, with its outcome summary.
 */
export function notificationFor(ev: OperationFinished, workspaceName: string, drift: DriftMark | null): DeskNotification | null {
  const label = operationLabel(ev.operation);
  const base = { workspaceId: ev.workspaceId };
  if (!ev.ok) {
    if (ev.error?.code === 'cancelled') return null;
    const body = [ev.error?.message ?? 'Unknown error.', ev.error?.hint].filter(Boolean).join(' ');
    return { ...base, key: `${ev.opId}:failed`, kind: 'failed', title: `${workspaceName}: ${label} failed`, body };
  }
  if (QUIET.has(ev.operation)) {
    if (!drift) return null;
    return { ...base, key: `${ev.opId}:drift`, kind: 'drift', title: `${workspaceName}: drift found`, body: drift.summary };
  }
  return { ...base, key: `${ev.opId}:finished`, kind: 'finished', title: `${workspaceName}: ${label} finished`, body: outcomeSummary(ev) };
}

/**
 * Whether the desktop shows a notification now: failures and drift always; a finished operation only when the window
 * is not focused (the window already shows it).
 */
export function desktopShows(n: DeskNotification, windowFocused: boolean): boolean {
  return n.kind !== 'finished' || !windowFocused;
}
