/**
 * Demo hosts on libvirt's test driver, persisted in a `<node>` file.
 *
 * The test driver keeps its state in memory, per connection for file URIs, and the CLI runs one process per command.
 * So a demo workspace keeps its host as a node file (`test:///abs/host.xml`): every operation opens it, changes it,
 * and writes it back with `saveTestHost`, so `start` in one process and `status` in the next agree.
 *
 * What the node format cannot say, and how we cover it (both verified on libvirt 9.0):
 *   - a domain's run state: `<test:runstate>N</test:runstate>` in `http://libvirt.org/schemas/domain/test/1.0`
 *     (the namespace without `/1.0` is silently ignored);
 *   - networks and pools load as active: we list the inactive ones in our own `<cdh:inactive>` element (the test
 *     driver ignores unknown children of `<node>`) and `openLibvirtHost` stops them again when it connects;
 *   - volumes of an inactive pool cannot be listed, so they are not saved.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../errors';
import { replaceFile } from '../../state/atomic-write';
import { TEST_HOST_NS, testHostUri } from './test-host-file';
import { DOMAIN_STATES, type LibvirtHost } from './types';
import { TEST_NS } from './xml-read';

export { TEST_HOST_NS, testHostFile, testHostUri } from './test-host-file';

/** Writes `text` to `file` atomically: a sibling temp file, fsync, rename over the target. */
async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await replaceFile(file, text, { mode: 0o600 });
}

/** Writes an empty but valid test-driver host (`<node/>`): no domains, networks or pools. */
export async function createDemoHost(file: string): Promise<string> {
  const abs = resolve(file);
  // Imported here: status never creates a host, and the XML builder is for commands that write (see xml-read.ts).
  const [{ create }, { serializeXml }] = await Promise.all([import('xmlbuilder2'), import('./xml')]);
  const node = create().ele('node');
  node.com(" Clusterdesk demo host for libvirt's test driver; rewritten by every operation. ");
  await writeAtomic(abs, serializeXml(node, { declaration: true }));
  return testHostUri(abs);
}

/** libvirt's XML for one object, as a fragment to nest in the node file (no XML declaration). */
function fragmentOf(xml: string): string {
  return xml.replace(/^\s*<\?xml[^>]*\?>/, '').trim();
}

/** `xml` (one element `<tag …>…</tag>` as libvirt writes it) with `inner` appended to its children. */
function appendChildren(xml: string, tag: string, inner: string): string {
  if (inner === '') return xml;
  const close = `</${tag}>`;
  const at = xml.lastIndexOf(close);
  if (at >= 0) return `${xml.slice(0, at)}${inner}${close}`;
  // A childless element (`<tag …/>`): open it.
  const selfClosing = /\/>\s*$/.exec(xml);
  if (!selfClosing) throw new AppError('internal', `Unexpected ${tag} XML from libvirt: no closing tag.`);
  return `${xml.slice(0, selfClosing.index)}>${inner}${close}`;
}

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Resolves `fn` over `items` in order, with the calls in flight together (the adapter bounds native calls). */
function inParallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  return Promise.all(items.map(fn));
}

/**
 * The XML of domains and volumes read by earlier saves in one operation, so a checkpoint of a big host reads only
 * what changed since the last one. The operation reports each change it makes through the host (`changed`), which
 * drops every entry the change may have altered; a change it cannot place drops everything. Only the inactive
 * definitions are kept (run states come from one bulk read per save); networks and pools are few and always read.
 */
export class TestHostXmlCache {
  private readonly domains = new Map<string, string>();
  private readonly volumes = new Map<string, string>();

  domain(name: string, read: () => Promise<string>): Promise<string> {
    return this.cached(this.domains, name, read);
  }

  volume(pool: string, name: string, read: () => Promise<string>): Promise<string> {
    return this.cached(this.volumes, `${pool}\u0000${name}`, read);
  }

  private async cached(map: Map<string, string>, key: string, read: () => Promise<string>): Promise<string> {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const xml = await read();
    map.set(key, xml);
    return xml;
  }

