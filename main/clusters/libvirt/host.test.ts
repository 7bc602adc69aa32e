/** The libvirt adapter against libvirt's real test driver (no mocks). */
import * as libvirt from '@unraid/libvirt';
import { afterEach, describe, expect, it } from 'vitest';
import { create } from 'xmlbuilder2';
import { createTempTestHost, testOwner, type TempTestHost } from '../../../test/support/libvirt-host';
import { isAppError } from '../../errors';
import { openConnectionCount, openLibvirtHost } from './host';
import { domainStateName, type LibvirtHost } from './types';
import { resolveLibvirtUri } from './uri';
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml, childText, domainInterfaces, networkDhcpHosts, ownerOf, poolOwnedBy } from './xml';

const LINEAGE = '6b1c1a1e-0000-4000-8000-00000000abcd';
const owner = (role: string) => testOwner('lab', LINEAGE, role);

let temp: TempTestHost | null = null;
let host: LibvirtHost | null = null;
afterEach(async () => {
  await host?.close();
  host = null;
  await temp?.cleanup();
  temp = null;
});

async function freshHost(seed?: Parameters<typeof createTempTestHost>[0]): Promise<LibvirtHost> {
  temp = await createTempTestHost(seed);
  host = await temp.open();
  return host;
}

function domainXml(name: string, extra: Partial<Parameters<typeof buildDomainXml>[0]> = {}): string {
  return buildDomainXml({ name, type: 'test', vcpus: 2, memoryKiB: 524288, owner: owner('compute'), ...extra });
}

describe('domains', () => {
  it('define → start → pause → resume → shutdown → start → destroy → undefine', async () => {
    const h = await freshHost();
    expect(await h.defineDomain(domainXml('lab-compute-01'))).toBe('lab-compute-01');
    const state = async () => (await h.getDomain('lab-compute-01'))?.state ?? 'GONE';
    expect(await state()).toBe('SHUTOFF');
    await h.startDomain('lab-compute-01');
    expect(await state()).toBe('RUNNING');
    await h.suspendDomain('lab-compute-01');
    expect(await state()).toBe('PAUSED');
    await h.resumeDomain('lab-compute-01');
    expect(await state()).toBe('RUNNING');
    await h.shutdownDomain('lab-compute-01');
    expect(await state()).toBe('SHUTOFF');
    await h.startDomain('lab-compute-01');
    await h.rebootDomain('lab-compute-01');
    expect(await state()).toBe('RUNNING');
    await h.destroyDomain('lab-compute-01');
    expect(await state()).toBe('SHUTOFF');
    await h.setDomainAutostart('lab-compute-01', true);
    await h.undefineDomain('lab-compute-01');
    expect(await h.getDomain('lab-compute-01')).toBeNull();
  });

  it('reports info and the interfaces the test driver fakes', async () => {
    const h = await freshHost({ networks: [{ name: 'lab-network', octet: 3, owner: owner('network') }] });
    await h.defineDomain(domainXml('lab-controller', { vcpus: 3, memoryKiB: 1048576, network: { name: 'lab-network', mac: '52:54:00:aa:bb:cc' } }));
    expect(await h.getDomain('lab-controller')).toMatchObject({ name: 'lab-controller', state: 'SHUTOFF', vcpus: 3, maxMemKiB: 1048576 });
    await h.startDomain('lab-controller');
    const ifaces = await h.interfaceAddresses('lab-controller');
    expect(ifaces).toHaveLength(1);
    expect(ifaces[0]!.mac).toBe('52:54:00:aa:bb:cc');
    expect(ifaces[0]!.addresses[0]).toMatchObject({ type: 'ipv4' });
    expect(domainInterfaces(await h.domainXml('lab-controller'))).toEqual([{ mac: '52:54:00:aa:bb:cc', network: 'lab-network' }]);
  });

  it('maps libvirt failures to typed errors', async () => {
    const h = await freshHost({ domains: [{ name: 'lab-a', state: 'SHUTOFF', owner: owner('compute') }] });
    await expect(h.startDomain('missing')).rejects.toMatchObject({ code: 'not-found' });
    await expect(h.suspendDomain('lab-a')).rejects.toSatisfy((e: unknown) => isAppError(e, 'libvirt-error', 'libvirt-conflict'));
    await expect(h.defineDomain('<domain type="test"><name>x</name></domain>')).rejects.toSatisfy((e: unknown) => isAppError(e, 'libvirt-error'));
    await expect(h.networkXml('missing')).rejects.toMatchObject({ code: 'not-found' });
    const err = await h.startDomain('missing').catch((e: unknown) => e);
    expect(isAppError(err) && err.host).toBe(h.uri);
  });
});

