/** The strict XML reader (xml-read.ts) against XML libvirt's real test driver returns, and against malformed input. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTempTestHost, testOwner, type TempTestHost } from '../../../test/support/libvirt-host';
import { isAppError } from '../../errors';
import type { LibvirtHost } from './types';
import { buildDomainXml, buildNetworkXml, buildPoolXml, parseXml, type XmlElement } from './xml';
import { childText, domainInterfaces, networkDhcpHosts, ownerOf, poolOwnedBy, poolTargetPath, readXml, textOf, XmlSyntaxError, type XEl } from './xml-read';

const LINEAGE = '6b1c1a1e-0000-4000-8000-00000000abcd';
let temp: TempTestHost | null = null;
let host: LibvirtHost | null = null;
afterEach(async () => {
  await host?.close();
  host = null;
  await temp?.cleanup();
  temp = null;
});

/** The element tree as plain data, from our reader … */
function shapeOf(el: XEl): unknown {
  return {
    name: el.name,
    ns: el.ns,
    attrs: Object.fromEntries([...el.attrs].sort()),
    // xmlbuilder2 drops whitespace-only text between elements; compare without it.
    nodes: el.nodes.filter((n) => typeof n !== 'string' || n.trim() !== '').map((n) => (typeof n === 'string' ? n : shapeOf(n))),
  };
}
/** … and from xmlbuilder2's DOM (the reference reader; `xmlns` declarations are not attributes to us). */
function domShapeOf(el: XmlElement): unknown {
  const e = el as XmlElement & { attributes: ArrayLike<{ name: string; value: string }> };
  const attrs: [string, string][] = [];
  for (let i = 0; i < e.attributes.length; i++) {
    const a = e.attributes[i]!;
    if (a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) attrs.push([a.name, a.value]);
  }
  const nodes: unknown[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 1) nodes.push(domShapeOf(c as XmlElement));
    else if (c.nodeType === 3 || c.nodeType === 4) {
      if (typeof nodes[nodes.length - 1] === 'string') nodes[nodes.length - 1] += c.textContent ?? '';
      else nodes.push(c.textContent ?? '');
    }
  }
  return {
    name: el.localName,
    ns: el.namespaceURI,
    attrs: Object.fromEntries(attrs.sort()),
    nodes: nodes.filter((n) => typeof n !== 'string' || n.trim() !== ''),
  };
}

describe('reading what libvirt returns', () => {
  it('reads owner marks, interfaces, DHCP hosts and the pool path from the test driver, escaped characters intact', async () => {
    const hostile = `</metadata><x>"'&$(reboot) &amp; &#60; é`;
    temp = await createTempTestHost({ networks: [{ name: 'lab-network', octet: 5, owner: testOwner('lab', LINEAGE, 'network') }] });
    host = await temp.open();
    const h = host;
    await h.defineDomain(
      buildDomainXml({
        name: 'lab-compute-01',
        type: 'test',
        vcpus: 1,
        memoryKiB: 262144,
        description: hostile,
        network: { name: 'lab-network', mac: '52:54:00:AA:bb:01' },
        owner: { lineage: hostile, cluster: '<c>&amp;', role: "it's" },
      }),
    );
    await h.defineDomain(
      buildDomainXml({ name: 'theirs', type: 'test', vcpus: 1, memoryKiB: 262144, owner: testOwner('other') }).replace(/<metadata>[\s\S]*<\/metadata>/, ''),
    );
    const poolPath = `${temp.dir}/pool & <dir> "q"`;
    await h.definePool(buildPoolXml({ name: 'lab-pool', path: poolPath, owner: testOwner('lab', LINEAGE) }));
    // (libvirt 9.0's test driver re-parses a live update without escaping it, so the reservation's name stays plain.)
    await h.addDhcpHost('lab-network', { mac: '52:54:00:aa:bb:01', ip: '10.77.5.10', name: 'lab-compute-01' });

    const dom = await h.domainXml('lab-compute-01', { inactive: true });
    expect(dom).toContain('&lt;/metadata&gt;'); // libvirt escaped it; the reader must undo exactly one level
    expect(ownerOf(dom)).toEqual({ lineage: hostile, cluster: '<c>&amp;', role: "it's" });
    expect(childText(dom, 'description')).toBe(hostile);
    expect(domainInterfaces(dom)).toEqual([{ mac: '52:54:00:aa:bb:01', network: 'lab-network' }]);
    expect(ownerOf(await h.domainXml('theirs'))).toBeNull();

    const net = await h.networkXml('lab-network');
    expect(ownerOf(net)).toEqual({ lineage: LINEAGE, cluster: 'lab', role: 'network' });
    expect(networkDhcpHosts(net)).toContainEqual({ mac: '52:54:00:aa:bb:01', ip: '10.77.5.10', name: 'lab-compute-01' });

    const pool = await h.poolXml('lab-pool');
    expect(poolTargetPath(pool)).toBe(poolPath);
    expect(poolOwnedBy(pool, LINEAGE)).toBe(true);
    expect(poolOwnedBy(pool, 'another-lineage')).toBe(false);

    // The whole tree agrees with xmlbuilder2's reader on every document libvirt gave us.
    for (const xml of [dom, net, pool, await h.domainXml('lab-compute-01')]) expect(shapeOf(readXml(xml))).toEqual(domShapeOf(parseXml(xml)));
  });

  it('reads text in CDATA sections, comments, declarations and character references', () => {
    const root = readXml(
      `<?xml version="1.0"?>\n<!-- c --><domain xmlns:cd="https://clusterdesk.dev/xmlns/owner/1"><description><![CDATA[<a> & b]]>&#x3C;&#62;</description>` +
        `<metadata><cd:owner lineage='l' cluster="c"/></metadata></domain>\n<!-- after -->\n`,
    );
    expect(childText(root, 'description')).toBe('<a> & b<>');
    expect(textOf(root)).toBe('<a> & b<>');
    expect(ownerOf(`<domain><metadata><owner xmlns="https://clusterdesk.dev/xmlns/owner/1" lineage="l" cluster="c"/></metadata></domain>`)).toEqual({
      lineage: 'l',
      cluster: 'c',
    });
    expect(ownerOf(`<domain><metadata><x:owner xmlns:x="urn:other" lineage="l" cluster="c"/></metadata></domain>`)).toBeNull();
    // Attribute-value normalization: a literal newline reads as a space, an escaped one is kept.
    expect(readXml(`<a v="x\ny&#10;z"/>`).attrs.get('v')).toBe('x y\nz');
  });
});

