/**
 * Ownership: we only ever modify or delete a libvirt object that carries our mark for this state's lineage
 * (domains and networks: `<metadata><cd:owner lineage=…>`; pools: a UUID derived from lineage and name).
 */
import { AppError } from '../errors';
import { clusterNames } from './config/names';
import type { LibvirtHost } from './libvirt/types';
import { ownerOf, poolOwnedBy } from './libvirt/xml';

/** Who holds a name on the host. */
export type Holder = 'absent' | 'ours' | 'foreign';

/** Is this one of the VM names start creates for `cluster` (`-controller`, `-compute-NN`)? */
export function isClusterVmName(cluster: string, name: string): boolean {
  if (name === clusterNames.controller(cluster)) return true;
  const prefix = `${cluster}-compute-`;
  return name.startsWith(prefix) && /^\d{2,3}$/.test(name.slice(prefix.length));
}

async function readOrNull(read: () => Promise<string>): Promise<string | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AppError && err.code === 'not-found') return null;
    throw err;
  }
}

/** Who holds domain `name`. */
export async function domainHolder(host: LibvirtHost, name: string, lineage: string, cluster: string): Promise<Holder> {
  const xml = await readOrNull(() => host.domainXml(name, { inactive: true }));
  if (xml === null) return 'absent';
  const mark = ownerOf(xml);
  return mark?.lineage === lineage && mark.cluster === cluster ? 'ours' : 'foreign';
}

/** Who holds network `name`. */
export async function networkHolder(host: LibvirtHost, name: string, lineage: string, cluster: string): Promise<Holder> {
  const xml = await readOrNull(() => host.networkXml(name));
  if (xml === null) return 'absent';
  const mark = ownerOf(xml);
  return mark?.lineage === lineage && mark.cluster === cluster ? 'ours' : 'foreign';
}

/** Who holds storage pool `name`. */
export async function poolHolder(host: LibvirtHost, name: string, lineage: string): Promise<Holder> {
  const xml = await readOrNull(() => host.poolXml(name));
  if (xml === null) return 'absent';
  return poolOwnedBy(xml, lineage) ? 'ours' : 'foreign';
}

/** The error for names that exist on the host but are not ours. */
export function conflictError(names: readonly string[], uri: string): AppError {
  return new AppError(
    'libvirt-conflict',
    `${names.join(', ')} already exist${names.length === 1 ? 's' : ''} on ${uri} but ${names.length === 1 ? 'was' : 'were'} not created by Clusterdesk for this state.`,
    {
      host: uri,
      hint: 'Clusterdesk never touches what it did not create. Rename or remove them yourself, or rename the cluster, then start again.',
      details: { conflicts: [...names] },
    },
  );
}
