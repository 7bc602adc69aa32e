import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterMacs, vmMac } from './mac';
import { formatIpv4, parseIpv4, parseSubnet } from './net';
import { loadClusterConfig, parseClusterConfig, requirePlan, toValidationReport } from './parse';

/** A list-form config; line numbers in comments are what the error assertions rely on. */
function listConfig(o: Partial<Record<'name' | 'image' | 'subnet' | 'bridge' | 'ctlIp' | 'ip1' | 'ip2', string>> = {}): string {
  return [
    'version: "1.0"', // 1
    'metadata:', // 2
    '  name: "t"', // 3
    '  description: "test"', // 4
    'clusters:', // 5
    '  hpc:', // 6
    `    name: ${JSON.stringify(o.name ?? 'hpc')}`, // 7
    `    base_image_path: ${JSON.stringify(o.image ?? '/images/base.qcow2')}`, // 8
    '    network:', // 9
    `      subnet: ${JSON.stringify(o.subnet ?? '192.168.100.0/24')}`, // 10
    `      bridge: ${JSON.stringify(o.bridge ?? 'virbr100')}`, // 11
    '    controller:', // 12
    '      cpu_cores: 4', // 13
    '      memory_gb: 8', // 14
    '      disk_gb: 100', // 15
    `      ip_address: ${JSON.stringify(o.ctlIp ?? '192.168.100.10')}`, // 16
    '    compute_nodes:', // 17
    '      - cpu_cores: 8', // 18
    '        memory_gb: 16', // 19
    '        disk_gb: 200', // 20
    `        ip: ${JSON.stringify(o.ip1 ?? '192.168.100.11')}`, // 21
    '        pcie_passthrough:', // 22
    '          enabled: true', // 23
    '          devices:', // 24
    '            - pci_address: "0000:01:00.0"', // 25
    '              device_type: "gpu"', // 26
    '            - pci_address: "0000:01:00.1"', // 27
    '              device_type: "audio"', // 28
    '      - cpu_cores: 8', // 29
    '        memory_gb: 16', // 30
    '        disk_gb: 200', // 31
    `        ip: ${JSON.stringify(o.ip2 ?? '192.168.100.12')}`, // 32
    '        auto_start: false', // 33
    '    slurm_config:', // 34
    '      partitions: ["gpu"]', // 35
    '',
  ].join('\n');
}

function countConfig(count: number, subnet = '10.42.0.0/24', ctlIp = '10.42.0.10'): string {
  return [
    'version: "1.0"',
    'metadata: { name: batch }',
    'clusters:',
    '  hpc:',
    '    name: batch',
    '    base_image_path: /images/base.qcow2',
    `    network: { subnet: "${subnet}", bridge: virbr42 }`,
    `    controller: { cpu_cores: 2, memory_gb: 4, disk_gb: 50, ip_address: "${ctlIp}" }`,
    '    compute_nodes:',
    `      count: ${count}`,
    '      cpu_cores: 4',
    '      memory_gb: 8',
    '      disk_gb: 100',
    '      ip: DHCP',
    '',
  ].join('\n');
}

async function errorsOf(text: string) {
  const r = await parseClusterConfig(text, { path: '/work/cluster.yaml' });
  expect(r.plan).toBeNull();
  return r.errors.map((e) => ({ line: e.fields.line, field: e.fields.field, code: e.code, message: e.message }));
}

