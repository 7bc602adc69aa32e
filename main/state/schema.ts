/**
 * The two state formats, as zod schemas plus their inferred types.
 *
 * Every object is a *loose* object: fields we do not know are kept on a round trip, so a file written by AI-HOW,
 * ReFedEz or a newer Clusterdesk loses nothing when we rewrite it. Header fields (`version`, `serial`, `lineage`) are
 * optional on read because files written by the original tools carry none; every file we write has all three.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** The format version written in every state file's `version` field. */
export const STATE_FORMAT_VERSION = 1;

export type StateKind = 'cluster' | 'federation';

export const VM_STATES = ['RUNNING', 'PAUSED', 'SHUTOFF', 'UNDEFINED', 'CRASHED', 'DYING', 'PMSUSPENDED'] as const;
export type VmState = (typeof VM_STATES)[number];
export const CLUSTER_STATUSES = ['running', 'stopped', 'error', 'partial'] as const;
export type ClusterStateStatus = (typeof CLUSTER_STATUSES)[number];
export const CLUSTER_TYPES = ['hpc', 'cloud'] as const;
export const FEDERATION_TYPES = ['clean', 'running', 'dirty'] as const;
export type FederationType = (typeof FEDERATION_TYPES)[number];

const header = {
  version: z.number().int().positive().optional(),
  serial: z.number().int().nonnegative().optional(),
  lineage: z.string().min(1).optional(),
};

// ---------------------------------------------------------------------------------------------------------------
// Cluster (AI-HOW documented format)

export const vmSchema = z.looseObject({
  name: z.string().min(1),
  cpu_cores: z.number().int().nonnegative(),
  memory_gb: z.number().nonnegative(),
  state: z.enum(VM_STATES),
  ip_address: z.string().nullable(),
  gpu_count: z.number().int().nonnegative(),
  /** Paths of the VM's disk volumes. */
  volumes: z.array(z.string()),
  created_at: z.string(),
  // null = never observed; the documented format always has a time, but a VM recorded before its first refresh has none.
  last_seen: z.string().nullable(),
});

export const networkSchema = z.looseObject({
  name: z.string().min(1),
  subnet: z.string(),
  bridge: z.string(),
  active_ips: z.array(z.string()),
});

export const volumeSchema = z.looseObject({
  name: z.string().min(1),
  path: z.string(),
  size_gb: z.number().nonnegative(),
  format: z.string(),
});

/** Storage pools are ours (not in the AI-HOW format): cluster code records the pool it created so destroy can remove it. */
export const poolSchema = z.looseObject({
  name: z.string().min(1),
  path: z.string(),
});

export const clusterStateSchema = z.looseObject({
  cluster_name: z.string().min(1),
  cluster_type: z.enum(CLUSTER_TYPES),
  status: z.enum(CLUSTER_STATUSES),
  created_at: z.string(),
  // Optional on read for tolerance; every write sets it to the current time.
  last_modified: z.string().optional(),
  vms: z.array(vmSchema),
  networks: z.array(networkSchema),
  volumes: z.array(volumeSchema),
  pools: z.array(poolSchema).optional(),
  ...header,
});

export type VmRecord = z.infer<typeof vmSchema>;
export type NetworkRecord = z.infer<typeof networkSchema>;
export type VolumeRecord = z.infer<typeof volumeSchema>;
export type PoolRecord = z.infer<typeof poolSchema>;
export type ClusterState = z.infer<typeof clusterStateSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Federation (ReFedEz format, extended)

export const machineSchema = z.looseObject({
  name: z.string().min(1),
  kind: z.enum(['local', 'remote']),
  host: z.string(),
  port: z.number().int().min(0).max(65535),
  user: z.string(),
  tmp_dir: z.string(),
  started_at: z.string().nullable(),
  pid: z.number().int().positive().nullable().optional(),
});

const federationHeader = { ...header, last_modified: z.string().optional() };

const cleanSchema = z.looseObject({ type: z.literal('clean'), data: z.looseObject({}), ...federationHeader });
const runningSchema = z.looseObject({
  type: z.literal('running'),
  data: z.looseObject({ deployed_files_path: z.string(), machines: z.array(machineSchema) }),
  ...federationHeader,
});
const dirtySchema = z.looseObject({
  type: z.literal('dirty'),
  // ReFedEz's own dirty state has no data at all; ours keeps the machines that still need cleaning.
  data: z.looseObject({ deployed_files_path: z.string().optional(), machines: z.array(machineSchema) }),
  ...federationHeader,
});

export const federationStateSchema = z.discriminatedUnion('type', [cleanSchema, runningSchema, dirtySchema]);

export type MachineRecord = z.infer<typeof machineSchema>;
export type FederationState = z.infer<typeof federationStateSchema>;
export type CleanFederationState = z.infer<typeof cleanSchema>;
export type RunningFederationState = z.infer<typeof runningSchema>;
export type DirtyFederationState = z.infer<typeof dirtySchema>;

// ---------------------------------------------------------------------------------------------------------------
// Shared

export type AnyState = ClusterState | FederationState;

/** The state type stored for a kind. */
export type StateOf<K extends StateKind> = K extends 'cluster' ? ClusterState : FederationState;

/** A state as returned by a write: the header fields are always present. */
export type Written<S extends AnyState> = S & { serial: number; lineage: string; version: number };

/** The zod schema for a kind. */
export function schemaFor(kind: StateKind): z.ZodType<AnyState> {
  return kind === 'cluster' ? clusterStateSchema : federationStateSchema;
}

/** A new random lineage (set once when a state file is created). */
export function newLineage(): string {
  return randomUUID();
}

/** The recorded status and the number of VMs (cluster) or machines (federation) of a state. */
export function summarize(state: AnyState): { readonly status: string; readonly count: number } {
  if (isFederationState(state)) {
    const machines = (state.data as { machines?: unknown }).machines;
    return { status: state.type, count: Array.isArray(machines) ? machines.length : 0 };
  }
  return { status: state.status, count: state.vms.length };
}

/** Does this state look like a federation state (has `type` and `data`)? */
export function isFederationState(state: AnyState): state is FederationState {
  return 'type' in state && 'data' in state && typeof (state as { data?: unknown }).data === 'object';
}

/** The current time as ISO 8601 with the local offset (e.g. `2025-10-21T14:03:07.123+02:00`), as AI-HOW expects. */
export function isoNow(date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}
