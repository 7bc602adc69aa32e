/** `clusterdesk.domain_type / boot / serial_log_dir` → the domain XML a real host gets (the QEMU tier runs it for real). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDomainXml, childText, parseXml } from '../libvirt/xml';
import { loadConfig, planOf } from '../workspace';
import { DEFAULT_GUEST, guestDomainSpec, readGuestOptions } from './guest';

const owner = { lineage: 'L', cluster: 'c', role: 'compute' };

describe('readGuestOptions', () => {
  it('defaults to KVM, disk boot and a pty console', () => {
    expect(readGuestOptions(undefined, 'cluster.yaml', '/w')).toEqual({ guest: DEFAULT_GUEST, errors: [] });
    expect(readGuestOptions({ libvirt_uri: 'qemu:///system' }, 'cluster.yaml', '/w').guest).toEqual(DEFAULT_GUEST);
  });

  it('reads TCG, a direct kernel boot and a serial log folder, resolving paths against the config folder', () => {
    const { guest, errors } = readGuestOptions(
      { domain_type: 'qemu', boot: { kernel: 'images/vmlinuz', initrd: '/abs/initrd.gz', cmdline: 'console=ttyS0 quiet' }, serial_log_dir: 'serial' },
      'cluster.yaml',
      '/w',
    );
    expect(errors).toEqual([]);
    expect(guest).toEqual({
      domainType: 'qemu',
      boot: { kernel: '/w/images/vmlinuz', initrd: '/abs/initrd.gz', cmdline: 'console=ttyS0 quiet' },
      serialLogDir: '/w/serial',
    });
  });

  it('names the field and the fix for bad values', () => {
    const { errors } = readGuestOptions({ domain_type: 'xen', boot: { initrd: 'x' }, serial_log_dir: 7 }, '/w/cluster.yaml', '/w');
    expect(errors.map((e) => [e.code, e.fields.field])).toEqual([
      ['config-invalid', 'clusterdesk.domain_type'],
      ['config-invalid', 'clusterdesk.boot.kernel'],
      ['config-invalid', 'clusterdesk.serial_log_dir'],
    ]);
    expect(errors[0]!.message).toContain('expected "kvm" or "qemu", got "xen"');
    expect(errors[0]!.fields.path).toBe('/w/cluster.yaml');
  });
});

describe('guestDomainSpec → buildDomainXml', () => {
  it('a TCG guest: type qemu, kernel/initrd/cmdline instead of <boot>, no host-passthrough CPU, serial console to a file', () => {
    const guest = { domainType: 'qemu' as const, boot: { kernel: '/k/vmlinuz', initrd: '/k/initrd.gz', cmdline: 'console=ttyS0 a&b' }, serialLogDir: '/logs' };
    const xml = buildDomainXml({ name: 'c-compute-01', vcpus: 1, memoryKiB: 262144, owner, ...guestDomainSpec(guest, 'c-compute-01', false) });
    const root = parseXml(xml);
    expect(root.getAttribute('type')).toBe('qemu');
    expect(xml).toContain('<kernel>/k/vmlinuz</kernel>');
    expect(xml).toContain('<initrd>/k/initrd.gz</initrd>');
    expect(xml).toContain('<cmdline>console=ttyS0 a&amp;b</cmdline>');
    expect(xml).not.toContain('<boot');
    expect(xml).not.toContain('host-passthrough');
    expect(xml).toContain('<acpi/>');
    expect(xml).toContain('<serial type="file">');
    expect(xml).toContain('<source path="/logs/c-compute-01.log"/>');
    expect(childText(root, 'name')).toBe('c-compute-01');
  });

  it('KVM keeps the passthrough CPU and the pty console; the test driver ignores the guest options', () => {
    const kvm = buildDomainXml({ name: 'x', vcpus: 1, memoryKiB: 1024, owner, ...guestDomainSpec(DEFAULT_GUEST, 'x', false) });
    expect(kvm).toContain('host-passthrough');
    expect(kvm).toContain('<serial type="pty"/>');
    expect(kvm).toContain('<boot dev="hd"/>');
    expect(guestDomainSpec({ domainType: 'qemu', boot: { kernel: '/k' }, serialLogDir: '/l' }, 'x', true)).toEqual({ type: 'test' });
  });
});

describe('loadConfig carries the guest options into the plan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cd-guest-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const yaml = (ext: string) =>
    [
      'version: "1.0"',
      'metadata: { name: g }',
      `clusterdesk: { libvirt_uri: "test:///default", ${ext} }`,
      'clusters:',
      '  hpc:',
      '    name: g',
      '    base_image_path: base.qcow2',
      '    network: { subnet: "10.9.0.0/24", bridge: "cdg0" }',
      '    controller: { cpu_cores: 1, memory_gb: 0.25, disk_gb: 1, ip_address: "10.9.0.10" }',
      '    compute_nodes: { count: 1, cpu_cores: 1, memory_gb: 0.25, disk_gb: 1, ip: DHCP }',
      '',
    ].join('\n');

  it('valid options reach the plan', async () => {
    const configFile = join(dir, 'cluster.yaml');
    await writeFile(configFile, yaml('domain_type: qemu, boot: { kernel: vmlinuz }, serial_log_dir: serial'));
    const plan = planOf(await loadConfig({ configFile, statePath: join(dir, 'state.json') }, {}));
    expect(plan.guest).toEqual({ domainType: 'qemu', boot: { kernel: join(dir, 'vmlinuz') }, serialLogDir: join(dir, 'serial') });
  });

  it('a bad option makes the config invalid, with its field', async () => {
    const configFile = join(dir, 'bad.yaml');
    await writeFile(configFile, yaml('domain_type: hvf'));
    const config = await loadConfig({ configFile, statePath: join(dir, 'state.json') }, {});
    expect(config.result.plan).toBeNull();
    expect(config.result.errors.map((e) => e.fields.field)).toEqual(['clusterdesk.domain_type']);
  });
});