describe('parseClusterConfig: list form', () => {
  it('builds the plan with derived names, GPUs counted, deterministic MACs', async () => {
    const r = await parseClusterConfig(listConfig(), { path: '/work/cluster.yaml' });
    expect(r.errors).toEqual([]);
    const plan = requirePlan(r);
    expect(plan.clusterName).toBe('hpc');
    expect(plan.network).toMatchObject({
      name: 'hpc-network',
      subnet: '192.168.100.0/24',
      bridge: 'virbr100',
      gateway: '192.168.100.1',
      netmask: '255.255.255.0',
    });
    expect(plan.pool.name).toBe('hpc-pool');
    expect(plan.vms.map((v) => [v.name, v.role, v.ip, v.gpuCount, v.volume, v.autoStart])).toEqual([
      ['hpc-controller', 'controller', '192.168.100.10', 0, 'hpc-controller.qcow2', true],
      ['hpc-compute-01', 'compute', '192.168.100.11', 1, 'hpc-compute-01.qcow2', true],
      ['hpc-compute-02', 'compute', '192.168.100.12', 0, 'hpc-compute-02.qcow2', false],
    ]);
    expect(plan.vms[1]!.pciDevices).toEqual([
      { address: '0000:01:00.0', deviceType: 'gpu' },
      { address: '0000:01:00.1', deviceType: 'audio' },
    ]);
    expect(plan.vms[0]).toMatchObject({ vcpus: 4, memoryGb: 8, memoryKiB: 8 * 1024 * 1024, diskGb: 100 });
    for (const vm of plan.vms) {
      expect(vm.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
      expect(vm.mac).toBe(vmMac('hpc', vm.name));
    }
    expect(plan.baseImagePath).toBe('/images/base.qcow2');
    const again = requirePlan(await parseClusterConfig(listConfig(), { path: '/work/cluster.yaml' }));
    expect(again).toEqual(plan);
  });

  it('resolves a relative image path against the config folder and reports the plan for the UI', async () => {
    const r = await parseClusterConfig(listConfig({ image: 'images/base.qcow2' }), { path: '/work/demo/cluster.yaml' });
    expect(requirePlan(r).baseImagePath).toBe('/work/demo/images/base.qcow2');
    const report = toValidationReport(r);
    expect(report.valid).toBe(true);
    expect(report.plan.slice(0, 4)).toEqual([
      { resource: 'network', name: 'hpc-network' },
      { resource: 'pool', name: 'hpc-pool' },
      { resource: 'volume', name: 'hpc-controller.qcow2' },
      { resource: 'vm', name: 'hpc-controller' },
    ]);
  });

  it('reads the example configs', async () => {
    const demo = requirePlan(await loadClusterConfig('examples/cluster/demo-cluster.yaml'));
    expect(demo.vms.map((v) => v.gpuCount)).toEqual([0, 1, 0]);
    const batch = requirePlan(await loadClusterConfig('examples/cluster/count-cluster.yaml'));
    expect(batch.vms).toHaveLength(9);
  });
});

describe('parseClusterConfig: count form', () => {
  it('expands count nodes with DHCP reservations that never collide', async () => {
    const plan = requirePlan(await parseClusterConfig(countConfig(5)));
    expect(plan.vms.map((v) => v.name)).toEqual([
      'batch-controller',
      'batch-compute-01',
      'batch-compute-02',
      'batch-compute-03',
      'batch-compute-04',
      'batch-compute-05',
    ]);
    expect(plan.vms.slice(1).every((v) => v.ip === null)).toBe(true);
    expect(plan.vms.map((v) => v.address)).toEqual(['10.42.0.10', '10.42.0.11', '10.42.0.12', '10.42.0.13', '10.42.0.14', '10.42.0.15']);
  });

  it('wraps around past the broadcast and skips the gateway and used addresses (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 14 }), async (count, ctlHost) => {
        // A /28 has 14 hosts: .1 gateway, .2-.14 for VMs; the controller can sit anywhere in it.
        const r = await parseClusterConfig(countConfig(count, '10.9.9.0/28', `10.9.9.${ctlHost}`));
        const plan = requirePlan(r);
        const addrs = plan.vms.map((v) => v.address);
        expect(new Set(addrs).size).toBe(addrs.length);
        for (const a of addrs) {
          const n = parseIpv4(a)!;
          expect(n).toBeGreaterThan(parseIpv4('10.9.9.1')!);
          expect(n).toBeLessThan(parseIpv4('10.9.9.15')!);
        }
        expect(new Set(plan.vms.map((v) => v.mac)).size).toBe(plan.vms.length);
      }),
      { numRuns: 60 },
    );
  });

  it('reports a subnet too small for the nodes', async () => {
    const errs = await errorsOf(countConfig(14, '10.9.9.0/28', '10.9.9.5'));
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toMatch(/no free address/);
    expect(errs[0]!.field).toBe('clusters.hpc.compute_nodes');
    expect(errs[0]!.line).toBe(9); // the `compute_nodes:` key (one rule with refedez.yaml: files/yaml-lines.ts)
  });
});

