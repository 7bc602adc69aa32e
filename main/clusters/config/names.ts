/**
 * Names that reach libvirt (domains, networks, pools, volumes, bridges).
 *
 * libvirt itself accepts almost anything in a name, but those names end up in file paths, shell-visible tools
 * (`virsh`), bridge devices and our own XML, so we accept a deliberately small alphabet and reject the rest at config
 * validation time instead of trusting escaping downstream.
 */

/** A safe libvirt object name: starts with a letter or digit, then letters, digits, `.`, `_`, `-`; at most 63 chars. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Linux limits interface names to 15 bytes (IFNAMSIZ - 1). */
export const BRIDGE_NAME = /^[A-Za-z0-9._-]{1,15}$/;

/** Is `name` a safe libvirt object name? */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..');
}

/** The libvirt names of everything a cluster owns, derived from its name. */
export const clusterNames = {
  controller: (cluster: string) => `${cluster}-controller`,
  compute: (cluster: string, index: number) => `${cluster}-compute-${String(index).padStart(2, '0')}`,
  network: (cluster: string) => `${cluster}-network`,
  pool: (cluster: string) => `${cluster}-pool`,
  volume: (vm: string) => `${vm}.qcow2`,
} as const;

/** The longest suffix `clusterNames` appends (`-compute-NNN`), so a cluster name leaves room for it. */
export const MAX_CLUSTER_NAME = 63 - '-compute-NNN'.length;