  /** Forgets what `method(...args)` (which returned `result`, or threw: undefined) may have changed. */
  changed(method: string, args: readonly unknown[], result: unknown): void {
    switch (method) {
      // Run-state changes: the inactive definition stays (the run state is read in bulk at each save).
      case 'startDomain':
      case 'shutdownDomain':
      case 'destroyDomain':
      case 'suspendDomain':
      case 'resumeDomain':
      case 'rebootDomain':
      case 'setDomainAutostart': // not part of the domain's XML
      // Networks are not cached.
      case 'defineNetwork':
      case 'addDhcpHost':
      case 'startNetwork':
      case 'destroyNetwork':
      case 'undefineNetwork':
        return;
      case 'defineDomain':
        if (typeof result === 'string') this.domains.delete(result);
        else this.domains.clear();
        return;
      case 'undefineDomain':
        this.domains.delete(String(args[0]));
        return;
      case 'createVolume': {
        const name = (result as { name?: unknown } | undefined)?.name;
        if (typeof name === 'string') this.volumes.delete(`${String(args[0])}\u0000${name}`);
        else this.volumes.clear();
        return;
      }
      case 'deleteVolume':
        this.volumes.delete(`${String(args[0])}\u0000${String(args[1])}`);
        return;
      case 'definePool':
      case 'buildPool':
      case 'startPool':
      case 'refreshPool':
      case 'destroyPool':
      case 'deletePool':
      case 'undefinePool':
        this.volumes.clear();
        return;
      default:
        this.domains.clear();
        this.volumes.clear();
    }
  }
}

/**
 * Writes everything `host` holds (domains with their run state, networks, pools with their volumes) to `file`,
 * atomically. `host` must be the connection that holds the current state (see `openLibvirtHost`).
 *
 * The node file is assembled as text from libvirt's own XML for each object (parsing and re-serializing every object
 * cost ~2 ms per domain, which made a checkpoint of a 1,000-VM host take seconds); the reads run in parallel, and with
 * a `cache` only objects changed since the operation's previous save are read again.
 */
export async function saveTestHost(host: LibvirtHost, file: string, cache?: TestHostXmlCache): Promise<void> {
  if (!host.isTestDriver) throw new AppError('invalid-argument', `saveTestHost needs a test-driver host, not ${host.uri}`);
  const byName = <T extends { readonly name: string }>(list: readonly T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  const inactive: { kind: 'network' | 'pool'; name: string }[] = [];

  const domains = await inParallel(byName(await host.domainStats()), async (d) => {
    // The inactive (persistent) definition: the live one carries an `id` and runtime-only details.
    const read = () => host.domainXml(d.name, { inactive: true });
    const xml = fragmentOf(await (cache ? cache.domain(d.name, read) : read()));
    const runstate = `<test:runstate xmlns:test="${TEST_NS}">${DOMAIN_STATES.indexOf(d.state)}</test:runstate>`;
    return appendChildren(xml, 'domain', runstate);
  });
  const networkList = byName(await host.listNetworks());
  // The test driver rejects the INACTIVE flag for networks.
  const networks = await inParallel(networkList, async (n) => fragmentOf(await host.networkXml(n.name)));
  for (const n of networkList) if (!n.active) inactive.push({ kind: 'network', name: n.name });
  const poolList = byName(await host.listPools());
  const pools = await inParallel(poolList, async (p) => {
    const xml = fragmentOf(await host.poolXml(p.name));
    if (!p.active) return xml;
    const names = [...(await host.volumeNames(p.name))].sort((a, b) => a.localeCompare(b));
    const volumes = await inParallel(names, async (v) => {
      const read = () => host.volumeXml(p.name, v);
      return fragmentOf(await (cache ? cache.volume(p.name, v, read) : read()));
    });
    return appendChildren(xml, 'pool', volumes.join('\n'));
  });
  for (const p of poolList) if (!p.active) inactive.push({ kind: 'pool', name: p.name });

  const parts = ['<?xml version="1.0"?>', '<node>', "<!-- Clusterdesk demo host for libvirt's test driver; rewritten by every operation. -->"];
  parts.push(...domains, ...networks, ...pools);
  if (inactive.length > 0) {
    parts.push(`<cdh:inactive xmlns:cdh="${TEST_HOST_NS}">`);
    for (const i of inactive) parts.push(`<cdh:${i.kind}>${escapeText(i.name)}</cdh:${i.kind}>`);
    parts.push('</cdh:inactive>');
  }
  parts.push('</node>', '');
  await writeAtomic(file, parts.join('\n'));
}
