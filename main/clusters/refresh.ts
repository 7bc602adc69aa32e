/**
 * `refresh` / `status`: one bulk read of libvirt compared with the recorded state — states, IPs, `last_seen` and a
 * drift report. Nothing is written unless `apply` is asked for; a connection failure never touches the state.
 */
import type { DriftItem } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type ClusterState } from '../state';
import { clusterNames } from './config/names';
import { inSubnet, parseIpv4, parseSubnet } from './config/net';
import type { ClusterPlan } from './config/plan';
import type { ClusterEnv } from './env';
import { releaseFreedNativeMemory } from './libvirt/native-memory';
import type { DomainStats, LibvirtHost } from './libvirt/types';
import { domainInterfaces } from './libvirt/xml-read';
import { domainHolder, isClusterVmName, networkHolder, poolHolder } from './ownership';
import { mapSettled } from '../util';
import { networkRecordOf, withNetwork, withPool, type ClusterVm } from './records';
import { withSession } from './session';
import { deriveStatus, vmStateOf } from './vm-state';
import { clusterTarget, loadConfig, type ClusterWorkspace, type LoadedConfig } from './workspace';

/** What a refresh saw: the drift, and the state `apply` records. */
export interface Observation {
  readonly drift: readonly DriftItem[];
  /** The recorded state updated with what libvirt reports. */
  readonly next: ClusterState;
}

export interface RefreshOptions {
  /** Record what libvirt reports (CLI `--apply`); without it nothing is written. */
  readonly apply?: boolean;
}

export interface RefreshResult {
  readonly drift: readonly DriftItem[];
  readonly applied: boolean;
  /** The state after the refresh: written when applied, else what apply would write (null: nothing recorded). */
  readonly state: ClusterState | null;
}

/** `clusterStatus`: the recorded state, what libvirt reports, and the drift between them — read-only, no lock. */
export interface ClusterStatusReport extends RefreshResult {
  readonly recorded: ClusterState | null;
  readonly uri: string;
}

const PARALLEL_READS = 16;

/**
 * Compares the recorded state with the host. Reads only; one bulk call for the domains.
 *
 * Linear in the number of VMs (issue #10: a 40,000-VM status in well under a second): the recorded list is walked
 * once; each VM's new record is made once and its IP fields filled in place; the list is built once — no per-VM copy
 * of the list, no per-VM scan, and no promise per VM unless libvirt must be asked about it.
 */
export async function observe(
  host: LibvirtHost,
  state: ClusterState,
  plan: (ClusterPlan & { readonly poolPath: string }) | null,
  opts: { readonly testDriverAddresses?: boolean } = {},
): Promise<Observation> {
  const now = isoNow();
  const cluster = state.cluster_name;
  const lineage = state.lineage ?? '';
  const drift: DriftItem[] = [];
  // By name, built with a loop (no [name, record] pair per domain).
  const live = new Map<string, DomainStats>();
  for (const d of await host.domainStats()) live.set(d.name, d);
  const signal = new AbortController().signal;
  const vms = state.vms as readonly ClusterVm[];
  const n = vms.length;

  // VMs recorded: state, last_seen; gone ones become UNDEFINED (recorded only by an explicit refresh). Each VM's new
  // record is made here, once; the IP step below fills its IP fields in place (the objects are ours until returned).
  const recorded = new Set<string>();
  const nextVms: MutableVm[] = new Array<MutableVm>(n);
  for (let i = 0; i < n; i++) {
    const vm = vms[i]!;
    recorded.add(vm.name);
    const d = live.get(vm.name);
    if (!d) {
      if (vm.state !== 'UNDEFINED') drift.push({ kind: 'missing', resource: 'vm', name: vm.name, recorded: vm.state, actual: null });
      nextVms[i] = { ...vm, state: 'UNDEFINED' };
      continue;
    }
    const actual = vmStateOf(d.state);
    if (actual !== vm.state) drift.push({ kind: 'state-differs', resource: 'vm', name: vm.name, recorded: vm.state, actual });
    nextVms[i] = { ...vm, state: actual, last_seen: now };
  }

  // Ours but unrecorded: only names start would create are candidates, and only those carrying our mark count.
  const candidates: DomainStats[] = [];
  for (const d of live.values()) if (!recorded.has(d.name) && isClusterVmName(cluster, d.name)) candidates.push(d);
  const found = await mapSettled(candidates, async (d) => ((await domainHolder(host, d.name, lineage, cluster)) === 'ours' ? d : null), {
    concurrency: PARALLEL_READS,
    signal,
  });
  const plannedByName = new Map((plan?.vms ?? []).map((v) => [v.name, v]));
  // Unrecorded VMs are appended once (libvirt names are unique), not upserted one by one.
  for (const r of found) {
    if (!r.ok || !r.value) continue;
    const d: DomainStats = r.value;
    const info = await host.getDomain(d.name);
    const planned = plannedByName.get(d.name);
    drift.push({ kind: 'unrecorded', resource: 'vm', name: d.name, recorded: null, actual: vmStateOf(d.state) });
    nextVms.push({
      name: d.name,
      cpu_cores: info?.vcpus ?? planned?.vcpus ?? 0,
      memory_gb: info ? info.maxMemKiB / (1024 * 1024) : (planned?.memoryGb ?? 0),
      state: vmStateOf(d.state),
      ip_address: planned?.address ?? null,
      gpu_count: planned?.gpuCount ?? 0,
      volumes: [],
      created_at: now,
      last_seen: now,
      ...(planned ? { mac: planned.mac, role: planned.role } : {}),
      ip_verified: false,
    });
  }

  await observeIps(host, state.networks, nextVms, drift, !host.isTestDriver || opts.testDriverAddresses === true);
  let next: ClusterState = { ...state, vms: nextVms };
  next = await observeNetworks(host, next, drift, lineage, plan);
  next = await observeStorage(host, next, drift, lineage, plan);
  return { drift, next: { ...next, status: deriveStatus(next.vms, Math.max(plan?.vms.length ?? 0, next.vms.length)) } };
}

