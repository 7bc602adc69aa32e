/**
 * Which workspace-level actions a snapshot allows, and why not — one rule for the window's buttons (a sentence for
 * the tooltip), the tray's menu and the CLI's refusals, so they cannot disagree. Pure: no I/O, shared by main and
 * the renderer. Per-VM actions live beside it in vm-actions.ts.
 */
import type { RecordedStatus, WorkspaceSnapshot } from './contract';

/**
 * What a workspace's badge says: its recorded status; `unreadable` when the state file cannot be read (corrupt,
 * foreign, mismatched — restore comes first); `loading` before the first snapshot. A cluster whose *recorded* status
 * is `error` is readable and keeps its actions.
 */
export type WorkspaceStatus = RecordedStatus | 'unreadable' | 'loading';

export function workspaceStatus(snapshot: WorkspaceSnapshot | undefined): WorkspaceStatus {
  if (!snapshot) return 'loading';
  if (snapshot.error || snapshot.status === null) return 'unreadable';
  return snapshot.status;
}

/**
 * An action's verdict. `noop` marks an action the domain would accept and do nothing with (stop a stopped cluster,
 * clean a clean federation): the UI disables it, the CLI still runs it (scripts may repeat a command safely); a
 * verdict without `noop` is a refusal everywhere.
 */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly noop?: true };

export type ClusterAction = 'start' | 'stop' | 'destroy' | 'refresh' | 'validate';
export type FederationAction = 'start' | 'probe' | 'stop' | 'clean';

export interface ActionInput {
  readonly status: WorkspaceStatus;
  /** An operation runs on the workspace (or our own call is in flight). */
  readonly busy: boolean;
  /** Federations: machines recorded (a dirty federation with none left has nothing to clean before a start). */
  readonly machines?: number;
  /**
   * Clusters: the last refresh (or the check after a restore/import) found VMs whose live state differs from the
   * record. A cluster recorded `running` with drift may be started: start brings every VM to the recorded state.
   */
  readonly drift?: boolean;
  /** Federations: the user asked to clean a running federation with force (which stops it first). */
  readonly force?: boolean;
}

const OK: Verdict = { allowed: true };
const no = (reason: string): Verdict => ({ allowed: false, reason });
const noop = (reason: string): Verdict => ({ allowed: false, reason, noop: true });

export const BUSY_REASON = 'Another operation is running on this workspace; wait for it or cancel it.';
export const UNREADABLE_REASON = 'The state file cannot be read: restore a backup (State tab) or fix the file first.';
export const LOADING_REASON = 'Reading the workspace…';

/** The verdict shared by every action of a workspace that is busy, unreadable or still loading; null otherwise. */
function blocked(input: ActionInput): Verdict | null {
  if (input.status === 'loading') return no(LOADING_REASON);
  if (input.busy) return no(BUSY_REASON);
  if (input.status === 'unreadable') return no(UNREADABLE_REASON);
  return null;
}

/**
 * Cluster actions. Start is resumable (it adopts what exists), so it stays available for stopped, partial and
 * recorded-`error` clusters; stop needs something that may run; destroy and refresh need something recorded.
 * Validate only reads the config, so an unreadable state does not stop it.
 */
export function clusterActions(input: ActionInput): Readonly<Record<ClusterAction, Verdict>> {
  const b = blocked(input);
  const s = input.status;
  const validate = input.status === 'loading' ? no(LOADING_REASON) : input.busy ? no(BUSY_REASON) : OK;
  if (b) return { start: b, stop: b, destroy: b, refresh: b, validate };
  return {
    start: s === 'running' && !input.drift ? noop('The cluster is already running.') : OK,
    stop: s === 'none' ? no('Nothing is recorded to stop: start the cluster first.') : s === 'stopped' ? noop('The cluster is already stopped.') : OK,
    destroy: s === 'none' ? noop('Nothing is recorded to destroy.') : OK,
    refresh: s === 'none' ? noop('Nothing is recorded yet to compare with libvirt: start the cluster first.') : OK,
    validate,
  };
}

/**
 * Federation actions, following the ReFedEz lifecycle clean → running → dirty → clean. Start needs clean (a dirty
 * federation still has folders on its machines: clean first, or they would be forgotten); probe is read-only and also
 * useful on a dirty one (did every participant really exit?); clean of a running federation needs force.
 */
export function federationActions(input: ActionInput): Readonly<Record<FederationAction, Verdict>> {
  const b = blocked(input);
  if (b) return { start: b, probe: b, stop: b, clean: b };
  const s = input.status;
  const dirtyWithMachines = s === 'dirty' && (input.machines ?? 1) > 0;
  return {
    start:
      s === 'running'
        ? no('The federation is already running: stop it first (then clean).')
        : dirtyWithMachines
          ? no('The federation is dirty: clean first, so the machines’ temp folders are not forgotten.')
          : OK,
    probe: s === 'clean' ? noop('Nothing is recorded to probe: the federation is clean.') : OK,
    stop: s === 'running' ? OK : s === 'dirty' ? noop('The federation is already stopped.') : noop('The federation is not running.'),
    clean:
      s === 'clean'
        ? noop('The federation is already clean.')
        : s === 'running' && !input.force
          ? no('The federation is running: stop it first, or clean with force (which stops it first).')
          : OK,
  };
}

/** The verdicts for a snapshot as the window and the tray see it. */
export function actionsFor(snapshot: WorkspaceSnapshot | undefined, busy: boolean, opts: { readonly force?: boolean } = {}) {
  const input: ActionInput = {
    status: workspaceStatus(snapshot),
    busy: busy || Boolean(snapshot?.operation),
    ...(snapshot?.federation ? { machines: snapshot.federation.machines.length } : {}),
    ...(snapshot?.cluster?.vms.some((v) => vmFoundDown(v.drift)) ? { drift: true } : {}),
    ...(opts.force ? { force: true } : {}),
  };
  return { cluster: clusterActions(input), federation: federationActions(input) };
}

/**
 * Does a VM's drift note (main/workspaces/snapshot.ts `vmDriftNotes`: "missing from libvirt", "libvirt says SHUTOFF",
 * "IP is …", joined by "; ") say libvirt found it not running? Only that kind of drift makes Start useful on a
 * cluster recorded `running`; an IP difference does not.
 */
export function vmFoundDown(note: string | undefined): boolean {
  if (!note) return false;
  return note.split('; ').some((n) => n === 'missing from libvirt' || (n.startsWith('libvirt says ') && n !== 'libvirt says RUNNING'));
}

/** The tooltip of a control: the reason when not allowed. */
export function reasonOf(verdict: Verdict): string | undefined {
  return verdict.allowed ? undefined : verdict.reason;
}
