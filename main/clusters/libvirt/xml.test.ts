/** Pure XML builder checks (the round trips through libvirt are in host.test.ts). */
import { describe, expect, it } from 'vitest';
import { buildDomainXml, buildPoolXml, childText, domainInterfaces, ownedPoolUuid, ownerOf, parseXml, poolOwnedBy } from './xml';

const owner = { lineage: 'L', cluster: 'c', role: 'compute' };

describe('buildDomainXml (kvm)', () => {
  it('builds a KVM guest with disk, NIC, PCI passthrough and the guest-agent channel', () => {
    const xml = buildDomainXml({
      name: 'c-compute-01',
      type: 'kvm',
      vcpus: 8,
      memoryKiB: 16 * 1024 * 1024,
      diskPath: '/var/lib/libvirt/images/c-pool/c-compute-01.qcow2',
      network: { name: 'c-network', mac: '52:54:00:12:34:56' },
      pciDevices: [{ address: '0000:65:00.2' }],
      owner,
    });
    const root = parseXml(xml);
    expect(root.getAttribute('type')).toBe('kvm');
    expect(childText(root, 'vcpu')).toBe('8');
    expect(childText(root, 'memory')).toBe(String(16 * 1024 * 1024));
    expect(domainInterfaces(xml)).toEqual([{ mac: '52:54:00:12:34:56', network: 'c-network' }]);
    expect(xml).toContain(`<address domain="0x0000" bus="0x65" slot="0x00" function="0x2"/>`);
    expect(xml).toContain(`<source file="/var/lib/libvirt/images/c-pool/c-compute-01.qcow2"/>`);
    expect(xml).toContain('org.qemu.guest_agent.0');
    expect(ownerOf(xml)).toEqual(owner);
  });

  it('refuses a malformed PCI address instead of writing it', () => {
    expect(() => buildDomainXml({ name: 'x', type: 'kvm', vcpus: 1, memoryKiB: 1, pciDevices: [{ address: '01:00.0' }], owner })).toThrow(/PCI address/);
  });
});

describe('pool ownership UUID', () => {
  it('is a stable, well-formed UUID that differs per lineage and per name', () => {
    const u = ownedPoolUuid('L', 'c-pool');
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ownedPoolUuid('L', 'c-pool')).toBe(u);
    expect(ownedPoolUuid('M', 'c-pool')).not.toBe(u);
    expect(ownedPoolUuid('L', 'd-pool')).not.toBe(u);
    expect(poolOwnedBy(buildPoolXml({ name: 'c-pool', path: '/p', owner }), 'L')).toBe(true);
  });

  it('ownerOf ignores look-alike elements outside our namespace', () => {
    const xml = '<domain><metadata><owner lineage="L" cluster="c"/><x:owner xmlns:x="urn:other" lineage="L" cluster="c"/></metadata></domain>';
    expect(ownerOf(xml)).toBeNull();
  });
});