describe('networks, pools and volumes', () => {
  it('network lifecycle with DHCP reservations; leases are optional on the test driver', async () => {
    const h = await freshHost();
    const spec = (bridge: string) => ({
      name: 'lab-network',
      bridge,
      gateway: '10.60.0.1',
      netmask: '255.255.255.0',
      dhcpStart: '10.60.0.2',
      dhcpEnd: '10.60.0.254',
      hosts: [
        { mac: '52:54:00:00:00:01', ip: '10.60.0.10', name: 'lab-controller' },
        { mac: '52:54:00:00:00:02', ip: '10.60.0.11', name: 'lab-compute-01' },
      ],
      owner: owner('network'),
    });
    await h.defineNetwork(buildNetworkXml(spec('virbr-lab')));
    await h.startNetwork('lab-network');
    expect(await h.getNetwork('lab-network')).toEqual({ name: 'lab-network', active: true, persistent: true });
    const live = await h.networkXml('lab-network');
    expect(networkDhcpHosts(live).map((x) => [x.mac, x.ip])).toEqual([
      ['52:54:00:00:00:01', '10.60.0.10'],
      ['52:54:00:00:00:02', '10.60.0.11'],
    ]);
    expect(await h.dhcpLeases('lab-network')).toBeNull();
    await h.destroyNetwork('lab-network');
    expect((await h.getNetwork('lab-network'))?.active).toBe(false);
    // Same name, new UUID (none given): libvirt refuses it as a conflict rather than replacing our network.
    await expect(h.defineNetwork(buildNetworkXml(spec('virbr-lab2')))).rejects.toMatchObject({ code: 'libvirt-conflict' });
    await h.undefineNetwork('lab-network');
    expect(await h.getNetwork('lab-network')).toBeNull();
    expect(await h.listNetworks()).toEqual([]);
  });

  it('dir pool and qcow2 volume lifecycle with a backing store', async () => {
    const h = await freshHost();
    const path = `${temp!.dir}/pool`;
    await h.definePool(buildPoolXml({ name: 'lab-pool', path, owner: owner('pool') }));
    await h.buildPool('lab-pool');
    await h.startPool('lab-pool');
    expect(await h.listPools()).toEqual([{ name: 'lab-pool', active: true }]);
    const vol = await h.createVolume('lab-pool', buildVolumeXml({ name: 'lab-controller.qcow2', capacityGb: 20, backingPath: '/images/base.qcow2' }));
    expect(vol).toMatchObject({ name: 'lab-controller.qcow2', path: `${path}/lab-controller.qcow2`, capacityBytes: 20 * 2 ** 30 });
    const vxml = await h.volumeXml('lab-pool', 'lab-controller.qcow2');
    expect(vxml).toContain('<path>/images/base.qcow2</path>');
    expect(vxml).toMatch(/<format type='qcow2'\/>/);
    expect((await h.listVolumes('lab-pool')).map((v) => v.name)).toEqual(['lab-controller.qcow2']);
    await h.refreshPool('lab-pool');
    await h.deleteVolume('lab-pool', 'lab-controller.qcow2');
    expect(await h.getVolume('lab-pool', 'lab-controller.qcow2')).toBeNull();
    await expect(h.deleteVolume('lab-pool', 'lab-controller.qcow2')).rejects.toMatchObject({ code: 'not-found' });
    await h.destroyPool('lab-pool');
    expect(await h.getPool('lab-pool')).toEqual({ name: 'lab-pool', active: false });
    await h.deletePool('lab-pool');
    await h.undefinePool('lab-pool');
    expect(await h.getPool('lab-pool')).toBeNull();
  });
});

