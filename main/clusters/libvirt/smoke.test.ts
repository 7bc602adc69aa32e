/**
 * Foundation smoke test: both bindings load in one process and see the same test-driver host (`test:///default`
 * is one in-memory host per process, shared by every connection).
 */
import * as libvirt from '@unraid/libvirt';
import { describe, expect, it } from 'vitest';
import { openLibvirtHost } from './host';
import { buildDomainXml, buildNetworkXml } from './xml';

const owner = { lineage: 'smoke-lineage', cluster: 'smoke' };

describe('libvirt bindings smoke', () => {
  it('a domain defined through @unraid/libvirt is seen through koffi, and the reverse', async () => {
    const hv = new libvirt.Hypervisor({ uri: 'test:///default' });
    await hv.connectOpen();
    const host = await openLibvirtHost('test:///default');
    try {
      await hv.domainDefineXML(buildDomainXml({ name: 'smoke-unraid', type: 'test', vcpus: 1, memoryKiB: 262144, owner }));
      const viaKoffi = await host.domainStats();
      expect(viaKoffi.find((d) => d.name === 'smoke-unraid')?.state).toBe('SHUTOFF');

      await host.defineDomain(buildDomainXml({ name: 'smoke-koffi', type: 'test', vcpus: 2, memoryKiB: 262144, owner }));
      await host.startDomain('smoke-koffi');
      const dom = await hv.domainLookupByName('smoke-koffi');
      const info = await hv.domainGetInfo(dom);
      expect(info.state).toBe(libvirt.DomainState.RUNNING);
      expect(info.nrVirtCpu).toBe(2);
    } finally {
      await host.close();
      await hv.connectClose();
    }
  });

  it('defines and starts a network through koffi async calls and lists it', async () => {
    const host = await openLibvirtHost('test:///default');
    try {
      const name = await host.defineNetwork(
        buildNetworkXml({
          name: 'smoke-net',
          bridge: 'virbr-smoke',
          gateway: '10.250.0.1',
          netmask: '255.255.255.0',
          dhcpStart: '10.250.0.2',
          dhcpEnd: '10.250.0.254',
          hosts: [],
          owner,
        }),
      );
      expect(name).toBe('smoke-net');
      expect(await host.getNetwork(name)).toEqual({ name, active: false, persistent: true });
      await host.startNetwork(name);
      expect(await host.listNetworks()).toContainEqual({ name, active: true, persistent: true });
    } finally {
      await host.close();
    }
  });
});
