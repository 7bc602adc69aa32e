import { createHash } from 'node:crypto';

/**
 * Deterministic MAC for a VM: `52:54:00` (QEMU's locally administered prefix) plus three bytes of
 * sha256(cluster, vm). Deterministic so that a re-created VM keeps its DHCP reservation; `salt` lets a caller
 * step past the (rare) collision inside one cluster.
 */
export function vmMac(cluster: string, vm: string, salt = 0): string {
  const h = createHash('sha256').update(`${cluster}\0${vm}\0${salt}`).digest();
  return ['52', '54', '00', ...[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** MACs for all VMs of a cluster, unique within it (collisions are resolved by salting, in order). */
export function clusterMacs(cluster: string, vms: readonly string[]): ReadonlyMap<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const vm of vms) {
    let salt = 0;
    let mac = vmMac(cluster, vm, salt);
    while (used.has(mac)) mac = vmMac(cluster, vm, ++salt);
    used.add(mac);
    out.set(vm, mac);
  }
  return out;
}
