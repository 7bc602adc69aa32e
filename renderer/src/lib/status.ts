/** How recorded statuses look: the word shown on a badge and its colour variant. */
import { assertNever } from '../../../preload/contract';
import { workspaceStatus, type WorkspaceStatus } from '../../../preload/workspace-actions';

export type BadgeVariant = 'ok' | 'warn' | 'danger' | 'neutral' | 'muted';

/**
 * What a workspace's badge says: its recorded status, `unreadable` when the state file cannot be read (distinct from
 * a cluster whose recorded status is `error`), `loading` before the first snapshot. The rule lives in preload/.
 */
export type DisplayStatus = WorkspaceStatus;

/** The badge word for a snapshot (or its absence while the first fetch runs). */
export const displayStatus = workspaceStatus;

/** Colour of a status badge: green while something runs, amber for leftovers that need attention, red for errors. */
export function statusVariant(status: DisplayStatus): BadgeVariant {
  switch (status) {
    case 'running':
      return 'ok';
    case 'dirty':
    case 'partial':
      return 'warn';
    case 'error':
    case 'unreadable':
      return 'danger';
    case 'clean':
    case 'stopped':
      return 'neutral';
    case 'none':
    case 'loading':
      return 'muted';
    default:
      return assertNever(status);
  }
}

/** Colour of a libvirt VM state badge (states are free text on the wire; unknown ones are muted). */
export function vmStateVariant(state: string): BadgeVariant {
  switch (state) {
    case 'RUNNING':
      return 'ok';
    case 'PAUSED':
    case 'PMSUSPENDED':
    case 'DYING':
      return 'warn';
    case 'CRASHED':
      return 'danger';
    case 'SHUTOFF':
      return 'neutral';
    default:
      return 'muted';
  }
}

/**
 * What each status word means — shown on hover (and to screen readers) wherever a badge appears, so `partial` or
 * `dirty` is never a guess.
 */
export const STATUS_DEFINITIONS: Readonly<Record<DisplayStatus, string>> = {
  none: 'Nothing is recorded: the cluster was never started here, or it was destroyed.',
  running: 'Every recorded VM or participant was running at the last operation or refresh.',
  stopped: 'Every recorded VM is shut off; its disks and networks are kept.',
  partial:
    'Only some VMs run: others are shut off, paused or not created yet (a start that did not finish, or a VM changed by hand). Start brings every VM up.',
  error: 'A VM was recorded as crashed, or the last operation failed part-way; Start or Refresh to recover.',
  clean: 'No federation is deployed: no folders or processes are recorded on any machine.',
  dirty: 'The federation was stopped, but its temp folders are still on the machines: Clean removes them.',
  unreadable: 'The state file cannot be read (damaged, another deployment’s, or another kind): restore a backup first.',
  loading: 'Reading the workspace…',
};

/** A word for a status while an operation is moving it, so a normal start never reads as `partial`. */
export type TransientStatus = 'starting' | 'stopping' | 'destroying' | 'cleaning' | 'restoring';

const TRANSIENT: Readonly<Record<string, TransientStatus>> = {
  'cluster:start': 'starting',
  'federation:start': 'starting',
  'cluster:stop': 'stopping',
  'federation:stop': 'stopping',
  'cluster:destroy': 'destroying',
  'federation:clean': 'cleaning',
  'state:restore': 'restoring',
};

export const TRANSIENT_DEFINITIONS: Readonly<Record<TransientStatus, string>> = {
  starting: 'A start is running; the recorded status is settled when it ends.',
  stopping: 'A stop is running; the recorded status is settled when it ends.',
  destroying: 'A destroy is running.',
  cleaning: 'A clean is running.',
  restoring: 'A backup is being restored; libvirt is read right after.',
};

/** The badge: the recorded status, or the transient word while an operation changes it; with its definition. */
export function badgeFor(status: DisplayStatus, operation?: string | null): { word: string; variant: BadgeVariant; definition: string } {
  const transient = operation ? TRANSIENT[operation] : undefined;
  if (transient && status !== 'unreadable') return { word: transient, variant: 'neutral', definition: TRANSIENT_DEFINITIONS[transient] };
  return { word: status, variant: statusVariant(status), definition: STATUS_DEFINITIONS[status] };
}
