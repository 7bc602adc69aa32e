/**
 * libvirt XML for domains, networks, dir pools and qcow2 volumes — built and read with xmlbuilder2, never by string
 * concatenation, so any value (even `</metadata><x>`) is escaped as text.
 *
 * Ownership: everything Clusterdesk creates carries a mark tying it to the state file's lineage, so destroy and
 * refresh only ever touch their own resources.
 *   - domains and networks: `<metadata><cd:owner xmlns:cd="…/owner/1" lineage=… cluster=… role=…/></metadata>`
 *     (both kept by libvirt 9.0 through define → dumpxml; verified by the tests);
 *   - storage pools: libvirt drops `<metadata>` on pools (verified on 9.0), so the mark is the pool's UUID, derived
 *     from (lineage, pool name) — it survives every driver and can be checked, though not read back as a lineage.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { ownedPoolUuid, OWNER_NS, childText as readChildText, type DhcpHost, type OwnerMark, type XEl } from './xml-read';

// The readers status and refresh need live in xml-read.ts (no xmlbuilder2); re-exported here for the builders' users.
export {
  domainInterfaces,
  networkDhcpHosts,
  ownedPoolUuid,
  OWNER_NS,
  ownerOf,
  poolOwnedBy,
  poolTargetPath,
  TEST_NS,
  XmlSyntaxError,
  type DhcpHost,
  type OwnerMark,
} from './xml-read';

export interface PciAddress {
  /** `dddd:bb:ss.f` */
  readonly address: string;
}

export interface DomainSpec {
  readonly name: string;
  /**
   * `test` on libvirt's test driver, `kvm` on a real host, `qemu` on a real host without working hardware
   * virtualisation (QEMU's TCG emulator: slow, but needs no /dev/kvm).
   */
  readonly type: 'test' | 'kvm' | 'qemu';
  readonly vcpus: number;
  readonly memoryKiB: number;
  readonly description?: string;
  /** The VM's disk (a qcow2 volume path). */
  readonly diskPath?: string;
  /** The libvirt network to attach to, with the VM's MAC. */
  readonly network?: { readonly name: string; readonly mac: string };
  readonly pciDevices?: readonly PciAddress[];
  readonly owner: OwnerMark;
  /** Direct kernel boot (the disk is then only a data disk): paths as the libvirt host sees them. */
  readonly kernelBoot?: KernelBoot;
  /** Send the serial console to this file (on the libvirt host) instead of a pty. */
  readonly serialLogFile?: string;
}

export interface KernelBoot {
  readonly kernel: string;
  readonly initrd?: string;
  readonly cmdline?: string;
}

export interface NetworkSpec {
  readonly name: string;
  readonly bridge: string;
  readonly gateway: string;
  readonly netmask: string;
  readonly dhcpStart: string;
  readonly dhcpEnd: string;
  readonly hosts: readonly DhcpHost[];
  readonly owner: OwnerMark;
  /** `nat` (default): VMs reach outside through the host; `isolated`: VMs and host only (no `<forward>`). */
  readonly mode?: 'nat' | 'isolated';
}

export interface PoolSpec {
  readonly name: string;
  /** The directory holding the volumes. */
  readonly path: string;
  readonly owner: OwnerMark;
}

export interface VolumeSpec {
  readonly name: string;
  readonly capacityGb: number;
  /** The qcow2 base image this volume overlays (copy-on-write). */
  readonly backingPath?: string;
}

interface MutableNode {
  readonly nodeType: number;
  readonly childNodes: ArrayLike<MutableNode>;
  data?: string;
  readonly attributes?: ArrayLike<{ value: string }>;
}

/**
 * Serializes a document so every value comes back exactly as given.
 *
 * xmlbuilder2 leaves an `&` that starts something entity-like (`&amp;`, `&foo;`, `&#60;`) unescaped, so such text
 * would be read back altered (or rejected by libvirt as an unknown entity). Doubling every `&` in text and attribute
 * values first makes its output exactly one level of escaping. `<`, `>` and quotes it always escapes. `wellFormed`
 * refuses characters XML cannot carry (control characters) instead of writing a document libvirt would reject.
 */
