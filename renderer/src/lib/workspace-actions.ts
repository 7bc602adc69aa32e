/** Which workspace-level buttons are enabled, as a pure function of the recorded status (Podman's tray rule). */
import type { DisplayStatus } from './status';

export interface ClusterActions {
  readonly start: boolean;
  readonly stop: boolean;
  readonly destroy: boolean;
  readonly refresh: boolean;
  readonly validate: boolean;
}

export interface FederationActions {
  readonly start: boolean;
  readonly probe: boolean;
  readonly stop: boolean;
  /** Clean is allowed from dirty/clean; from running only with force. */
  readonly clean: boolean;
  readonly cleanNeedsForce: boolean;
}

/**
 * Cluster buttons. Start stays available for partial/stopped/error clusters because start adopts what exists; stop
 * and destroy need something recorded. Everything that mutates is off while an operation runs or the state is
 * unreadable (restore comes first); validate only reads the config.
 */
export function clusterActionsFor(status: DisplayStatus, busy: boolean): ClusterActions {
  const readable = status !== 'error' && status !== 'loading';
  const can = readable && !busy;
  return {
    start: can && status !== 'running',
    stop: can && (status === 'running' || status === 'partial'),
    destroy: can && status !== 'none',
    refresh: can,
    validate: !busy,
  };
}

/**
 * Federation buttons, following the ReFedEz lifecycle clean → running → dirty → clean. Start needs clean (a dirty
 * federation still has folders on its machines: clean first, or they would be forgotten); probe is read-only and
 * also useful on a dirty one (did every participant really exit?).
 */
export function federationActionsFor(status: DisplayStatus, busy: boolean): FederationActions {
  const readable = status !== 'error' && status !== 'loading';
  const can = readable && !busy;
  return {
    start: can && status === 'clean',
    probe: can && (status === 'running' || status === 'dirty'),
    stop: can && status === 'running',
    clean: can,
    cleanNeedsForce: status === 'running',
  };
}
