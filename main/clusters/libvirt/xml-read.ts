/**
 * A small, strict XML reader for the few fields status / refresh / ownership checks read from libvirt's XML (owner
 * marks, pool UUID and target path, a domain's interfaces, a network's DHCP reservations, the test driver's inactive
 * list). It keeps `hpc status` from loading xmlbuilder2 (and its DOM and YAML libraries); xmlbuilder2 still builds
 * every document we write (xml.ts).
 *
 * What it accepts: one root element; elements with attributes (single or double quoted, duplicates refused);
 * namespace prefixes resolved through `xmlns` / `xmlns:p` declarations in scope; text; the five predefined entities
 * and numeric character references, decoded in one pass (so `&amp;#60;` is the text `&#60;`); CDATA sections;
 * comments; processing instructions and the XML declaration. Anything else — a DTD, an unknown entity, a stray `<`
 * or `&`, a mismatched or missing end tag, an undeclared prefix, text outside the root — is refused with an
 * `XmlSyntaxError` that says where.
 */
import { AppError } from '../../errors';
import { createHash } from 'node:crypto';

export const OWNER_NS = 'https://clusterdesk.dev/xmlns/owner/1';
export const TEST_NS = 'http://libvirt.org/schemas/domain/test/1.0';

export interface OwnerMark {
  /** The state file's lineage (UUID). */
  readonly lineage: string;
  readonly cluster: string;
  /** What the resource is to the cluster (`controller`, `compute`, `network`, …). */
  readonly role?: string;
}

export interface DhcpHost {
  readonly mac: string;
  readonly ip: string;
  readonly name: string;
}