export function serializeXml(root: XMLBuilder, options: { readonly declaration?: boolean } = {}): string {
  const walk = (n: MutableNode): void => {
    if ((n.nodeType === 3 || n.nodeType === 4) && n.data !== undefined) n.data = n.data.replace(/&/g, '&amp;');
    if (n.nodeType === 1 && n.attributes) for (let i = 0; i < n.attributes.length; i++) n.attributes[i]!.value = n.attributes[i]!.value.replace(/&/g, '&amp;');
    for (let i = 0; i < n.childNodes.length; i++) walk(n.childNodes[i]!);
  };
  const doc = root.doc();
  walk(doc.node as unknown as MutableNode);
  return doc.end({ headless: !options.declaration, prettyPrint: true, wellFormed: true });
}

const serialize = (root: XMLBuilder): string => serializeXml(root);

function addOwner(root: XMLBuilder, owner: OwnerMark): void {
  const attrs: Record<string, string> = { lineage: owner.lineage, cluster: owner.cluster };
  if (owner.role !== undefined) attrs['role'] = owner.role;
  root.ele('metadata').ele(OWNER_NS, 'cd:owner', attrs);
}

/** Domain XML for one cluster VM. */
export function buildDomainXml(spec: DomainSpec): string {
  const d = create().ele('domain', { type: spec.type });
  d.ele('name').txt(spec.name);
  if (spec.description !== undefined) d.ele('description').txt(spec.description);
  addOwner(d, spec.owner);
  d.ele('memory', { unit: 'KiB' }).txt(String(spec.memoryKiB));
  d.ele('currentMemory', { unit: 'KiB' }).txt(String(spec.memoryKiB));
  d.ele('vcpu', { placement: 'static' }).txt(String(spec.vcpus));
  const real = spec.type !== 'test';
  const os = d.ele('os');
  if (real) os.ele('type', { arch: 'x86_64', machine: 'q35' }).txt('hvm');
  else os.ele('type').txt('hvm');
  if (spec.kernelBoot) {
    os.ele('kernel').txt(spec.kernelBoot.kernel);
    if (spec.kernelBoot.initrd !== undefined) os.ele('initrd').txt(spec.kernelBoot.initrd);
    if (spec.kernelBoot.cmdline !== undefined) os.ele('cmdline').txt(spec.kernelBoot.cmdline);
  } else {
    os.ele('boot', { dev: 'hd' });
  }
  if (real) d.ele('features').ele('acpi').up().ele('apic');
  // The host's CPU can only be passed through with KVM; TCG emulates its default model.
  if (spec.type === 'kvm') d.ele('cpu', { mode: 'host-passthrough', check: 'none' });
  d.ele('on_poweroff').txt('destroy');
  d.ele('on_reboot').txt('restart');
  d.ele('on_crash').txt('destroy');
  const dev = d.ele('devices');
  if (spec.diskPath !== undefined) {
    const disk = dev.ele('disk', { type: 'file', device: 'disk' });
    disk.ele('driver', { name: 'qemu', type: 'qcow2' });
    disk.ele('source', { file: spec.diskPath });
    disk.ele('target', { dev: 'vda', bus: 'virtio' });
  }
  if (spec.network !== undefined) {
    const nic = dev.ele('interface', { type: 'network' });
    nic.ele('mac', { address: spec.network.mac });
    nic.ele('source', { network: spec.network.name });
    nic.ele('model', { type: 'virtio' });
  }
  for (const pci of spec.pciDevices ?? []) {
    const m = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(pci.address);
    if (!m) throw new Error(`not a PCI address: ${pci.address}`);
    dev
      .ele('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' })
      .ele('source')
      .ele('address', { domain: `0x${m[1]}`, bus: `0x${m[2]}`, slot: `0x${m[3]}`, function: `0x${m[4]}` });
  }
  if (real) {
    if (spec.serialLogFile !== undefined) {
      const serial = dev.ele('serial', { type: 'file' });
      serial.ele('source', { path: spec.serialLogFile });
      serial.ele('target', { port: '0' });
      const console = dev.ele('console', { type: 'file' });
      console.ele('source', { path: spec.serialLogFile });
      console.ele('target', { type: 'serial', port: '0' });
    } else {
      dev.ele('serial', { type: 'pty' });
      dev.ele('console', { type: 'pty' });
    }
    // The guest agent channel lets refresh ask the guest for its addresses when there is no DHCP lease.
    dev.ele('channel', { type: 'unix' }).ele('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' });
  }
  return serialize(d);
}

