/** Immutable edits of a cluster state: what start, stop, destroy and refresh record. */
import { isoNow, type ClusterState, type NetworkRecord, type PoolRecord, type VmRecord, type VolumeRecord } from '../state';
import type { ClusterPlan, VmPlan } from './config/plan';

/**
 * Extra per-VM fields we keep (the schema keeps unknown fields on a round trip): the MAC to match DHCP leases, the
 * role, and whether `ip_address` was seen (lease / interface) or is only the configured one.
 */
export interface VmExtras {
  readonly mac?: string;
  readonly role?: 'controller' | 'compute';
  readonly ip_verified?: boolean;
}
export type ClusterVm = VmRecord & VmExtras;

/** A state with nothing recorded yet (status `partial` until start has created everything). */
export function emptyState(clusterName: string): ClusterState {
  return { cluster_name: clusterName, cluster_type: 'hpc', status: 'partial', created_at: isoNow(), vms: [], networks: [], volumes: [], pools: [] };
}

function upsert<T extends { readonly name: string }>(list: readonly T[], item: T): T[] {
  const i = list.findIndex((x) => x.name === item.name);
  if (i < 0) return [...list, item];
  const copy = [...list];
  copy[i] = item;
  return copy;
}

export function withVm(s: ClusterState, vm: ClusterVm): ClusterState {
  return { ...s, vms: upsert(s.vms, vm) };
}

export function withoutVm(s: ClusterState, name: string): ClusterState {
  return { ...s, vms: s.vms.filter((v) => v.name !== name) };
}

export function withNetwork(s: ClusterState, n: NetworkRecord): ClusterState {
  const prev = s.networks.find((x) => x.name === n.name);
  return { ...s, networks: upsert(s.networks, prev ? { ...prev, ...n } : n) };
}

/** Records a pool, keeping what an earlier record holds beyond the new one (an adopted pool's `uuid` evidence). */
export function withPool(s: ClusterState, p: PoolRecord): ClusterState {
  const prev = (s.pools ?? []).find((x) => x.name === p.name);
  return { ...s, pools: upsert(s.pools ?? [], prev ? { ...prev, ...p } : p) };
}

export function withVolume(s: ClusterState, v: VolumeRecord): ClusterState {
  return { ...s, volumes: upsert(s.volumes, v) };
}

export function withoutVolume(s: ClusterState, name: string): ClusterState {
  return { ...s, volumes: s.volumes.filter((v) => v.name !== name) };
}

/** Updates one VM's record in place (no-op when it is not recorded). */
export function patchVm(s: ClusterState, name: string, patch: Partial<ClusterVm>): ClusterState {
  if (!s.vms.some((v) => v.name === name)) return s;
  return { ...s, vms: s.vms.map((v) => (v.name === name ? { ...v, ...patch } : v)) };
}

/** Updates many VMs' records in one pass (linear: a per-VM `patchVm` in a loop would copy the list once per VM). */
export function patchVms(s: ClusterState, patches: ReadonlyMap<string, Partial<ClusterVm>>): ClusterState {
  if (patches.size === 0) return s;
  const vms = s.vms.map((v) => {
    const patch = patches.get(v.name);
    return patch ? { ...v, ...patch } : v;
  });
  return { ...s, vms };
}

/** A VM's record from its plan (the configured IP, unverified until a refresh sees it). */
export function vmRecordOf(vm: VmPlan, volumePath: string, prev: VmRecord | undefined): ClusterVm {
  return {
    ...(prev ?? {}),
    name: vm.name,
    cpu_cores: vm.vcpus,
    memory_gb: vm.memoryGb,
    state: prev?.state ?? 'SHUTOFF',
    ip_address: prev?.ip_address ?? vm.address,
    gpu_count: vm.gpuCount,
    volumes: [volumePath],
    created_at: prev?.created_at ?? isoNow(),
    last_seen: prev?.last_seen ?? null,
    mac: vm.mac,
    role: vm.role,
    ip_verified: (prev as ClusterVm | undefined)?.ip_verified ?? false,
  };
}

/** The network's record from the plan. */
export function networkRecordOf(plan: ClusterPlan): NetworkRecord {
  return { name: plan.network.name, subnet: plan.network.subnet, bridge: plan.network.bridge, active_ips: [] };
}
