/**
 * The tray menu as a pure function of the events the host has sent — no file read, no snapshot build: the last
 * `workspaces:changed` list, each workspace's last `workspace:changed` snapshot, and the running / finished operations
 * from `operation:progress` / `operation:finished`. Actions are enabled by the one rule the window uses
 * (workspace-actions.ts). Electron's tray (main/app/tray.ts) renders this; `serve` answers it as `app:tray-template`.
 */
import type {
  EventMap,
  EventName,
  OperationFinished,
  TrayIcon,
  TrayItemAction,
  TrayMenuItem,
  TrayTemplate,
  WorkspaceEntry,
  WorkspaceSnapshot,
} from './contract';
import { driftAfter, outcomeSummary, snapshotDrift, type DriftMark } from './desk-model';
import { operationLabel } from './operation-labels';
import { actionsFor, reasonOf, workspaceStatus, type Verdict } from './workspace-actions';

/** What the host last heard, per workspace. */
export interface DeskState {
  readonly entries: readonly WorkspaceEntry[];
  readonly snapshots: Readonly<Record<string, WorkspaceSnapshot>>;
  /** The operation running on a workspace, as progress events announce it (cleared by its finished event). */
  readonly running: Readonly<Record<string, { readonly opId: string; readonly operation: string }>>;
  readonly last: Readonly<Record<string, OperationFinished>>;
  readonly drift: Readonly<Record<string, DriftMark>>;
}

export const EMPTY_DESK: DeskState = { entries: [], snapshots: {}, running: {}, last: {}, drift: {} };

function without<T>(map: Readonly<Record<string, T>>, id: string): Readonly<Record<string, T>> {
  if (!(id in map)) return map;
  const { [id]: _gone, ...rest } = map;
  void _gone;
  return rest;
}

function only<T>(map: Readonly<Record<string, T>>, ids: ReadonlySet<string>): Readonly<Record<string, T>> {
  return Object.fromEntries(Object.entries(map).filter(([id]) => ids.has(id)));
}

/** The desk after one event (events of unknown workspaces are kept: their entry may arrive later). */
export function applyDeskEvent<E extends EventName>(state: DeskState, event: E, payload: EventMap[E]): DeskState {
  switch (event) {
    case 'workspaces:changed': {
      const entries = payload as EventMap['workspaces:changed'];
      const ids = new Set(entries.map((e) => e.id));
      return { entries, snapshots: only(state.snapshots, ids), running: only(state.running, ids), last: only(state.last, ids), drift: only(state.drift, ids) };
    }
    case 'workspace:changed': {
      // Inside main every change carries the held snapshot (the same object: no copy); a bare patch changes nothing here.
      const snap = (payload as EventMap['workspace:changed']).snapshot;
      if (!snap) return state;
      return { ...state, snapshots: { ...state.snapshots, [snap.id]: snap } };
    }
    case 'operation:progress': {
      const ev = payload as EventMap['operation:progress'];
      if (state.running[ev.workspaceId]?.opId === ev.opId) return state;
      return { ...state, running: { ...state.running, [ev.workspaceId]: { opId: ev.opId, operation: ev.operation } } };
    }
    case 'operation:finished': {
      const ev = payload as EventMap['operation:finished'];
      const id = ev.workspaceId;
      const running = state.running[id]?.opId === ev.opId || !state.running[id] ? without(state.running, id) : state.running;
      const drift = driftAfter(state.drift[id] ?? null, ev, state.snapshots[id]?.status);
      return {
        ...state,
        running,
        last: { ...state.last, [id]: ev },
        drift: drift ? { ...state.drift, [id]: drift } : without(state.drift, id),
      };
    }
    default:
      return state;
  }
}

/** The workspace's drift mark: the last refresh / probe's, else the VMs the snapshot marks. */
export function driftOf(state: DeskState, id: string): DriftMark | null {
  return state.drift[id] ?? snapshotDrift(state.snapshots[id]);
}

function busyOf(state: DeskState, id: string): boolean {
  return Boolean(state.running[id] || state.snapshots[id]?.operation);
}

/** The quick actions of a workspace card and its tray submenu, in order, with the rule's verdict. */
export function quickActions(
  snapshot: WorkspaceSnapshot | undefined,
  kind: WorkspaceEntry['kind'],
  busy: boolean,
): readonly { readonly label: string; readonly channel: Extract<TrayItemAction, { kind: 'invoke' }>['channel']; readonly verdict: Verdict }[] {
  const can = actionsFor(snapshot, busy);
  if (kind === 'cluster') {
    return [
      { label: 'Start', channel: 'cluster:start', verdict: can.cluster.start },
      { label: 'Stop', channel: 'cluster:stop', verdict: can.cluster.stop },
      { label: 'Refresh', channel: 'cluster:refresh', verdict: can.cluster.refresh },
    ];
  }
  return [
    { label: 'Start', channel: 'federation:start', verdict: can.federation.start },
    { label: 'Probe', channel: 'federation:probe', verdict: can.federation.probe },
    { label: 'Stop', channel: 'federation:stop', verdict: can.federation.stop },
    { label: 'Clean', channel: 'federation:clean', verdict: can.federation.clean },
  ];
}

