/**
 * Adoption of a cluster state written by AI-HOW (its implementation format: `controller` / `compute_nodes`, lowercase
 * states, `domain_uuid`, `volume_path`, `gpu_assigned`). Ownership is proved by evidence, never by name:
 *   - a domain is taken over when the domain of the recorded name has exactly the recorded `domain_uuid`; it then gets
 *     our owner mark (`<metadata><cd:owner lineage cluster role/>`), so stop / start / destroy treat it as ours;
 *   - a volume is taken over when a volume with exactly the recorded path exists in an active pool; it is then recorded
 *     in the state's `volumes[]` with that path and `adopted: "path"` (destroy deletes it by that path only).
 * Everything else (unmatched VMs and volumes, AI-HOW's network and pool) is named in the preview and left alone.
 */
import type { AdoptionItem, AdoptionPreview } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { stripSecrets, type ClusterState, type LoadedState, type VolumeRecord } from '../state';
import type { ClusterEnv } from './env';
import { saveTestHost, testHostFile } from './libvirt/test-host';
import type { LibvirtHost } from './libvirt/types';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { childText, OWNER_NS, ownerOf, serializeXml, xmlDocument, type OwnerMark, type XmlElement } from './libvirt/xml';
import { clusterTarget, loadConfig, type ClusterWorkspace } from './workspace';

type Obj = Record<string, unknown>;

/** Fields of AI-HOW's documented VM record; anything else the original wrote is listed as kept. */
const DOCUMENTED_VM_FIELDS = new Set(['name', 'cpu_cores', 'memory_gb', 'state', 'ip_address', 'gpu_count', 'volumes', 'created_at', 'last_seen', 'role']);
const DOCUMENTED_ROOT_FIELDS = new Set(['cluster_name', 'cluster_type', 'status', 'created_at', 'last_modified', 'vms', 'networks', 'volumes', 'pools']);

export interface VmEvidence {
  readonly name: string;
  readonly uuid: string | null;
  readonly matched: boolean;
  readonly reason: string;
}

export interface VolumeEvidence {
  readonly path: string;
  readonly vm: string;
  readonly matched: boolean;
  readonly reason: string;
  readonly pool?: string;
  readonly volume?: string;
  readonly capacityBytes?: number;
}

