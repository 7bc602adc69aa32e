/**
 * Snapshot patches: what `workspace:changed` carries instead of a whole snapshot. Pure and shared by main (which
 * diffs the snapshot it held against the new one) and the renderer (which applies the patch in place, so unchanged
 * rows keep their identity and React skips them). The law, property-tested: `applyPatch(a, diffSnapshot(a, b))`
 * deep-equals `b`.
 */
import type { ClusterDetail, ClusterDetailPatch, KeyedListPatch, SnapshotPatch, WorkspaceSnapshot } from './contract';

/** Structural equality of JSON-like values (what snapshots are made of). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let count = 0;
  for (const k in ra) {
    if (!Object.prototype.hasOwnProperty.call(ra, k)) continue;
    if (ra[k] === undefined) {
      if (rb[k] !== undefined) return false;
      continue;
    }
    count++;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !deepEqual(ra[k], rb[k])) return false;
  }
  for (const k in rb) if (Object.prototype.hasOwnProperty.call(rb, k) && rb[k] !== undefined) count--;
  return count === 0;
}

type Named = { readonly name: string };

/** The rows of `next` that are new or differ from `prev`'s row of the same name, the names gone, and the order if needed. */
export function diffKeyed<T extends Named>(prev: readonly T[], next: readonly T[]): KeyedListPatch<T> | undefined {
  if (prev === next) return undefined;
  const before = new Map<string, T>();
  for (const row of prev) before.set(row.name, row);
  const nextNames = new Set<string>();
  const set: T[] = [];
  for (const row of next) {
    nextNames.add(row.name);
    const old = before.get(row.name);
    if (old === undefined || (old !== row && !deepEqual(old, row))) set.push(row);
  }
  const remove: string[] = [];
  for (const row of prev) if (!nextNames.has(row.name)) remove.push(row.name);
  // The order applyKeyed produces without help: kept rows where they were, new rows appended in next's order.
  const implied: string[] = [];
  for (const row of prev) if (nextNames.has(row.name)) implied.push(row.name);
  for (const row of next) if (!before.has(row.name)) implied.push(row.name);
  let ordered = implied.length === next.length;
  for (let i = 0; ordered && i < next.length; i++) if (implied[i] !== next[i]!.name) ordered = false;
  if (set.length === 0 && remove.length === 0 && ordered) return undefined;
  return {
    ...(set.length > 0 ? { set } : {}),
    ...(remove.length > 0 ? { remove } : {}),
    ...(ordered ? {} : { order: next.map((r) => r.name) }),
  };
}

/**
 * Applies a keyed-list patch: a new array in which every row not named by the patch is the very same object as in
 * `prev`. Duplicate names are not expected (libvirt names are unique); the last row of a name wins.
 */
export function applyKeyed<T extends Named>(prev: readonly T[], patch: KeyedListPatch<T> | undefined): readonly T[] {
  if (!patch) return prev;
  const set = new Map<string, T>();
  for (const row of patch.set ?? []) set.set(row.name, row);
  const removed = new Set(patch.remove ?? []);
  const out: T[] = [];
  const placed = new Set<string>();
  for (const row of prev) {
    if (removed.has(row.name)) continue;
    const replaced = set.get(row.name);
    out.push(replaced ?? row);
    placed.add(row.name);
  }
  for (const row of patch.set ?? []) {
    if (placed.has(row.name)) continue;
    out.push(row);
    placed.add(row.name);
  }
  if (!patch.order) return out;
  const byName = new Map(out.map((r) => [r.name, r]));
  return patch.order.map((n) => byName.get(n)).filter((r): r is T => r !== undefined);
}

const EMPTY_CLUSTER: ClusterDetail = { clusterName: '', vms: [], networks: [], volumes: [], pools: [] };

function diffCluster(prev: ClusterDetail | undefined, next: ClusterDetail): ClusterDetailPatch | undefined {
  const a = prev ?? EMPTY_CLUSTER;
  const vms = diffKeyed(a.vms, next.vms);
  const volumes = diffKeyed(a.volumes, next.volumes);
  const patch: ClusterDetailPatch = {
    ...(a.clusterName !== next.clusterName || !prev ? { clusterName: next.clusterName } : {}),
    ...(vms ? { vms } : {}),
    ...(volumes ? { volumes } : {}),
    ...(!prev || !deepEqual(a.networks, next.networks) ? { networks: next.networks } : {}),
    ...(!prev || !deepEqual(a.pools, next.pools) ? { pools: next.pools } : {}),
  };
  // A cluster that appeared is always sent (even empty), so the window knows it is there.
  return prev && Object.keys(patch).length === 0 ? undefined : patch;
}

function applyCluster(prev: ClusterDetail | undefined, patch: ClusterDetailPatch): ClusterDetail {
  const a = prev ?? EMPTY_CLUSTER;
  return {
    clusterName: patch.clusterName ?? a.clusterName,
    vms: applyKeyed(a.vms, patch.vms),
    networks: patch.networks ?? a.networks,
    volumes: applyKeyed(a.volumes, patch.volumes),
    pools: patch.pools ?? a.pools,
  };
}

const SKIP: ReadonlySet<string> = new Set(['id', 'cluster', 'federation', 'seq']);

/** What turns `prev` into `next` (same workspace). Empty (`{}`) when nothing changed. */
export function diffSnapshot(prev: WorkspaceSnapshot, next: WorkspaceSnapshot): SnapshotPatch {
  const fields: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const k of keys) {
    if (SKIP.has(k)) continue;
    const v = (next as unknown as Record<string, unknown>)[k];
    if (!deepEqual((prev as unknown as Record<string, unknown>)[k], v)) fields[k] = v === undefined ? null : v;
  }
  let cluster: ClusterDetailPatch | null | undefined;
  if (next.cluster) cluster = diffCluster(prev.cluster, next.cluster);
  else if (prev.cluster) cluster = null;
  let federation: SnapshotPatch['federation'];
  if (next.federation) federation = deepEqual(prev.federation, next.federation) ? undefined : next.federation;
  else if (prev.federation) federation = null;
  return {
    ...(Object.keys(fields).length > 0 ? { fields: fields as SnapshotPatch['fields'] } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    ...(federation !== undefined ? { federation } : {}),
  };
}

/** True when the patch changes nothing. */
export function isEmptyPatch(patch: SnapshotPatch): boolean {
  return patch.fields === undefined && patch.cluster === undefined && patch.federation === undefined;
}

/**
 * Applies a patch: a new snapshot object that shares everything the patch does not touch with `prev` (the VM array is
 * new only when a VM changed, and then every unchanged VM is the same object as before).
 */
export function applyPatch(prev: WorkspaceSnapshot, patch: SnapshotPatch): WorkspaceSnapshot {
  if (isEmptyPatch(patch)) return prev;
  const out: Record<string, unknown> = { ...prev, ...(patch.fields ?? {}) };
  if (patch.cluster === null) delete out.cluster;
  else if (patch.cluster !== undefined) out.cluster = applyCluster(prev.cluster, patch.cluster);
  if (patch.federation === null) delete out.federation;
  else if (patch.federation !== undefined) out.federation = patch.federation;
  return out as unknown as WorkspaceSnapshot;
}