describe('ownership marks', () => {
  it('round-trip through define → dumpxml for domains and networks; foreign resources have none', async () => {
    const h = await freshHost({
      domains: [
        { name: 'ours', owner: owner('controller') },
        { name: 'theirs', state: 'RUNNING' },
      ],
      networks: [
        { name: 'our-net', octet: 1, owner: owner('network') },
        { name: 'their-net', octet: 2 },
      ],
    });
    expect(ownerOf(await h.domainXml('ours'))).toEqual({ lineage: LINEAGE, cluster: 'lab', role: 'controller' });
    expect(ownerOf(await h.domainXml('ours', { inactive: true }))).toEqual({ lineage: LINEAGE, cluster: 'lab', role: 'controller' });
    expect(ownerOf(await h.domainXml('theirs'))).toBeNull();
    expect(ownerOf(await h.networkXml('our-net'))).toEqual({ lineage: LINEAGE, cluster: 'lab', role: 'network' });
    expect(ownerOf(await h.networkXml('their-net'))).toBeNull();
  });

  it('marks pools by a lineage-derived UUID, since libvirt drops <metadata> on pools', async () => {
    const h = await freshHost({ pools: [{ name: 'our-pool', owner: owner('pool') }, { name: 'their-pool' }] });
    const ours = await h.poolXml('our-pool');
    expect(poolOwnedBy(ours, LINEAGE)).toBe(true);
    expect(poolOwnedBy(ours, 'another-lineage')).toBe(false);
    expect(poolOwnedBy(await h.poolXml('their-pool'), LINEAGE)).toBe(false);
    // The verified fact behind the design: a <metadata> block given to a pool does not come back.
    const withMeta = create().ele('pool', { type: 'dir' });
    withMeta.ele('name').txt('meta-pool');
    withMeta.ele('metadata').ele('urn:x', 'x').txt('1');
    withMeta.ele('target').ele('path').txt(`${temp!.dir}/m`);
    await h.definePool(withMeta.end({ headless: true }));
    expect(await h.poolXml('meta-pool')).not.toContain('metadata');
  });

  it('escapes hostile values: they come back as text, never as markup', async () => {
    const h = await freshHost();
    const hostile = `</metadata><x>"'&$(reboot)`;
    await h.defineDomain(domainXml('lab-escape', { description: hostile, owner: { lineage: hostile, cluster: '<c>&amp;', role: "it's" } }));
    const xml = await h.domainXml('lab-escape');
    expect(ownerOf(xml)).toEqual({ lineage: hostile, cluster: '<c>&amp;', role: "it's" });
    expect(xml).not.toContain('<x>');
    expect(xml).toContain('&lt;/metadata&gt;&lt;x&gt;');
    const built = buildNetworkXml({
      name: 'n',
      bridge: 'b',
      gateway: '10.0.0.1',
      netmask: '255.255.255.0',
      dhcpStart: '10.0.0.2',
      dhcpEnd: '10.0.0.3',
      hosts: [{ mac: '52:54:00:00:00:01', ip: '10.0.0.2', name: `a"b<c>` }],
      owner: owner('network'),
    });
    expect(networkDhcpHosts(built)[0]!.name).toBe(`a"b<c>`);
    expect(buildVolumeXml({ name: 'v</name><x>', capacityGb: 1 })).toContain('v&lt;/name&gt;&lt;x&gt;');
    // Entity-looking text is data too: it must come back verbatim, not decoded one level.
    const tricky = '&amp; &lt; &#60; &foo; &';
    await h.defineDomain(domainXml('lab-entities', { description: tricky, owner: { lineage: tricky, cluster: 'lab' } }));
    const back = await h.domainXml('lab-entities');
    expect(ownerOf(back)?.lineage).toBe(tricky);
    expect(childText(back, 'description')).toBe(tricky);
    expect(() => buildDomainXml({ name: 'bad\u0001', type: 'test', vcpus: 1, memoryKiB: 1, owner: owner('x') })).toThrow();
  });
});