describe('parseClusterConfig: every error names file, line and field', () => {
  it.each([
    ['an invalid IP', { ip1: '192.168.100.300' }, 21, 'clusters.hpc.compute_nodes[0].ip', /not an IPv4 address/],
    ['an IP outside the subnet', { ctlIp: '10.0.0.5' }, 16, 'clusters.hpc.controller.ip_address', /outside the subnet 192.168.100.0\/24/],
    ['a duplicate IP', { ip2: '192.168.100.11' }, 32, 'clusters.hpc.compute_nodes[1].ip', /already used by clusters.hpc.compute_nodes\[0\].ip/],
    ['the gateway', { ip1: '192.168.100.1' }, 21, 'clusters.hpc.compute_nodes[0].ip', /gateway/],
    ['the broadcast address', { ip2: '192.168.100.255' }, 32, 'clusters.hpc.compute_nodes[1].ip', /broadcast/],
    ['the network address', { ctlIp: '192.168.100.0' }, 16, 'clusters.hpc.controller.ip_address', /network address/],
    ['a bridge name over 15 chars', { bridge: 'virbr-way-too-long' }, 11, 'clusters.hpc.network.bridge', /1-15 characters/],
    ['a bridge name with a bad char', { bridge: 'br 0' }, 11, 'clusters.hpc.network.bridge', /1-15 characters/],
    ['a non-qcow2 image extension', { image: '/images/base.raw' }, 8, 'clusters.hpc.base_image_path', /not a \.qcow2 file/],
    ['a subnet with host bits', { subnet: '192.168.100.7/24' }, 10, 'clusters.hpc.network.subnet', /host bits/],
  ] as const)('%s', async (_label, override, line, field, message) => {
    const errs = await errorsOf(listConfig(override));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ code: 'config-invalid', line, field });
    expect(errs[0]!.message).toMatch(message);
    expect(errs[0]!.message).toContain(`cluster.yaml:${line}:`);
  });

  it.each([`a"b`, 'a<b', 'a&b', '$(reboot)', 'x y', '-lead', 'a/b', "a'b", 'a..b'])('rejects the unsafe name %j', async (name) => {
    const errs = await errorsOf(listConfig({ name }));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ line: 7, field: 'clusters.hpc.name' });
    expect(errs[0]!.message).toMatch(/not a safe libvirt name/);
  });

  it('returns all errors at once, not just the first', async () => {
    const errs = await errorsOf(listConfig({ name: 'a<b', bridge: 'b'.repeat(16), ctlIp: '192.168.100.1', ip1: '1.2.3', ip2: '192.168.100.255' }));
    expect(errs.map((e) => e.line)).toEqual([7, 11, 16, 21, 32]);
  });

  it('reports type and missing-field errors at the field or its parent', async () => {
    const text = listConfig().replace('      cpu_cores: 4\n', '      cpu_cores: "four"\n').replace('      disk_gb: 100\n', '');
    const errs = await errorsOf(text);
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 13, field: 'clusters.hpc.controller.cpu_cores' }),
        // A missing key points at its parent's key, `controller:` (line 12).
        expect.objectContaining({ line: 12, field: 'clusters.hpc.controller.disk_gb' }),
      ]),
    );
  });

  it('reports YAML syntax errors with their line', async () => {
    const errs = await errorsOf('version: "1.0"\nmetadata:\n  name: [unclosed\n');
    expect(errs[0]!.message).toMatch(/YAML syntax/);
    expect(errs[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses a PCI device given to two nodes and shared by a count group', async () => {
    const twice = listConfig().replace(
      '        auto_start: false\n',
      '        auto_start: false\n        pcie_passthrough: { devices: [{ pci_address: "0000:01:00.0", device_type: gpu }] }\n',
    );
    const errs = await errorsOf(twice);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.field).toBe('clusters.hpc.compute_nodes[1].pcie_passthrough.devices[0].pci_address');
    const shared = countConfig(2).replace(
      '      ip: DHCP\n',
      '      ip: DHCP\n      pcie_passthrough: { devices: [{ pci_address: "0000:02:00.0", device_type: gpu }] }\n',
    );
    expect((await errorsOf(shared))[0]!.message).toMatch(/cannot share/);
  });
});

describe('base image checks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cd-config-'));
    await writeFile(join(dir, 'good.qcow2'), Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(60)]));
    await writeFile(join(dir, 'raw.qcow2'), Buffer.alloc(64));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a real qcow2 and refuses a .qcow2 without the magic', async () => {
    expect((await parseClusterConfig(listConfig({ image: join(dir, 'good.qcow2') }), { checkImage: true })).errors).toEqual([]);
    const errs = await errorsOf(listConfig({ image: join(dir, 'raw.qcow2') }));
    expect(errs[0]).toMatchObject({ line: 8, field: 'clusters.hpc.base_image_path' });
    expect(errs[0]!.message).toMatch(/not in qcow2 format/);
  });

  it('requires the image to exist only with checkImage (a real host)', async () => {
    const missing = listConfig({ image: join(dir, 'missing.qcow2') });
    expect((await parseClusterConfig(missing)).errors).toEqual([]);
    const r = await parseClusterConfig(missing, { checkImage: true, path: join(dir, 'cluster.yaml') });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.fields).toMatchObject({ line: 8, field: 'clusters.hpc.base_image_path', path: join(dir, 'cluster.yaml') });
    expect(r.errors[0]!.message).toMatch(/ENOENT/);
  });

  it('reports an unreadable config file', async () => {
    const r = await loadClusterConfig(join(dir, 'nope.yaml'));
    expect(r.errors[0]!.code).toBe('config-invalid');
    expect(r.errors[0]!.message).toMatch(/ENOENT/);
  });
});

describe('net and mac helpers', () => {
  it('round-trips IPv4 and refuses malformed input', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => parseIpv4(formatIpv4(n)) === n));
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '', 'a.b.c.d']) expect(parseIpv4(bad)).toBeNull();
    expect(parseSubnet('10.0.0.0/31')).toHaveProperty('error');
  });

  it('gives every VM of a cluster a distinct, stable MAC even when hashes collide', () => {
    const names = Array.from({ length: 20000 }, (_, i) => `vm-${i}`);
    const macs = clusterMacs('big', names);
    expect(new Set(macs.values()).size).toBe(names.length);
    // 20,000 draws from 2^24 collide a few times (deterministically, for these names): the salting path ran.
    expect(names.filter((n) => macs.get(n) !== vmMac('big', n)).length).toBeGreaterThan(0);
    expect([...clusterMacs('big', names).values()]).toEqual([...macs.values()]);
  });
});
