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
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { AppError } from '../../errors';
import { replaceFile } from '../../state/atomic-write';
import { TEST_HOST_NS, testHostUri } from './test-host-file';
import { DOMAIN_STATES, type LibvirtHost } from './types';
import { TEST_NS, serializeXml, xmlDocument } from './xml';

export { TEST_HOST_NS, testHostFile, testHostUri } from './test-host-file';

/** Writes `text` to `file` atomically: a sibling temp file, fsync, rename over the target. */
async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await replaceFile(file, text, { mode: 0o600 });
}

/** Writes an empty but valid test-driver host (`<node/>`): no domains, networks or pools. */
export async function createDemoHost(file: string): Promise<string> {
  const abs = resolve(file);
  const node = create().ele('node');
  node.com(" Clusterdesk demo host for libvirt's test driver; rewritten by every operation. ");
  await writeAtomic(abs, serializeXml(node, { declaration: true }));
  return testHostUri(abs);
}

function importInto(parent: XMLBuilder, xml: string): XMLBuilder {
  const fragment = xmlDocument(xml);
  parent.import(fragment);
  return parent.last();
}

/**
 * Writes everything `host` holds (domains with their run state, networks, pools with their volumes) to `file`,
 * atomically. `host` must be the connection that holds the current state (see `openLibvirtHost`).
 */
export async function saveTestHost(host: LibvirtHost, file: string): Promise<void> {
  if (!host.isTestDriver) throw new AppError('invalid-argument', `saveTestHost needs a test-driver host, not ${host.uri}`);
  const node = create().ele('node');
  node.com(" Clusterdesk demo host for libvirt's test driver; rewritten by every operation. ");
  const inactive: { kind: 'network' | 'pool'; name: string }[] = [];

  const stats = await host.domainStats();
  for (const d of [...stats].sort((a, b) => a.name.localeCompare(b.name))) {
    // The inactive (persistent) definition: the live one carries an `id` and runtime-only details.
    const xml = await host.domainXml(d.name, { inactive: true });
    const dom = importInto(node, xml);
    dom.ele(TEST_NS, 'test:runstate').txt(String(DOMAIN_STATES.indexOf(d.state)));
  }
  for (const n of [...(await host.listNetworks())].sort((a, b) => a.name.localeCompare(b.name))) {
    importInto(node, await host.networkXml(n.name)); // the test driver rejects the INACTIVE flag here
    if (!n.active) inactive.push({ kind: 'network', name: n.name });
  }
  for (const p of [...(await host.listPools())].sort((a, b) => a.name.localeCompare(b.name))) {
    const pool = importInto(node, await host.poolXml(p.name));
    if (p.active) {
      const volumes = await host.listVolumes(p.name);
      for (const v of [...volumes].sort((a, b) => a.name.localeCompare(b.name))) importInto(pool, await host.volumeXml(p.name, v.name));
    }
    if (!p.active) inactive.push({ kind: 'pool', name: p.name });
  }
  if (inactive.length > 0) {
    const list = node.ele(TEST_HOST_NS, 'cdh:inactive');
    for (const i of inactive) list.ele(TEST_HOST_NS, `cdh:${i.kind}`).txt(i.name);
  }
  await writeAtomic(file, serializeXml(node, { declaration: true }));
}