/** The UUID that marks a pool as owned by `lineage`: sha256(namespace, lineage, name) shaped as a v8 UUID. */
export function ownedPoolUuid(lineage: string, name: string): string {
  const h = createHash('sha256').update(`${OWNER_NS}\0${lineage}\0${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An element as the reader returns it. */
export interface XEl {
  /** The local name (without prefix). */
  readonly name: string;
  /** The namespace URI, or null when none is in scope. */
  readonly ns: string | null;
  readonly attrs: ReadonlyMap<string, string>;
  /** Child elements and text, in document order. */
  readonly nodes: readonly (XEl | string)[];
}

/** Malformed XML: what was wrong and where (1-based line and column). */
export class XmlSyntaxError extends AppError {
  readonly line: number;
  readonly column: number;
  constructor(what: string, xml: string, offset: number) {
    const before = xml.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    super('libvirt-error', `malformed XML at line ${line}, column ${column}: ${what}`, {
      hint: 'libvirt (or the host file) returned XML Clusterdesk cannot read; check the object with `virsh dumpxml`.',
      line,
    });
    this.name = 'XmlSyntaxError';
    this.line = line;
    this.column = column;
  }
}

const NAME = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y;
const SPACE = /[ \t\r\n]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface Open {
  readonly qname: string;
  readonly nodes: (XEl | string)[];
  readonly scope: ReadonlyMap<string, string>;
  readonly el: XEl;
}

/** Parses a whole document and returns its root element; throws `XmlSyntaxError` on anything malformed. */
export function readXml(xml: string): XEl {
  let i = 0;
  const fail = (what: string, at = i): never => {
    throw new XmlSyntaxError(what, xml, at);
  };
  const skipSpace = (): void => {
    SPACE.lastIndex = i;
    SPACE.exec(xml);
    i = SPACE.lastIndex;
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(xml);
    if (!m) return fail('expected a name');
    i = NAME.lastIndex;
    return m[0];
  };
  const decode = (raw: string, at: number): string => {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&<]*);?/g, (whole, ref: string, off: number) => {
      if (!whole.endsWith(';')) return fail('`&` that does not start an entity (write `&amp;`)', at + off);
      let cp: number;
      if (ref.startsWith('#x')) cp = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : NaN;
      else if (ref.startsWith('#')) cp = /^#[0-9]+$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
      else {
        const e = ENTITIES[ref];
        return e ?? fail(`unknown entity &${ref};`, at + off);
      }
      const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
      return ok ? String.fromCodePoint(cp) : fail(`character reference ${whole} names no XML character`, at + off);
    });
  };
  const misc = (): boolean => {
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
      return true;
    }
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      return true;
    }
    return false;
  };

  if (xml.charCodeAt(0) === 0xfeff) i = 1;
  for (;;) {
    skipSpace();
    if (!misc()) break;
  }
  if (xml.startsWith('<!DOCTYPE', i)) fail('a document type declaration (not accepted)');
  if (xml[i] !== '<') fail(i >= xml.length ? 'no root element' : 'text before the root element');

  const stack: Open[] = [];
  let root: XEl | null = null;
  const topScope: ReadonlyMap<string, string> = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]);
  const resolve = (qname: string, s: ReadonlyMap<string, string>, at: number, isAttr: boolean): { local: string; ns: string | null } => {
    const c = qname.indexOf(':');
    if (c < 0) return { local: qname, ns: isAttr ? null : (s.get('') ?? null) || null };
    const prefix = qname.slice(0, c);
    const ns = s.get(prefix);
    if (ns === undefined) return fail(`undeclared namespace prefix "${prefix}"`, at);
    return { local: qname.slice(c + 1), ns };
  };

  while (root === null) {
    if (i >= xml.length) fail(`end of input inside <${stack[stack.length - 1]?.qname ?? '?'}>`);
    const lt = xml.indexOf('<', i);
    if (lt !== i) {
      const end = lt < 0 ? xml.length : lt;
      const raw = xml.slice(i, end);
      if (stack.length === 0) fail('text outside the root element');
      stack[stack.length - 1]!.nodes.push(decode(raw, i));
      i = end;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end < 0) fail('unterminated CDATA section');
      stack[stack.length - 1]!.nodes.push(xml.slice(i + 9, end));
      i = end + 3;
      continue;
    }
    if (misc()) continue;
    if (xml.startsWith('<!', i)) fail('markup declarations are not accepted');
    if (xml[i + 1] === '/') {
      const at = i;
      i += 2;
      const qname = name();
      skipSpace();
      if (xml[i] !== '>') fail('expected `>` to close the end tag');
      i++;
      const open = stack.pop();
      if (!open || open.qname !== qname) fail(open ? `</${qname}> closes <${open.qname}>` : `</${qname}> closes nothing`, at);
      const done = open!.el;
      if (stack.length === 0) root = done;
      else stack[stack.length - 1]!.nodes.push(done);
      continue;
    }
    // A start tag.
    const tagAt = i;
    i++;
    const qname = name();
    const rawAttrs: [string, string, number][] = [];
    let selfClosing = false;
    for (;;) {
      const before = i;
      skipSpace();
      if (xml[i] === '>') {
        i++;
        break;
      }
      if (xml.startsWith('/>', i)) {
        i += 2;
        selfClosing = true;
        break;
      }
      if (i === before) fail(i >= xml.length ? `end of input inside <${qname}>` : 'expected whitespace, `>` or `/>`');
      const at = i;
      const an = name();
      skipSpace();
      if (xml[i] !== '=') fail(`attribute ${an} has no value`);
      i++;
      skipSpace();
      const q = xml[i];
      if (q !== '"' && q !== "'") fail(`the value of attribute ${an} is not quoted`);
      const end = xml.indexOf(q!, i + 1);
      if (end < 0) fail(`unterminated value of attribute ${an}`);
      const raw = xml.slice(i + 1, end);
      const lt2 = raw.indexOf('<');
      if (lt2 >= 0) fail(`\`<\` in the value of attribute ${an}`, i + 1 + lt2);
      // Attribute-value normalization: literal tab / newline / CR read as spaces; escaped ones are kept.
      rawAttrs.push([an, decode(raw.replace(/[\t\n\r]/g, ' '), i + 1), at]);
      i = end + 1;
    }
    const parentScope = stack.length ? stack[stack.length - 1]!.scope : topScope;
    let declared: Map<string, string> | null = null;
    const seen = new Set<string>();
    for (const [an, v, at] of rawAttrs) {
      if (seen.has(an)) fail(`attribute ${an} appears twice`, at);
      seen.add(an);
      if (an === 'xmlns' || an.startsWith('xmlns:')) (declared ??= new Map(parentScope)).set(an === 'xmlns' ? '' : an.slice(6), v);
    }
    const elScope: ReadonlyMap<string, string> = declared ?? parentScope;
    const attrs = new Map<string, string>();
    for (const [an, v, at] of rawAttrs) {
      if (an === 'xmlns' || an.startsWith('xmlns:')) continue;
      resolve(an, elScope, at, true); // refuses undeclared prefixes
      attrs.set(an, v);
    }
    const { local, ns } = resolve(qname, elScope, tagAt + 1, false);
    const el = { name: local, ns, attrs, nodes: [] as (XEl | string)[] };
    if (selfClosing) {
      if (stack.length === 0) root = el;
      else stack[stack.length - 1]!.nodes.push(el);
    } else {
      stack.push({ qname, nodes: el.nodes, scope: elScope, el });
    }
  }
  for (;;) {
    skipSpace();
    if (!misc()) break;
  }
  if (i < xml.length) fail(xml[i] === '<' ? 'a second root element' : 'text after the root element');
  return root;
}