describe('bulk stats', () => {
  it('decodes 50 domains to exactly what per-domain calls (@unraid/libvirt) report', async () => {
    const states = ['RUNNING', 'PAUSED', 'SHUTOFF'] as const;
    const h = await freshHost({
      domains: Array.from({ length: 50 }, (_, i) => ({ name: `bulk-${String(i).padStart(2, '0')}`, state: states[i % 3]!, owner: owner('compute') })),
    });
    // The test driver reports only the state group; vcpu/balloon decoding is covered by bulk-stats.test.ts.
    const bulk = await h.domainStats({ vcpu: true, balloon: true });
    // The per-domain view, through the other binding on its own connection to the same saved file.
    const hv = new libvirt.Hypervisor({ uri: temp!.uri });
    await hv.connectOpen();
    try {
      const naive = await Promise.all(
        (await hv.connectListAllDomains()).map(async (d) => ({ name: await hv.domainGetName(d), state: domainStateName((await hv.domainGetInfo(d)).state) })),
      );
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(bulk.map(({ name, state }) => ({ name, state })).sort(byName)).toEqual(naive.sort(byName));
      expect(bulk).toHaveLength(50);
      expect(new Set(bulk.map((d) => d.state))).toEqual(new Set(states));
    } finally {
      await hv.connectClose();
    }
  });
});

describe('connections', () => {
  it("a bad URI is libvirt-conn naming the URI and libvirt's reason", async () => {
    const err = await openLibvirtHost('test:///nonexistent/file.xml').catch((e: unknown) => e);
    expect(isAppError(err, 'libvirt-conn')).toBe(true);
    const e = err as { message: string; host: string; hint: string };
    expect(e.host).toBe('test:///nonexistent/file.xml');
    expect(e.message).toContain('test:///nonexistent/file.xml');
    expect(e.message).toMatch(/failed to parse xml document/);
    expect(openConnectionCount()).toBe(0);
  });

  it('shares one connection per URI in a process; closing the last handle closes it', async () => {
    temp = await createTempTestHost();
    const a = await openLibvirtHost(temp.uri);
    const b = await openLibvirtHost(temp.uri);
    await a.defineDomain(domainXml('shared'));
    expect((await b.getDomain('shared'))?.state).toBe('SHUTOFF');
    await a.close();
    await a.close(); // idempotent: must not drop b's reference
    expect((await b.getDomain('shared'))?.name).toBe('shared');
    await b.close();
    await expect(b.getDomain('shared')).rejects.toMatchObject({ code: 'libvirt-conn' });
    // A new open re-reads the file, which never saw the unsaved domain.
    const c = await openLibvirtHost(temp.uri);
    expect(await c.getDomain('shared')).toBeNull();
    await c.close();
  });

  it('verified: two raw connections to one test file URI are two separate hosts', async () => {
    temp = await createTempTestHost();
    const mine = await openLibvirtHost(temp.uri);
    const other = new libvirt.Hypervisor({ uri: temp.uri });
    await other.connectOpen();
    try {
      await other.domainDefineXML(domainXml('only-in-other'));
      expect(await mine.getDomain('only-in-other')).toBeNull();
    } finally {
      await other.connectClose();
      await mine.close();
    }
  });

  it('resolves the URI: workspace setting, then LIBVIRT_DEFAULT_URI, then qemu:///system', () => {
    expect(resolveLibvirtUri('test:///default', { LIBVIRT_DEFAULT_URI: 'qemu:///session' })).toBe('test:///default');
    expect(resolveLibvirtUri(undefined, { LIBVIRT_DEFAULT_URI: 'qemu:///session' })).toBe('qemu:///session');
    expect(resolveLibvirtUri('  ', { LIBVIRT_DEFAULT_URI: ' ' })).toBe('qemu:///system');
    expect(resolveLibvirtUri(null, {})).toBe('qemu:///system');
  });
});