/** A VM record being built by `observe` (a fresh object, filled in place before it is returned). */
type MutableVm = { -readonly [K in keyof ClusterVm]: ClusterVm[K] };

/**
 * IPs of running VMs: DHCP leases (one bulk call per network), else the interface addresses, else the configured IP
 * marked unverified; written into the fresh records in place. Only a VM that needs libvirt (no recorded MAC, or
 * interface addresses to ask for) costs an async call; the rest is a synchronous lookup.
 */
async function observeIps(host: LibvirtHost, networks: ClusterState['networks'], vms: MutableVm[], drift: DriftItem[], useInterfaces: boolean): Promise<void> {
  const byMac = new Map<string, string>();
  for (const n of networks) {
    const leases = await host.dhcpLeases(n.name).catch(() => null);
    for (const l of leases ?? []) byMac.set(l.mac.toLowerCase(), l.ip);
  }
  const subnets = networks.map((n) => parseSubnet(n.subnet)).filter((s) => !('error' in s));
  // An address outside every cluster subnet cannot be the VM's address on our network (the test driver, for one,
  // answers a fixed 192.168.122.3 for any domain), so it does not count as seen.
  const plausible = (ip: string) => {
    const v = parseIpv4(ip);
    return v !== null && subnets.some((s) => !('error' in s) && inSubnet(s, v));
  };
  const networkNames = new Set(networks.map((n) => n.name));

  // Decided without libvirt: a recorded MAC found in the leases, or (no interface addresses to ask) not seen at all.
  // The rest is asked in bounded parallel; drift keeps the VM order either way.
  const ask: number[] = [];
  const known = new Array<string | null | undefined>(vms.length);
  for (let i = 0; i < vms.length; i++) {
    const vm = vms[i]!;
    if (vm.state !== 'RUNNING') continue;
    const mac = vm.mac?.toLowerCase();
    if (mac && byMac.has(mac)) known[i] = byMac.get(mac)!;
    else if (mac && !useInterfaces) known[i] = null;
    else ask.push(i);
  }
  if (ask.length > 0) {
    const seen = await mapSettled(
      ask,
      async (i) => {
        const vm = vms[i]!;
        let mac = vm.mac?.toLowerCase();
        if (!mac) mac = domainInterfaces(await host.domainXml(vm.name)).find((x) => x.network !== null && networkNames.has(x.network))?.mac;
        if (mac && byMac.has(mac)) return byMac.get(mac)!;
        if (!useInterfaces) return null;
        try {
          const ifaces = await host.interfaceAddresses(vm.name, 'agent');
          for (const x of ifaces) {
            if (mac && x.mac?.toLowerCase() !== mac) continue;
            const a = x.addresses.find((y) => y.type === 'ipv4' && plausible(y.address));
            if (a) return a.address;
          }
        } catch {
          // no agent, no such source on this driver: fall back to the configured address
        }
        return null;
      },
      { concurrency: PARALLEL_READS },
    );
    ask.forEach((i, k) => {
      const r = seen[k]!;
      known[i] = r.ok ? r.value : null;
    });
  }
  for (let i = 0; i < vms.length; i++) {
    const ip = known[i];
    if (ip === undefined) continue;
    const vm = vms[i]!;
    if (ip === null) {
      vm.ip_verified = false;
      continue;
    }
    if (ip !== vm.ip_address) drift.push({ kind: 'ip-differs', resource: 'vm', name: vm.name, recorded: vm.ip_address, actual: ip });
    vm.ip_address = ip;
    vm.ip_verified = true;
  }
}

