/**
 * The state engine: crash-safe, locked, versioned state files for clusters (AI-HOW format) and federations
 * (ReFedEz format). See docs/architecture.md (State engine).
 */
export {
  FOREIGN_FORMATS,
  OPERATIONS_NEEDING_ADOPTION,
  needsAdoptionError,
  StateStore,
  type LoadedState,
  type StateStoreOptions,
  type StateTarget,
  type StateTx,
  type TransactionOptions,
  type Updater,
  type UpdateOptions,
  type WriteOptions,
} from './store';
export {
  CLUSTER_STATUSES,
  CLUSTER_TYPES,
  FEDERATION_TYPES,
  STATE_FORMAT_VERSION,
  VM_STATES,
  clusterStateSchema,
  federationStateSchema,
  isFederationState,
  isoNow,
  machineSchema,
  newLineage,
  summarize,
  vmSchema,
  type AnyState,
  type ClusterState,
  type ClusterStateStatus,
  type CleanFederationState,
  type DirtyFederationState,
  type FederationState,
  type FederationType,
  type MachineRecord,
  type NetworkRecord,
  type PoolRecord,
  type RunningFederationState,
  type StateKind,
  type StateOf,
  type VmRecord,
  type VmState,
  type VolumeRecord,
  type Written,
} from './schema';
export {
  CLUSTER_STATE_ENV,
  DEFAULT_FEDERATION_FOLDER,
  FEDERATION_STATE_FILE,
  clusterStatePath,
  federationStatePath,
  siblingPaths,
  type ClusterStatePathOptions,
} from './locations';
export type { LockInfo, LockRecord } from './lock';
export { isSecretKey, stripSecrets, vmStateFromName, SECRET_KEYS } from './convert';
export { parseState, SERIAL_MAX, serializeState, type SourceFormat } from './parse';
export { bindStateBackend, routeOf, type BackendSpec } from './backends/route';
export { backendOfConfigBlock, readBackendSetting } from './backends/backend-config';
/** The one atomic file writer (temp sibling, fsync, rename, folder fsync), for every file Clusterdesk replaces. */
export { replaceFile, replaceFileSync, type ReplaceFileOptions } from './atomic-write';