/** The child elements of `el` named `name`. */
export function children(el: XEl, name: string): XEl[] {
  const out: XEl[] = [];
  for (const n of el.nodes) if (typeof n !== 'string' && n.name === name) out.push(n);
  return out;
}

/** All the text inside `el` (its descendants' included), as the DOM's `textContent`. */
export function textOf(el: XEl): string {
  let s = '';
  for (const n of el.nodes) s += typeof n === 'string' ? n : textOf(n);
  return s;
}

const rootOf = (xml: string | XEl): XEl => (typeof xml === 'string' ? readXml(xml) : xml);

/** The text of the first child element `name` of the root, or null. */
export function childText(xml: string | XEl, name: string): string | null {
  const el = children(rootOf(xml), name)[0];
  return el ? textOf(el) : null;
}

/** The ownership mark in a domain's or network's `<metadata>`, or null when it is not ours. */
export function ownerOf(xml: string): OwnerMark | null {
  for (const meta of children(readXml(xml), 'metadata')) {
    for (const el of meta.nodes) {
      if (typeof el === 'string' || el.ns !== OWNER_NS || el.name !== 'owner') continue;
      const lineage = el.attrs.get('lineage');
      const cluster = el.attrs.get('cluster');
      if (!lineage || cluster === undefined) return null;
      const role = el.attrs.get('role');
      return role === undefined ? { lineage, cluster } : { lineage, cluster, role };
    }
  }
  return null;
}

/** Does this pool XML carry the ownership mark of `lineage` (its UUID derived from lineage and name)? */
export function poolOwnedBy(xml: string, lineage: string): boolean {
  const root = readXml(xml);
  const name = childText(root, 'name');
  const uuid = childText(root, 'uuid');
  return name !== null && uuid !== null && uuid.trim().toLowerCase() === ownedPoolUuid(lineage, name);
}

/** The MAC addresses of a domain's network interfaces, with the network each is attached to. */
export function domainInterfaces(xml: string): readonly { readonly mac: string; readonly network: string | null }[] {
  const out: { mac: string; network: string | null }[] = [];
  for (const devices of children(readXml(xml), 'devices')) {
    for (const nic of children(devices, 'interface')) {
      const mac = children(nic, 'mac')[0]?.attrs.get('address');
      if (!mac) continue;
      out.push({ mac: mac.toLowerCase(), network: children(nic, 'source')[0]?.attrs.get('network') ?? null });
    }
  }
  return out;
}

/** The DHCP reservations (mac → ip) in a network's XML. */
export function networkDhcpHosts(xml: string): readonly DhcpHost[] {
  const out: DhcpHost[] = [];
  for (const ip of children(readXml(xml), 'ip')) {
    for (const dhcp of children(ip, 'dhcp')) {
      for (const h of children(dhcp, 'host')) {
        const mac = h.attrs.get('mac');
        const addr = h.attrs.get('ip');
        if (mac && addr) out.push({ mac: mac.toLowerCase(), ip: addr, name: h.attrs.get('name') ?? '' });
      }
    }
  }
  return out;
}

/** A pool's target directory (`<target><path>`), or null when its XML names none. */
export function poolTargetPath(xml: string): string | null {
  const target = children(readXml(xml), 'target')[0];
  const path = target ? children(target, 'path')[0] : undefined;
  const text = path ? textOf(path).trim() : '';
  return text ? text : null;
}
