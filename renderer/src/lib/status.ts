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