/** A NAT (or isolated) network with the cluster's subnet, a DHCP range and one reservation (mac → ip) per VM. */
export function buildNetworkXml(spec: NetworkSpec): string {
  const n = create().ele('network');
  n.ele('name').txt(spec.name);
  addOwner(n, spec.owner);
  if (spec.mode !== 'isolated') n.ele('forward', { mode: 'nat' });
  n.ele('bridge', { name: spec.bridge, stp: 'on', delay: '0' });
  const dhcp = n.ele('ip', { address: spec.gateway, netmask: spec.netmask }).ele('dhcp');
  dhcp.ele('range', { start: spec.dhcpStart, end: spec.dhcpEnd });
  for (const h of spec.hosts) dhcp.ele('host', { mac: h.mac, name: h.name, ip: h.ip });
  return serialize(n);
}

/** A dir pool whose UUID carries the ownership mark. */
export function buildPoolXml(spec: PoolSpec): string {
  const p = create().ele('pool', { type: 'dir' });
  p.ele('name').txt(spec.name);
  p.ele('uuid').txt(ownedPoolUuid(spec.owner.lineage, spec.name));
  p.ele('target').ele('path').txt(spec.path);
  return serialize(p);
}

/** A qcow2 volume, thin (allocation 0), optionally a copy-on-write overlay of a qcow2 base image. */
export function buildVolumeXml(spec: VolumeSpec): string {
  const v = create().ele('volume');
  v.ele('name').txt(spec.name);
  v.ele('allocation', { unit: 'bytes' }).txt('0');
  v.ele('capacity', { unit: 'GiB' }).txt(String(spec.capacityGb));
  v.ele('target').ele('format', { type: 'qcow2' });
  if (spec.backingPath !== undefined) {
    const b = v.ele('backingStore');
    b.ele('path').txt(spec.backingPath);
    b.ele('format', { type: 'qcow2' });
  }
  return serialize(v);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** The slice of xmlbuilder2's DOM we read (the node tsconfig has no DOM lib). */
export interface XmlNode {
  readonly nodeType: number;
  readonly firstChild: XmlNode | null;
  readonly nextSibling: XmlNode | null;
  readonly textContent: string | null;
}
export interface XmlElement extends XmlNode {
  readonly localName: string;
  readonly namespaceURI: string | null;
  getAttribute(name: string): string | null;
}
type Element = XmlElement;

/**
 * The root DOM element of an XML document (libvirt's output is well formed; ours too).
 *
 * xmlbuilder2's reader decodes named entities and then numeric ones in a second pass, so `&amp;#60;` (the text
 * `&#60;`) would come back as `<`. Spelling `&amp;` as the equivalent `&#38;` first makes the decode single-pass:
 * nothing is left for the numeric pass to re-read. (libvirt writes no CDATA, where the rewrite would be visible.)
 */
export function parseXml(xml: string): XmlElement {
  return xmlDocument(xml).root().node as unknown as XmlElement;
}

/** An XML document as an xmlbuilder2 builder (single-pass entity decoding, see `parseXml`). */
export function xmlDocument(xml: string): XMLBuilder {
  return create(xml.replace(/&amp;/g, '&#38;'));
}

function childElements(el: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as Element).localName === localName) out.push(c as Element);
  return out;
}

/** The text of the first child element `name` of the root (a string is read with the strict reader), or null. */
export function childText(xml: string | Element | XEl, name: string): string | null {
  if (typeof xml === 'string' || !('nodeType' in xml)) return readChildText(xml, name);
  const el = childElements(xml, name)[0];
  return el ? (el.textContent ?? '') : null;
}

/** A DHCP reservation element (`<host mac= name= ip=/>`) for `virNetworkUpdate`. */
export function buildDhcpHostXml(h: DhcpHost): string {
  return serialize(create().ele('host', { mac: h.mac, name: h.name, ip: h.ip }));
}