/** What "Refresh all" runs: each workspace's refresh (cluster) or probe (federation) where the rule allows it. */
export function refreshAllTargets(
  entries: readonly WorkspaceEntry[],
  snapshotOf: (id: string) => WorkspaceSnapshot | undefined,
  busyOf: (id: string) => boolean,
): readonly { readonly channel: 'cluster:refresh' | 'federation:probe'; readonly workspaceId: string }[] {
  const out: { channel: 'cluster:refresh' | 'federation:probe'; workspaceId: string }[] = [];
  for (const e of entries) {
    const can = actionsFor(snapshotOf(e.id), busyOf(e.id));
    if (e.kind === 'cluster' && can.cluster.refresh.allowed) out.push({ channel: 'cluster:refresh', workspaceId: e.id });
    if (e.kind === 'federation' && can.federation.probe.allowed) out.push({ channel: 'federation:probe', workspaceId: e.id });
  }
  return out;
}

/** The one word (or phrase) a workspace's status reads as in the tray and on the dashboard. */
export function statusText(state: DeskState, id: string): string {
  const running = state.running[id] ?? (state.snapshots[id]?.operation ? { operation: state.snapshots[id]!.operation!.name } : null);
  if (running) return `${operationLabel(running.operation)}…`;
  const snap = state.snapshots[id];
  const status = workspaceStatus(snap);
  const drift = driftOf(state, id);
  return drift ? `${status}, drift` : status;
}

const SEP = (id: string): TrayMenuItem => ({ id, label: '', enabled: false, separator: true });

/** The tray: the overall icon, a tooltip, and per workspace a submenu with its status and quick actions. */
export function trayTemplate(state: DeskState): TrayTemplate {
  const ids = state.entries.map((e) => e.id);
  const busy = ids.filter((id) => busyOf(state, id));
  const broken = ids.filter((id) => {
    const s = state.snapshots[id];
    const last = state.last[id];
    return Boolean(s?.error) || s?.status === 'error' || s?.status === 'partial' || (last && !last.ok && last.error?.code !== 'cancelled');
  });
  const drifting = ids.filter((id) => driftOf(state, id));
  const icon: TrayIcon = busy.length ? 'busy' : broken.length ? 'error' : drifting.length ? 'drift' : 'idle';
  const runningCount = ids.filter((id) => state.snapshots[id]?.status === 'running').length;
  const parts = [`${ids.length} workspace${ids.length === 1 ? '' : 's'}`, `${runningCount} running`];
  if (busy.length) parts.push(`${busy.length} busy`);
  if (broken.length) parts.push(`${broken.length} need attention`);
  if (drifting.length) parts.push(`${drifting.length} drifted`);

  const items: TrayMenuItem[] = [{ id: 'open', label: 'Open Clusterdesk', enabled: true, action: { kind: 'open' } }, SEP('sep-top')];
  if (ids.length === 0) items.push({ id: 'none', label: 'No workspaces yet', enabled: false });
  for (const e of state.entries) items.push(workspaceMenu(state, e));
  const refreshable = refreshAllTargets(
    state.entries,
    (id) => state.snapshots[id],
    (id) => busyOf(state, id),
  );
  items.push(SEP('sep-bottom'), {
    id: 'refresh-all',
    label: 'Refresh all',
    enabled: refreshable.length > 0,
    ...(refreshable.length === 0 ? { reason: 'No workspace can be refreshed or probed now.' } : {}),
    action: { kind: 'refresh-all' },
  });
  items.push({ id: 'quit', label: 'Quit', enabled: true, action: { kind: 'quit' } });
  return { icon, tooltip: `Clusterdesk: ${parts.join(', ')}`, items };
}

function workspaceMenu(state: DeskState, e: WorkspaceEntry): TrayMenuItem {
  const snap = state.snapshots[e.id];
  const prefix = `ws:${e.id}`;
  const info: TrayMenuItem[] = [{ id: `${prefix}:status`, label: `Status: ${statusText(state, e.id)}`, enabled: false }];
  if (snap?.error) info.push({ id: `${prefix}:error`, label: `${snap.error.code}: ${snap.error.message}`, enabled: false });
  const drift = driftOf(state, e.id);
  if (drift) info.push({ id: `${prefix}:drift`, label: `Drift: ${drift.summary}`, enabled: false });
  const last = state.last[e.id];
  if (last)
    info.push({
      id: `${prefix}:last`,
      label: `Last: ${operationLabel(last.operation)} — ${last.ok ? outcomeSummary(last) : `failed: ${last.error?.message ?? ''}`}`,
      enabled: false,
    });
  if (snap?.lock) info.push({ id: `${prefix}:lock`, label: `Locked by ${snap.lock.operation} (pid ${snap.lock.pid} on ${snap.lock.host})`, enabled: false });
  const actions: TrayMenuItem[] = quickActions(snap, e.kind, busyOf(state, e.id)).map((a) => {
    const reason = reasonOf(a.verdict);
    return {
      id: `${prefix}:${a.channel}`,
      label: a.label,
      enabled: a.verdict.allowed,
      ...(reason ? { reason } : {}),
      action: { kind: 'invoke', channel: a.channel, workspaceId: e.id },
    };
  });
  return { id: prefix, label: `${e.name} — ${statusText(state, e.id)}`, enabled: true, submenu: [...info, SEP(`${prefix}:sep`), ...actions] };
}

/** Finds an item by id anywhere in the template. */
export function findTrayItem(items: readonly TrayMenuItem[], id: string): TrayMenuItem | null {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu ? findTrayItem(item.submenu, id) : null;
    if (inner) return inner;
  }
  return null;
}
