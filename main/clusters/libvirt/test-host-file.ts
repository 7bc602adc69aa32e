/** Pure helpers for test-driver host files: URIs and the inactive-resource list we keep inside the node file. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { readXml, textOf } from './xml-read';

export const TEST_HOST_NS = 'https://clusterdesk.dev/xmlns/test-host/1';

/** The `test:///…` URI for a host file; each path segment is percent-encoded (libvirt refuses raw spaces). */
export function testHostUri(file: string): string {
  const abs = resolve(file);
  return `test://${abs.split('/').map(encodeURIComponent).join('/')}`;
}

/** The host file behind a `test:///abs/path.xml` URI, or null for other URIs (and for `test:///default`). */
export function testHostFile(uri: string): string | null {
  const m = /^test:\/\/(\/[^?#]*)$/.exec(uri);
  if (!m || m[1] === '/default') return null;
  const path = decodeURIComponent(m[1]!);
  return isAbsolute(path) ? path : null;
}

/** The networks and pools the file records as inactive (empty when unreadable: the open reports that). */
export async function readInactive(file: string): Promise<{ networks: string[]; pools: string[] }> {
  const out = { networks: [] as string[], pools: [] as string[] };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return out; // the open itself reports unreadable files
  }
  // Host files can hold thousands of domains; skip the DOM parse when there is no list to find.
  if (!text.includes(TEST_HOST_NS)) return out;
  for (const el of readXml(text).nodes) {
    if (typeof el === 'string' || el.ns !== TEST_HOST_NS || el.name !== 'inactive') continue;
    for (const item of el.nodes) {
      if (typeof item === 'string' || item.ns !== TEST_HOST_NS) continue;
      const name = textOf(item).trim();
      if (item.name === 'network') out.networks.push(name);
      else if (item.name === 'pool') out.pools.push(name);
    }
  }
  return out;
}