async function observeNetworks(host: LibvirtHost, state: ClusterState, drift: DriftItem[], lineage: string, plan: ClusterPlan | null): Promise<ClusterState> {
  let next = state;
  for (const n of state.networks) {
    if (await host.getNetwork(n.name)) continue;
    drift.push({ kind: 'missing', resource: 'network', name: n.name, recorded: n.subnet, actual: null });
    next = { ...next, networks: next.networks.filter((x) => x.name !== n.name) };
  }
  const name = clusterNames.network(state.cluster_name);
  if (!state.networks.some((n) => n.name === name) && (await networkHolder(host, name, lineage, state.cluster_name)) === 'ours') {
    drift.push({ kind: 'unrecorded', resource: 'network', name, recorded: null, actual: 'defined' });
    next = withNetwork(next, plan ? networkRecordOf(plan) : { name, subnet: '', bridge: '', active_ips: [] });
  }
  const ips = next.vms.filter((v) => v.state === 'RUNNING' && v.ip_address).map((v) => v.ip_address!);
  return { ...next, networks: next.networks.map((n) => ({ ...n, active_ips: ips })) };
}

async function observeStorage(
  host: LibvirtHost,
  state: ClusterState,
  drift: DriftItem[],
  lineage: string,
  plan: (ClusterPlan & { readonly poolPath: string }) | null,
): Promise<ClusterState> {
  let next = state;
  const poolName = clusterNames.pool(state.cluster_name);
  for (const p of state.pools ?? []) {
    if (await host.getPool(p.name)) continue;
    drift.push({ kind: 'missing', resource: 'pool', name: p.name, recorded: p.path, actual: null });
    next = { ...next, pools: (next.pools ?? []).filter((x) => x.name !== p.name) };
  }
  const recordedPool = (state.pools ?? []).some((p) => p.name === poolName);
  const holder = await poolHolder(host, poolName, lineage, state.pools);
  if (!recordedPool && holder === 'ours') {
    drift.push({ kind: 'unrecorded', resource: 'pool', name: poolName, recorded: null, actual: 'defined' });
    next = withPool(next, { name: poolName, path: plan?.poolPath ?? '' });
  }
  const info = holder === 'ours' ? await host.getPool(poolName) : null;
  if (holder !== 'ours' || !info) {
    for (const v of state.volumes) drift.push({ kind: 'missing', resource: 'volume', name: v.name, recorded: v.path, actual: null });
    return { ...next, volumes: [] };
  }
  if (!info.active) return next; // an inactive pool cannot list its volumes: nothing to compare
  const volumes = await host.listVolumes(poolName);
  const have = new Set(volumes.map((v) => v.name));
  const gone = new Set<string>();
  for (const v of state.volumes) {
    if (have.has(v.name)) continue;
    drift.push({ kind: 'missing', resource: 'volume', name: v.name, recorded: v.path, actual: null });
    gone.add(v.name);
  }
  if (gone.size > 0) next = { ...next, volumes: next.volumes.filter((x) => !gone.has(x.name)) };
  // A volume the state does not record is never recorded by a refresh, even with one of our names: a name proves
  // nothing for volumes (see ownership.ts), and recording it would let destroy delete someone's disk.
  return next;
}

function planOrNull(config: LoadedConfig): (ClusterPlan & { readonly poolPath: string }) | null {
  return config.result.plan && config.poolPath ? { ...config.result.plan, poolPath: config.poolPath } : null;
}

/** The recorded state and what libvirt reports, without taking the lock or writing anything. */
export async function clusterStatus(env: ClusterEnv, ws: ClusterWorkspace): Promise<ClusterStatusReport> {
  const config = await loadConfig(ws, env.processEnv);
  const recorded = await env.store.load(clusterTarget(ws, config.clusterName));
  const host = await env.connect(config.uri);
  try {
    if (!recorded) return { recorded: null, state: null, drift: [], applied: false, uri: config.uri };
    const seen = await observe(host, recorded, planOrNull(config), env);
    return { recorded, state: seen.next, drift: seen.drift, applied: false, uri: config.uri };
  } finally {
    await host.close();
    // The connection's copy of a big host is freed now; glibc would otherwise keep it as RSS (not awaited).
    void releaseFreedNativeMemory();
  }
}

/** Refreshes: reads libvirt, reports drift; with `apply`, records what it saw (under the lock). */
export async function refreshCluster(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext, opts: RefreshOptions = {}): Promise<RefreshResult> {
  if (!opts.apply) {
    ctx.progress({ target: '', step: 'read', value: null, message: 'Reading libvirt' });
    const report = await clusterStatus(env, ws);
    return { drift: report.drift, applied: false, state: report.state };
  }
  const config = await loadConfig(ws, env.processEnv);
  return withSession(env, ws, { operation: 'cluster:refresh', uri: config.uri, clusterName: config.clusterName }, ctx, async (s) => {
    const recorded = await s.tx.read();
    if (!recorded) return { drift: [], applied: false, state: null };
    ctx.progress({ target: '', step: 'read', value: null, message: `Reading ${s.host.uri}` });
    // Everything is read before anything is written: a failed read leaves the state exactly as it was.
    const seen = await observe(s.host, recorded, planOrNull(config), env);
    if (ctx.signal.aborted) throw new AppError('cancelled', 'The refresh was cancelled before anything was recorded.');
    s.set(seen.next);
    await s.checkpoint();
    return { drift: seen.drift, applied: true, state: s.state };
  });
}
