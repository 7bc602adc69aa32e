import type {
  ClusterDetail,
  DriftItem,
  ErrorData,
  FederationDetail,
  LockHolder,
  RecordedStatus,
  VmView,
  WorkspaceChange,
  WorkspaceEntry,
  WorkspaceSnapshot,
} from '../../preload/contract';
import { diffSnapshot, isEmptyPatch } from '../../preload/snapshot-patch';
import { AppError, toErrorData } from '../errors';
import type { RunningOperation } from '../operations/runner';
import type { AnyState, ClusterState, FederationState, StateStore, StateTarget } from '../state';
import { loadStateAnyThread } from '../workers/off-thread';

/** The state target of a workspace: its file, the lineage it has seen and, for clusters, the expected name. */
export function targetOf(entry: WorkspaceEntry): StateTarget {
  return {
    kind: entry.kind,
    file: entry.statePath,
    ...(entry.lineage ? { lineage: entry.lineage } : {}),
    ...(entry.kind === 'cluster' ? { clusterName: entry.name } : {}),
  };
}

/** A short per-VM drift note for the VM table (`VmView.drift`), from a refresh's drift items. */
export function vmDriftNotes(drift: readonly DriftItem[]): ReadonlyMap<string, string> {
  const notes = new Map<string, string[]>();
  for (const d of drift) {
    if (d.resource !== 'vm') continue;
    let note: string;
    switch (d.kind) {
      case 'missing':
        note = 'missing from libvirt';
        break;
      case 'unrecorded':
        note = 'not recorded';
        break;
      case 'state-differs':
        note = `libvirt says ${d.actual ?? '—'}`;
        break;
      case 'ip-differs':
        note = `IP is ${d.actual ?? '—'}`;
        break;
      default: {
        const never: never = d.kind;
        note = String(never);
      }
    }
    notes.set(d.name, [...(notes.get(d.name) ?? []), note]);
  }
  return new Map([...notes].map(([k, v]) => [k, v.join('; ')]));
}

/**
 * Reads a workspace's recorded state into a snapshot, read-only (one read of the state file, one of its lock). A
 * state that cannot be read (corrupt, foreign, mismatched) does not fail the call: the snapshot carries the error so
 * the UI can offer restore. `followLineage` reads whatever lineage the file has (after an operation of ours, which may
 * have started a new one); the caller records it.
 */
export async function buildSnapshot(
  entry: WorkspaceEntry,
  store: StateStore,
  operation: RunningOperation | null,
  vmDrift?: ReadonlyMap<string, string>,
  opts: { readonly followLineage?: boolean } = {},
): Promise<WorkspaceSnapshot> {
  const target = opts.followLineage ? { ...targetOf(entry), lineage: undefined } : targetOf(entry);
  let state: AnyState | null = null;
  let error: ErrorData | null = null;
  let stale: WorkspaceSnapshot['stale'];
  try {
    // A big state is read and parsed in the worker: other clients of `serve` keep being answered meanwhile.
    state = (await loadStateAnyThread(store, target))?.state ?? null;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    // A database that is away: the last state read, marked stale with the error (nothing is read from a local file).
    const last = err.code === 'backend-unreachable' ? store.lastKnown(target) : null;
    if (last) {
      state = last.state;
      stale = { error: toErrorData(err), since: last.at };
    } else error = toErrorData(err);
  }
  const spec = store.backendOf(target);
  const backend = spec ? { label: await store.placeOf(target).catch(() => spec.url.replace(/^[a-z]+:\/\/[^@/]*@/i, '')), key: spec.key } : undefined;
  let lock: LockHolder | null = null;
  try {
    lock = stale ? null : await store.lockInfo(target);
  } catch {
    lock = null;
  }
  const base = {
    id: entry.id,
    kind: entry.kind,
    name: entry.name,
    path: entry.path,
    statePath: entry.statePath,
    lock,
    error,
    operation: operation ? { opId: operation.opId, name: operation.name, since: operation.since } : null,
    ...(backend ? { backend } : {}),
    ...(stale ? { stale } : {}),
  };
  if (!state) {
    const status: RecordedStatus | null = error ? null : entry.kind === 'federation' ? 'clean' : 'none';
    return { ...base, status, serial: null, lineage: null, lastModified: null };
  }
  const common = { serial: state.serial ?? null, lineage: state.lineage ?? null };
  if (entry.kind === 'cluster') {
    const cs = state as ClusterState;
    return { ...base, ...common, status: cs.status, lastModified: cs.last_modified ?? null, cluster: clusterDetail(cs, vmDrift) };
  }
  const fs = state as FederationState;
  return { ...base, ...common, status: fs.type, lastModified: fs.last_modified ?? null, federation: federationDetail(fs) };
}