export interface ClusterEvidence {
  readonly vms: readonly VmEvidence[];
  readonly volumes: readonly VolumeEvidence[];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The disk paths a converted VM record names (`volume_path` first, then `volumes[]`). */
function diskPaths(vm: Obj): string[] {
  const out: string[] = [];
  const add = (p: unknown) => {
    if (typeof p === 'string' && p !== '' && !out.includes(p)) out.push(p);
  };
  add(vm.volume_path);
  if (Array.isArray(vm.volumes)) for (const v of vm.volumes) add(typeof v === 'string' ? v : (v as Obj | null)?.path);
  return out;
}

/** Reads the evidence on the host (read-only). */
export async function gatherEvidence(host: LibvirtHost, state: ClusterState): Promise<ClusterEvidence> {
  const vms: VmEvidence[] = [];
  for (const vm of state.vms as unknown as Obj[]) {
    const name = String(vm.name);
    const uuid = str(vm.domain_uuid)?.toLowerCase() ?? null;
    if (!uuid) {
      vms.push({ name, uuid: null, matched: false, reason: 'no domain_uuid recorded: ownership cannot be proved' });
      continue;
    }
    let xml: string | null;
    try {
      xml = await host.domainXml(name, { inactive: true });
    } catch (err) {
      if (err instanceof AppError && err.code === 'not-found') xml = null;
      else throw err;
    }
    if (xml === null) {
      vms.push({ name, uuid, matched: false, reason: `no domain named ${name} on ${host.uri}` });
      continue;
    }
    const found = childText(xml, 'uuid')?.trim().toLowerCase() ?? '';
    if (found !== uuid) {
      vms.push({ name, uuid, matched: false, reason: `the domain named ${name} has UUID ${found || 'none'}, not the recorded ${uuid}` });
      continue;
    }
    const mark = ownerOf(xml);
    if (mark && mark.cluster !== state.cluster_name) {
      vms.push({ name, uuid, matched: false, reason: `already marked as part of Clusterdesk cluster ${mark.cluster}` });
      continue;
    }
    vms.push({ name, uuid, matched: true, reason: `UUID ${uuid} matches` });
  }

  const byPath = new Map<string, { pool: string; name: string; capacityBytes: number }>();
  for (const pool of await host.listPools()) {
    if (!pool.active) continue;
    for (const v of await host.listVolumes(pool.name)) byPath.set(v.path, { pool: pool.name, name: v.name, capacityBytes: v.capacityBytes });
  }
  const volumes: VolumeEvidence[] = [];
  const seen = new Set<string>();
  for (const vm of state.vms as unknown as Obj[]) {
    for (const path of diskPaths(vm)) {
      if (seen.has(path)) continue;
      seen.add(path);
      const hit = byPath.get(path);
      volumes.push(
        hit
          ? {
              path,
              vm: String(vm.name),
              matched: true,
              reason: `a volume at exactly this path exists (pool ${hit.pool})`,
              pool: hit.pool,
              volume: hit.name,
              capacityBytes: hit.capacityBytes,
            }
          : { path, vm: String(vm.name), matched: false, reason: 'no volume at this path in any active storage pool' },
      );
    }
  }
  return { vms, volumes };
}

/** Items for the preview: VMs and volumes with their evidence, then what is never taken over. */
function itemsOf(state: ClusterState, evidence: ClusterEvidence): AdoptionItem[] {
  const items: AdoptionItem[] = [
    ...evidence.vms.map((v): AdoptionItem => ({ kind: 'vm', name: v.name, detail: v.uuid ?? '—', matched: v.matched, reason: v.reason })),
    ...evidence.volumes.map((v): AdoptionItem => ({
      kind: 'volume',
      name: v.volume ?? v.path.split('/').pop() ?? v.path,
      detail: v.path,
      matched: v.matched,
      reason: v.reason,
    })),
  ];
  for (const n of state.networks) {
    items.push({
      kind: 'network',
      name: n.name,
      detail: n.subnet,
      matched: false,
      reason: 'AI-HOW records no evidence for its network; left alone (never deleted)',
    });
  }
  const pool = (state as Obj).storage_pool as Obj | null | undefined;
  if (pool && typeof pool.name === 'string') {
    items.push({
      kind: 'pool',
      name: pool.name,
      detail: String(pool.path ?? ''),
      matched: false,
      reason: 'the storage pool is not taken over; left alone (never deleted)',
    });
  }
  return items;
}

function keptFieldsOf(state: ClusterState): string[] {
  const kept = new Set<string>();
  for (const key of Object.keys(state)) if (!DOCUMENTED_ROOT_FIELDS.has(key) && !['version', 'serial', 'lineage'].includes(key)) kept.add(key);
  for (const vm of state.vms as unknown as Obj[]) for (const key of Object.keys(vm)) if (!DOCUMENTED_VM_FIELDS.has(key)) kept.add(`vms[].${key}`);
  return [...kept].sort();
}

/** The adopted state: every field kept, matched volumes recorded with their exact path, evidence noted per VM. */
export function adoptedClusterState(state: ClusterState, evidence: ClusterEvidence): ClusterState {
  const matchedVm = new Map(evidence.vms.map((v) => [v.name, v]));
  const vms = state.vms.map((vm) => {
    const e = matchedVm.get(vm.name);
    return { ...vm, adopted: e?.matched ? 'domain_uuid' : false };
  });
  const volumes: VolumeRecord[] = evidence.volumes
    .filter((v) => v.matched)
    .map((v) => ({
      name: v.volume ?? v.path,
      path: v.path,
      size_gb: Math.round(((v.capacityBytes ?? 0) / 1024 ** 3) * 100) / 100,
      format: 'qcow2',
      ...(v.pool ? { pool: v.pool } : {}),
      vm: v.vm,
      adopted: 'path',
    }));
  return { ...state, vms, volumes };
}

/** Adds our owner mark to a domain's XML (replacing any mark already there). */
export function withOwnerMark(xml: string, owner: OwnerMark): string {
  const root = xmlDocument(xml).root();
  const isMeta = (n: XMLBuilder) => n.node.nodeType === 1 && (n.node as unknown as XmlElement).localName === 'metadata';
  const meta = root.find(isMeta, false, false) ?? root.ele('metadata');
  const marks = meta.filter((n) => n.node.nodeType === 1 && (n.node as unknown as XmlElement).namespaceURI === OWNER_NS, false, false);
  for (const m of marks) m.remove();
  const attrs: Record<string, string> = { lineage: owner.lineage, cluster: owner.cluster };
  if (owner.role !== undefined) attrs['role'] = owner.role;
  meta.ele(OWNER_NS, 'cd:owner', attrs);
  return serializeXml(root);
}

function roleOf(vm: Obj): string {
  const r = str(vm.role) ?? str(vm.vm_type) ?? 'compute';
  return r === 'controller' ? 'controller' : 'compute';
}

function dropped(state: unknown): string[] {
  return stripSecrets(structuredClone(state));
}

async function withHost<T>(env: ClusterEnv, uri: string, fn: (host: LibvirtHost) => Promise<T>): Promise<T> {
  const host = await env.connect(uri);
  try {
    return await fn(host);
  } finally {
    await host.close();
  }
}

function previewOf(file: string, loaded: LoadedState<'cluster'>, evidence: ClusterEvidence | null, raw: unknown): AdoptionPreview {
  const state = loaded.state;
  return {
    file,
    format: loaded.format,
    needed: true,
    message: `${file} was written by AI-HOW. Adopting it gives it a lineage and a serial, takes over the resources proved below (domains by UUID, volumes by path) and keeps every field it recorded.`,
    status: state.status,
    items: evidence ? itemsOf(state, evidence) : [],
    secretsDropped: dropped(raw),
    keptFields: keptFieldsOf(state),
  };
}

/** Nothing to adopt: the file is ours already, or missing. */
export function notNeeded(file: string, format: string, message: string, status: string | null): AdoptionPreview {
  return { file, format, needed: false, message, status, items: [], secretsDropped: [], keptFields: [] };
}

async function rawJson(file: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

/** What adopting the workspace's AI-HOW state would take over (read-only: no lock, nothing written). */
export async function previewClusterAdoption(env: ClusterEnv, ws: ClusterWorkspace): Promise<AdoptionPreview> {
  const config = await loadConfig(ws, env.processEnv);
  const target = { ...clusterTarget(ws, config.clusterName), lineage: undefined } as ReturnType<typeof clusterTarget>;
  const loaded = await env.store.loadWithFormat(target);
  if (!loaded) return notNeeded(ws.statePath, 'none', `There is no state file at ${ws.statePath}: nothing to adopt.`, null);
  if (loaded.format !== 'ai-how-implementation') {
    return notNeeded(
      ws.statePath,
      loaded.format,
      `${ws.statePath} is already operated by Clusterdesk (serial ${String(loaded.state.serial ?? 'none')}): nothing to adopt.`,
      loaded.state.status,
    );
  }
  const evidence = await withHost(env, config.uri, (host) => gatherEvidence(host, loaded.state));
  return previewOf(ws.statePath, loaded, evidence, await rawJson(ws.statePath));
}

/**
 * Adopts the workspace's AI-HOW state: under the state lock, reads the evidence, marks the matched domains ours
 * (demo hosts are saved), then writes the adopted state (new lineage, next serial; original in history, redacted).
 */
export async function adoptCluster(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext): Promise<{ preview: AdoptionPreview; state: ClusterState }> {
  const config = await loadConfig(ws, env.processEnv);
  const target = clusterTarget(ws, config.clusterName);
  const raw = await rawJson(ws.statePath);
  return withHost(env, config.uri, async (host) => {
    let preview: AdoptionPreview | null = null;
    const written = await env.store.adopt(
      target,
      async (loaded, lineage) => {
        if (loaded.format !== 'ai-how-implementation') {
          throw new AppError('invalid-argument', `${ws.statePath} is not an AI-HOW cluster state (${loaded.format}).`, { path: ws.statePath });
        }
        ctx.progress({ target: '', step: 'evidence', value: 0.2, message: `Matching recorded domains and volumes on ${host.uri}` });
        const evidence = await gatherEvidence(host, loaded.state);
        preview = previewOf(ws.statePath, loaded, evidence, raw);
        const cluster = loaded.state.cluster_name;
        for (const vm of evidence.vms.filter((v) => v.matched)) {
          ctx.progress({ target: vm.name, step: 'mark', value: 0.5, message: `Marking ${vm.name} (UUID ${vm.uuid}) as adopted` });
          const rec = (loaded.state.vms as unknown as Obj[]).find((v) => v.name === vm.name) ?? {};
          const xml = await host.domainXml(vm.name, { inactive: true });
          await host.defineDomain(withOwnerMark(xml, { lineage, cluster, role: roleOf(rec) }));
        }
        const file = testHostFile(host.uri);
        if (file) await saveTestHost(host, file);
        return adoptedClusterState(loaded.state, evidence);
      },
      { signal: ctx.signal },
    );
    ctx.progress({ target: '', step: 'done', value: 1, message: `Adopted as serial ${written.serial}, lineage ${written.lineage.slice(0, 8)}` });
    return { preview: preview!, state: written };
  });
}

/**
 * Destroy's part for adopted volumes: deletes each volume recorded with `adopted: "path"` whose exact path still
 * exists (in whichever active pool holds it). Pools and anything else in them are left alone. Returns the outcomes.
 */
export async function deleteAdoptedVolumes(
  host: LibvirtHost,
  state: ClusterState,
  onDeleted: (path: string) => Promise<void>,
): Promise<{ target: string; result: string; message?: string }[]> {
  const adopted = state.volumes.filter((v) => (v as Obj).adopted === 'path');
  if (adopted.length === 0) return [];
  const byPath = new Map<string, { pool: string; name: string }>();
  for (const pool of await host.listPools()) {
    if (!pool.active) continue;
    for (const v of await host.listVolumes(pool.name)) byPath.set(v.path, { pool: pool.name, name: v.name });
  }
  const out: { target: string; result: string; message?: string }[] = [];
  for (const v of adopted) {
    const hit = byPath.get(v.path);
    if (!hit) {
      out.push({ target: v.name, result: 'absent', message: `${v.path} is already gone` });
    } else {
      await host.deleteVolume(hit.pool, hit.name);
      out.push({ target: v.name, result: 'deleted', message: v.path });
    }
    await onDeleted(v.path);
  }
  return out;
}
