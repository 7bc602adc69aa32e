/**
 * How the VMs boot and run on a real host — our extension of cluster.yaml, beside `libvirt_uri`, `pool_path` and
 * `network_mode` in the top-level `clusterdesk:` block (AI-HOW ignores unknown top-level keys):
 *
 *   clusterdesk:
 *     domain_type: qemu           # kvm (default) | qemu: QEMU's TCG emulator, for hosts without working /dev/kvm
 *     boot:                       # direct kernel boot instead of booting the disk
 *       kernel: images/vmlinuz
 *       initrd: images/initramfs.cpio.gz
 *       cmdline: "console=ttyS0 quiet"
 *     serial_log_dir: logs        # each VM's serial console goes to <dir>/<vm name>.log
 *
 * Relative paths resolve against the config's folder. They name files on the libvirt host (for a remote URI,
 * paths on that host), so they are not checked here: libvirt refuses a missing kernel when the domain starts.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../../errors';
import type { DomainSpec, KernelBoot } from '../libvirt/xml';

export type DomainType = 'kvm' | 'qemu';

export interface GuestOptions {
  readonly domainType: DomainType;
  readonly boot: KernelBoot | null;
  /** Absolute folder for the serial console logs, or null (a pty, as libvirt does by default). */
  readonly serialLogDir: string | null;
}

export const DEFAULT_GUEST: GuestOptions = { domainType: 'kvm', boot: null, serialLogDir: null };

/** Reads the guest options from the parsed `clusterdesk:` block; `baseDir` is the config's folder. */
export function readGuestOptions(ext: unknown, file: string, baseDir: string): { readonly guest: GuestOptions; readonly errors: readonly AppError[] } {
  const errors: AppError[] = [];
  if (ext === null || typeof ext !== 'object') return { guest: DEFAULT_GUEST, errors };
  const block = ext as Record<string, unknown>;
  const fail = (field: string, text: string, hint?: string) =>
    errors.push(
      new AppError('config-invalid', `${file}: clusterdesk.${field}: ${text}`, { path: file, field: `clusterdesk.${field}`, ...(hint ? { hint } : {}) }),
    );
  const text = (value: unknown, field: string): string | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) {
      fail(field, 'expected a non-empty string');
      return null;
    }
    return value.trim();
  };
  const path = (value: unknown, field: string): string | null => {
    const t = text(value, field);
    return t === null ? null : isAbsolute(t) ? t : resolve(baseDir, t);
  };

  let domainType: DomainType = 'kvm';
  const type = text(block['domain_type'], 'domain_type');
  if (type === 'qemu' || type === 'kvm') domainType = type;
  else if (type !== null)
    fail('domain_type', `expected "kvm" or "qemu", got ${JSON.stringify(type)}`, 'Use "qemu" where /dev/kvm is missing or does not work.');

  let boot: KernelBoot | null = null;
  const rawBoot = block['boot'];
  if (rawBoot !== undefined && rawBoot !== null) {
    if (typeof rawBoot !== 'object' || Array.isArray(rawBoot)) fail('boot', 'expected { kernel, initrd, cmdline }');
    else {
      const b = rawBoot as Record<string, unknown>;
      const kernel = path(b['kernel'], 'boot.kernel');
      const initrd = path(b['initrd'], 'boot.initrd');
      const cmdline =
        b['cmdline'] === undefined || b['cmdline'] === null
          ? null
          : typeof b['cmdline'] === 'string' && !b['cmdline'].includes('\0')
            ? b['cmdline']
            : (fail('boot.cmdline', 'expected a string'), null);
      if (kernel === null) {
        if (b['kernel'] === undefined || b['kernel'] === null) fail('boot.kernel', 'is required for a direct kernel boot');
      } else {
        boot = { kernel, ...(initrd !== null ? { initrd } : {}), ...(cmdline !== null ? { cmdline } : {}) };
      }
    }
  }
  const serialLogDir = path(block['serial_log_dir'], 'serial_log_dir');
  return { guest: { domainType, boot, serialLogDir }, errors };
}

/** The part of a VM's domain spec the guest options decide (everything but the test driver's own `test` type). */
export function guestDomainSpec(guest: GuestOptions, vmName: string, testDriver: boolean): Pick<DomainSpec, 'type' | 'kernelBoot' | 'serialLogFile'> {
  if (testDriver) return { type: 'test' };
  return {
    type: guest.domainType,
    ...(guest.boot ? { kernelBoot: guest.boot } : {}),
    ...(guest.serialLogDir ? { serialLogFile: join(guest.serialLogDir, `${vmName}.log`) } : {}),
  };
}