describe('refusing malformed XML', () => {
  const bad: [string, RegExp][] = [
    ['', /no root element/],
    ['<a>', /end of input inside <a>/],
    ['<a></b>', /<\/b> closes <a>/],
    ['<a><b></a>', /<\/a> closes <b>/],
    ['<a/><b/>', /second root element/],
    ['x<a/>', /text before the root/],
    ['<a/>x', /text after the root/],
    ['<a>&foo;</a>', /unknown entity &foo;/],
    ['<a>a & b</a>', /`&` that does not start an entity/],
    ['<a>&#0;</a>', /names no XML character/],
    ['<a v=1/>', /not quoted/],
    ['<a v="1" v="2"/>', /appears twice/],
    ['<a v="<"/>', /`<` in the value/],
    ['<a v/>', /has no value/],
    ['<p:a/>', /undeclared namespace prefix "p"/],
    ['<a p:v="1"/>', /undeclared namespace prefix "p"/],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /document type declaration/],
    ['<a><!-- never closed </a>', /unterminated comment/],
    ['<a><![CDATA[x</a>', /unterminated CDATA/],
    ['<a b="1"c="2"/>', /expected whitespace/],
  ];
  it.each(bad)('%j is refused', (xml, why) => {
    let err: unknown;
    try {
      readXml(xml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XmlSyntaxError);
    expect(isAppError(err) && err.code).toBe('libvirt-error');
    expect((err as Error).message).toMatch(why);
  });

  it('says where: line and column of the fault', () => {
    try {
      ownerOf('<domain>\n  <name>x</name>\n  <metadata>&bad;</metadata>\n</domain>');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XmlSyntaxError);
      expect((e as XmlSyntaxError).line).toBe(3);
      expect((e as XmlSyntaxError).column).toBe(13);
      expect((e as XmlSyntaxError).message).toContain('line 3, column 13');
    }
  });

  it('still reads what we build (a network with reservations)', () => {
    const xml = buildNetworkXml({
      name: 'n',
      bridge: 'b',
      gateway: '10.0.0.1',
      netmask: '255.255.255.0',
      dhcpStart: '10.0.0.2',
      dhcpEnd: '10.0.0.3',
      hosts: [{ mac: '52:54:00:00:00:01', ip: '10.0.0.2', name: '&amp;' }],
      owner: testOwner('c', 'L', 'network'),
    });
    expect(networkDhcpHosts(xml)).toEqual([{ mac: '52:54:00:00:00:01', ip: '10.0.0.2', name: '&amp;' }]);
    expect(ownerOf(xml)).toEqual({ lineage: 'L', cluster: 'c', role: 'network' });
  });
});