function roleOf(name: string, clusterName: string): VmView['role'] {
  if (name === `${clusterName}-controller`) return 'controller';
  if (name.startsWith(`${clusterName}-compute-`)) return 'compute';
  return 'other';
}

function clusterDetail(s: ClusterState, vmDrift: ReadonlyMap<string, string> | undefined): ClusterDetail {
  return {
    clusterName: s.cluster_name,
    vms: s.vms.map((vm) => ({
      name: vm.name,
      role: roleOf(vm.name, s.cluster_name),
      state: vm.state,
      ipAddress: vm.ip_address ?? null,
      ipVerified: (vm as { ip_verified?: unknown }).ip_verified !== false,
      cpuCores: vm.cpu_cores,
      memoryGb: vm.memory_gb,
      gpuCount: vm.gpu_count ?? 0,
      lastSeen: vm.last_seen ?? null,
      ...(vmDrift?.has(vm.name) ? { drift: vmDrift.get(vm.name)! } : {}),
    })),
    networks: s.networks.map((n) => ({ name: n.name, subnet: n.subnet, bridge: n.bridge, activeIps: n.active_ips ?? [] })),
    volumes: s.volumes.map((v) => ({ name: v.name, path: v.path, sizeGb: v.size_gb, format: v.format })),
    pools: (s.pools ?? []).map((p) => ({ name: p.name, path: p.path })),
  };
}

function federationDetail(s: FederationState): FederationDetail {
  const data = s.data ?? {};
  const machines = 'machines' in data && Array.isArray(data.machines) ? data.machines : [];
  return {
    deployedFilesPath: 'deployed_files_path' in data && typeof data.deployed_files_path === 'string' ? data.deployed_files_path : null,
    machines: machines.map((m) => ({
      name: m.name,
      kind: m.kind,
      host: m.host,
      port: m.port,
      user: m.user,
      tmpDir: m.tmp_dir,
      startedAt: m.started_at ?? null,
      pid: m.pid ?? null,
    })),
  };
}

/**
 * The one copy of each workspace's snapshot main keeps, with its revision. `record` turns a freshly built snapshot into
 * the `workspace:changed` payload: a patch against the copy held (per-VM rows keyed by name), or the whole snapshot when
 * none was held; then the new snapshot replaces the old copy (nothing else keeps one: transports serialize the event
 * once and drop it afterwards).
 */
export class SnapshotHolder {
  private readonly held = new Map<string, WorkspaceSnapshot>();
  /** Revisions start from the clock, so a restarted host never reuses a revision a window still holds. */
  private seq = Date.now();

  /** The held snapshot (with its `seq`), if any. */
  get(id: string): WorkspaceSnapshot | undefined {
    return this.held.get(id);
  }

  /** Records `next` as the workspace's snapshot and returns the change to announce. */
  record(next: WorkspaceSnapshot): WorkspaceChange {
    const prev = this.held.get(next.id);
    const seq = ++this.seq;
    const snapshot: WorkspaceSnapshot = { ...next, seq };
    this.held.set(next.id, snapshot);
    if (!prev || prev.seq === undefined) return { id: next.id, seq, snapshot };
    return { id: next.id, seq, base: prev.seq, patch: diffSnapshot(prev, snapshot), snapshot };
  }

  /**
   * The snapshot a window asks for (`workspace:snapshot`): the held copy when `fresh` equals it, else `fresh` recorded
   * — then the change is returned too, for every other window.
   */
  reconcile(fresh: WorkspaceSnapshot): { snapshot: WorkspaceSnapshot; change: WorkspaceChange | null } {
    const prev = this.held.get(fresh.id);
    if (prev && isEmptyPatch(diffSnapshot(prev, fresh))) return { snapshot: prev, change: null };
    const change = this.record(fresh);
    return { snapshot: change.snapshot!, change };
  }

  forget(id: string): void {
    this.held.delete(id);
  }
}
