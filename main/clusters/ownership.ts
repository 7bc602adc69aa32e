/**
 * Ownership: we only ever modify or delete a libvirt object that is proved ours — never one that merely carries our
 * name. The proof, per kind:
 *   - domains and networks: our mark for this state's lineage (`<metadata><cd:owner lineage=…>`; an adopted domain is
 *     marked at adoption);
 *   - pools: a UUID derived from lineage and name — or, for a pool we did not create (an adopted deployment's), the
 *     state records that pool with its exact UUID (`pools[]: {name, path, uuid}`, written at adoption);
 *   - volumes (libvirt keeps no metadata on them): the state records the volume's exact path. Start records that path
 *     before it creates the volume, so a crash between the two still leaves the volume provably ours.
 */
import { actionHint, AppError } from '../errors';
import { clusterNames } from './config/names';
import type { PoolRecord, VolumeRecord } from '../state';
import type { LibvirtHost, VolumeInfo } from './libvirt/types';
import { childText, ownerOf, poolOwnedBy } from './libvirt/xml-read';

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
export async function poolHolder(host: LibvirtHost, name: string, lineage: string, recorded: readonly PoolRecord[] = []): Promise<Holder> {
  const xml = await readOrNull(() => host.poolXml(name));
  if (xml === null) return 'absent';
  if (poolOwnedBy(xml, lineage)) return 'ours';
  const uuid = childText(xml, 'uuid')?.trim().toLowerCase();
  const evidence = recorded.find((p) => p.name === name && typeof p['uuid'] === 'string');
  return uuid && evidence && String(evidence['uuid']).toLowerCase() === uuid ? 'ours' : 'foreign';
}

/** Is this volume proved ours: does the state record its exact path? */
export function volumeRecorded(volume: Pick<VolumeInfo, 'path'>, recorded: readonly Pick<VolumeRecord, 'path'>[]): boolean {
  return volume.path !== '' && recorded.some((v) => v.path === volume.path);
}

/** Who holds volume `name` in `pool` (ours only when the state records its path). */
export async function volumeHolder(host: LibvirtHost, pool: string, name: string, recorded: readonly Pick<VolumeRecord, 'path'>[]): Promise<Holder> {
  const v = await host.getVolume(pool, name);
  if (!v) return 'absent';
  return volumeRecorded(v, recorded) ? 'ours' : 'foreign';
}

/** The error for names that exist on the host but are not ours. */
export function conflictError(names: readonly string[], uri: string): AppError {
  return new AppError(
    'libvirt-conflict',
    `${names.join(', ')} already exist${names.length === 1 ? 's' : ''} on ${uri} but ${names.length === 1 ? 'was' : 'were'} not created by Clusterdesk for this state.`,
    {
      host: uri,
      hint: actionHint({
        cli: 'Clusterdesk never touches what it did not create. Rename or remove them yourself (or adopt the deployment they belong to), or rename the cluster, then run `clusterdesk hpc start` again.',
        ui: 'Clusterdesk never touches what it did not create. Rename or remove them yourself (or adopt the deployment they belong to), or rename the cluster, then click Start again.',
      }),
      details: { conflicts: [...names] },
    },
  );
}
