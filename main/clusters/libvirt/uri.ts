/** Which libvirt connection URI a workspace uses. */

/** libvirt's own default for a system-wide QEMU/KVM host. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';

/**
 * The URI for a workspace: its own setting, else `LIBVIRT_DEFAULT_URI` (libvirt's own variable, so Clusterdesk
 * agrees with `virsh`), else `qemu:///system`. Blank values count as unset. Pure: the environment is passed in.
 */
export function resolveLibvirtUri(setting: string | null | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const own = setting?.trim();
  if (own) return own;
  const fromEnv = env['LIBVIRT_DEFAULT_URI']?.trim();
  if (fromEnv) return fromEnv;
  return DEFAULT_LIBVIRT_URI;
}
