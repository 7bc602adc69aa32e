import type { AppSettings, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { refreshAllTargets, type DeskState } from '../../preload/tray-template';
import { loadConfigInline } from '../clusters/workspace';
import { dispatch, type HandlerTable } from '../ipc/dispatch';
import type { AppServices } from '../services';
import { clusterWorkspaceOf } from './domain-workspaces';

/** A libvirt URI naming a host (`qemu+ssh://user@host/system`) is remote; `qemu:///system`, `test:///…` are local. */
export function isRemoteUri(uri: string): boolean {
  return /^[a-z0-9+.-]+:\/\/[^/]/i.test(uri.trim());
}

/** A federation is remote when any recorded machine is reached over SSH. */
export function isRemoteFederation(snapshot: WorkspaceSnapshot | undefined): boolean {
  return snapshot?.federation?.machines.some((m) => m.kind === 'remote') ?? false;
}

export type Intervals = Pick<AppSettings, 'autoRefreshLocalMin' | 'autoRefreshRemoteMin'>;

/**
 * Which periodic refreshes (clusters) and probes (federations) are due now: those the one rule allows (never over a
 * running operation), whose interval for their kind of host is on and has passed since `lastRun` (a workspace seen for
 * the first time starts its clock now: `lastRun` gets it). `remote` answers null while it does not know yet (skip).
 */
export function dueRefreshes(
  state: DeskState,
  now: number,
  lastRun: Map<string, number>,
  intervals: Intervals,
  remote: (entry: WorkspaceEntry) => boolean | null,
): readonly { readonly channel: 'cluster:refresh' | 'federation:probe'; readonly workspaceId: string }[] {
  const busy = (id: string) => Boolean(state.running[id] || state.snapshots[id]?.operation);
  const allowed = refreshAllTargets(state.entries, (id) => state.snapshots[id], busy);
  return allowed.filter((t) => {
    const entry = state.entries.find((e) => e.id === t.workspaceId)!;
    const far = remote(entry);
    if (far === null) return false;
    const minutes = far ? intervals.autoRefreshRemoteMin : intervals.autoRefreshLocalMin;
    if (minutes <= 0) return false;
    const last = lastRun.get(t.workspaceId);
    if (last === undefined) {
      lastRun.set(t.workspaceId, now);
      return false;
    }
    return now - last >= minutes * 60_000;
  });
}

/** How often the scheduler looks (it runs nothing unless something is due). */
const TICK_MS = 30_000;

/**
 * Periodic refresh / probe through the handler table (the same calls as the buttons, through `operate()`); what they
 * find reaches every window as events — drift found becomes a notification / toast (preload/desk-model.ts). A cluster's
 * URI is read from its config once, to tell local from remote. Returns the stop function.
 */
export function startAutoRefresh(table: HandlerTable, services: AppServices): () => void {
  const lastRun = new Map<string, number>();
  const remoteById = new Map<string, boolean | null>();
  const remote = (e: WorkspaceEntry): boolean | null => {
    if (e.kind === 'federation') return isRemoteFederation(services.desk.current().snapshots[e.id]);
    if (!remoteById.has(e.id)) {
      remoteById.set(e.id, null);
      loadConfigInline(clusterWorkspaceOf(e), process.env).then(
        (c) => remoteById.set(e.id, isRemoteUri(c.uri)),
        () => remoteById.delete(e.id),
      );
    }
    return remoteById.get(e.id) ?? null;
  };
  const tick = () => {
    const s = services.getSettings();
    if (s.autoRefreshLocalMin <= 0 && s.autoRefreshRemoteMin <= 0) return;
    void services.desk.start().then(() => {
      const now = Date.now();
      for (const t of dueRefreshes(services.desk.current(), now, lastRun, s, remote)) {
        lastRun.set(t.workspaceId, now);
        void dispatch(table, t.channel, { workspaceId: t.workspaceId });
      }
    });
  };
  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
