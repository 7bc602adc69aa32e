/**
 * The libvirt adapter: one koffi connection per URI per process, behind the `LibvirtHost` interface.
 *
 * Why koffi for domains too (and not @unraid/libvirt): on the test driver a file URI (`test:///path/host.xml`, the
 * demo host) gives every `virConnectOpen` its own private copy of the host — verified on libvirt 9.0 — so domains
 * defined through @unraid/libvirt's connection would be invisible to a koffi connection's bulk stats, networks and
 * pools. One connection must carry everything, and @unraid/libvirt does not expose its `virConnectPtr`.
 */
import { AppError } from '../../errors';
import { fetchDomainStats, settleFrees } from './bulk-stats';
import { readInactive, testHostFile } from './test-host-file';
import {
  NOT_FOUND_CODES,
  callAsync,
  dispatchedErrorSeq,
  dispatchedErrorSince,
  lastConnError,
  loadNative,
  reinstallErrorHandler,
  toAppError,
  type FnName,
  type Native,
  type Ptr,
} from './native';
import {
  domainStateName,
  type AddressSource,
  type BulkStatsOptions,
  type DhcpLease,
  type DomainInfo,
  type DomainStats,
  type InterfaceAddresses,
  type LibvirtHost,
  type NetworkInfo,
  type PoolInfo,
  type VolumeInfo,
} from './types';

/**
 * Undefine flags, most thorough first: MANAGED_SAVE | SNAPSHOTS_METADATA | NVRAM | CHECKPOINTS_METADATA, then the
 * two every driver knows (the test driver refuses NVRAM and CHECKPOINTS as "unsupported flags").
 */
const UNDEFINE_FLAGS = [1 | 2 | 4 | 16, 1 | 2, 0] as const;
const VIR_ERR_INVALID_ARG = 8;
const DOMAIN_XML_INACTIVE = 2;
const NETWORK_XML_INACTIVE = 1;
const POOL_XML_INACTIVE = 1;
/** virNetworkUpdate: VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, VIR_NETWORK_SECTION_IP_DHCP_HOST, AFFECT_LIVE / AFFECT_CONFIG. */
const NET_UPDATE = { addLast: 3, ipDhcpHost: 4, live: 1, config: 2 } as const;
const ADDRESS_SOURCES: Readonly<Record<AddressSource, number>> = { lease: 0, agent: 1, arp: 2 };
/**
 * Native calls in flight per connection. koffi keeps `resident_async_pools` (8 by default) memory sets for async calls
 * and allocates and frees a fresh 256 KiB set for every call beyond them — on the main thread, as the call is made.
 * Measured on the test driver (1,000 lookups, 2 cores): 0.05 ms per call with 4–8 in flight, 0.2 ms with 16, 0.9 ms
 * with 64; so calls beyond the resident sets wait their turn here instead (koffi has only a few worker threads anyway).
 */
function maxInFlight(native: Native): number {
  const resident = Number((native.koffi.config() as { resident_async_pools?: number }).resident_async_pools);
  return Number.isFinite(resident) && resident >= 1 ? Math.min(64, resident) : 8;
}

type Kind = 'domain' | 'network' | 'pool';
const LOOKUP: Readonly<Record<Kind, { lookup: FnName; free: FnName; label: string }>> = {
  domain: { lookup: 'virDomainLookupByName', free: 'virDomainFree', label: 'domain' },
  network: { lookup: 'virNetworkLookupByName', free: 'virNetworkFree', label: 'network' },
  pool: { lookup: 'virStoragePoolLookupByName', free: 'virStoragePoolFree', label: 'storage pool' },
};

/** A counting semaphore for async native calls. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** The connection itself; shared by every handle opened on its URI in this process. */
class Connection {
  private readonly gate: Gate;
  closed = false;

  constructor(
    readonly native: Native,
    readonly conn: Ptr,
    readonly uri: string,
  ) {
    this.gate = new Gate(maxInFlight(native));
  }

  /** Runs a native call on a worker thread; a failure sentinel (-1 / NULL) becomes an AppError. */
  async call<T>(what: string, name: FnName, ...args: unknown[]): Promise<T> {
    if (this.closed) throw new AppError('libvirt-conn', `${what}: the connection to ${this.uri} is closed`, { host: this.uri });
    const result = await this.gate.run(() => callAsync<T>(this.native.fn[name], ...args));
    if (result === null || (typeof result === 'number' && result < 0)) throw this.error(what);
    return result;
  }

  error(what: string): AppError {
    return toAppError(lastConnError(this.native, this.conn), what, this.uri);
  }

  /** Looks an object up by name; null when libvirt says it does not exist. */
  async lookup(kind: Kind, name: string): Promise<Ptr | null> {
    const spec = LOOKUP[kind];
    try {
      return await this.call<Ptr>(`look up ${spec.label} ${name}`, spec.lookup, this.conn, name);
    } catch (err) {
      if (err instanceof AppError && err.code === 'not-found' && NOT_FOUND_CODES.has(Number(err.fields.details?.['libvirtCode']))) return null;
      throw err;
    }
  }

  /** Looks an object up (not-found is an error here), runs `fn` with it, and frees the handle. */
  async with<T>(kind: Kind, name: string, fn: (ptr: Ptr) => Promise<T>): Promise<T> {
    const ptr = await this.lookup(kind, name);
    if (ptr === null) throw new AppError('not-found', `${LOOKUP[kind].label} ${name} does not exist on ${this.uri}`, { host: this.uri });
    try {
      return await fn(ptr);
    } finally {
      this.native.fn[LOOKUP[kind].free](ptr);
    }
  }

  /** Reads a `virConnectListAll*`-style array of handles, maps each, frees handles and the array. */
  readHandles<T>(list: Ptr | null, count: number, free: FnName, map: (ptr: Ptr) => T): T[] {
    if (!list || count <= 0) return [];
    const { koffi, fn } = this.native;
    const ptrs = koffi.decode(list, koffi.array('void*', count)) as Ptr[];
    try {
      return ptrs.map(map);
    } finally {
      for (const p of ptrs) fn[free](p);
      this.native.free(list);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await settleFrees(this.conn); // record lists of the last bulk read are freed before the connection goes
    await callAsync<number>(this.native.fn.virConnectClose, this.conn);
  }
}

class KoffiLibvirtHost implements LibvirtHost {
  readonly uri: string;
  readonly isTestDriver: boolean;
  private released = false;

  constructor(
    private readonly c: Connection,
    private readonly release: () => Promise<void>,
  ) {
    this.uri = c.uri;
    this.isTestDriver = c.uri.startsWith('test:');
  }

  private get fn() {
    return this.c.native.fn;
  }

  private domainOp(what: string, name: string, fnName: FnName, ...extra: unknown[]): Promise<void> {
    return this.c.with('domain', name, async (d) => {
      await this.c.call<number>(`${what} ${name}`, fnName, d, ...extra);
    });
  }

  private networkOp(what: string, name: string, fnName: FnName): Promise<void> {
    return this.c.with('network', name, async (n) => {
      await this.c.call<number>(`${what} ${name}`, fnName, n);
    });
  }

  private poolOp(what: string, name: string, fnName: FnName, ...extra: unknown[]): Promise<void> {
    return this.c.with('pool', name, async (p) => {
      await this.c.call<number>(`${what} ${name}`, fnName, p, ...extra);
    });
  }

  async domainStats(options: BulkStatsOptions = {}): Promise<readonly DomainStats[]> {
    if (this.c.closed) throw new AppError('libvirt-conn', `the connection to ${this.uri} is closed`, { host: this.uri });
    const stats = await fetchDomainStats(this.c.native, this.c.conn, options);
    if (stats === null) throw this.c.error('read domain stats');
    return stats;
  }

  async getDomain(name: string): Promise<DomainInfo | null> {
    const d = await this.c.lookup('domain', name);
    if (d === null) return null;
    try {
      const info: { state?: number; maxMem?: number; memory?: number; nrVirtCpu?: number; cpuTime?: number | bigint } = {};
      await this.c.call<number>(`read domain ${name}`, 'virDomainGetInfo', d, info);
      return {
        name,
        state: domainStateName(info.state ?? 0),
        maxMemKiB: Number(info.maxMem ?? 0),
        memoryKiB: Number(info.memory ?? 0),
        vcpus: info.nrVirtCpu ?? 0,
        cpuTimeNs: Number(info.cpuTime ?? 0),
      };
    } finally {
      this.fn.virDomainFree(d);
    }
  }

  domainXml(name: string, options: { readonly inactive?: boolean } = {}): Promise<string> {
    return this.c.with('domain', name, (d) =>
      this.c.call<string>(`read the XML of domain ${name}`, 'virDomainGetXMLDesc', d, options.inactive ? DOMAIN_XML_INACTIVE : 0),
    );
  }

  async defineDomain(xml: string): Promise<string> {
    const d = await this.c.call<Ptr>('define domain', 'virDomainDefineXML', this.c.conn, xml);
    try {
      return this.fn.virDomainGetName(d) as string;
    } finally {
      this.fn.virDomainFree(d);
    }
  }

  startDomain(name: string): Promise<void> {
    return this.domainOp('start domain', name, 'virDomainCreate');
  }
  shutdownDomain(name: string): Promise<void> {
    return this.domainOp('shut down domain', name, 'virDomainShutdown');
  }
  destroyDomain(name: string): Promise<void> {
    return this.domainOp('force off domain', name, 'virDomainDestroy');
  }
  suspendDomain(name: string): Promise<void> {
    return this.domainOp('pause domain', name, 'virDomainSuspend');
  }
  resumeDomain(name: string): Promise<void> {
    return this.domainOp('resume domain', name, 'virDomainResume');
  }
  rebootDomain(name: string): Promise<void> {
    return this.domainOp('reboot domain', name, 'virDomainReboot', 0);
  }
  undefineDomain(name: string): Promise<void> {
    return this.c.with('domain', name, async (d) => {
      for (const [i, flags] of UNDEFINE_FLAGS.entries()) {
        try {
          await this.c.call<number>(`undefine domain ${name}`, 'virDomainUndefineFlags', d, flags);
          return;
        } catch (err) {
          const unsupportedFlags = err instanceof AppError && err.fields.details?.['libvirtCode'] === VIR_ERR_INVALID_ARG;
          if (!unsupportedFlags || i === UNDEFINE_FLAGS.length - 1) throw err;
        }
      }
    });
  }
  setDomainAutostart(name: string, autostart: boolean): Promise<void> {
    return this.domainOp('set autostart of domain', name, 'virDomainSetAutostart', autostart ? 1 : 0);
  }

  interfaceAddresses(name: string, source: AddressSource = 'lease'): Promise<readonly InterfaceAddresses[]> {
    return this.c.with('domain', name, async (d) => {
      const out: [Ptr | null] = [null];
      const n = await this.c.call<number>(`read the addresses of domain ${name}`, 'virDomainInterfaceAddresses', d, out, ADDRESS_SOURCES[source], 0);
      const { koffi, types } = this.c.native;
      return this.c.readHandles(out[0], n, 'virDomainInterfaceFree', (p) => {
        const iface = koffi.decode(p, types.virDomainInterface) as { name: string | null; hwaddr: string | null; naddrs: number; addrs: Ptr | null };
        const addrs =
          iface.addrs && iface.naddrs > 0
            ? (koffi.decode(iface.addrs, koffi.array(types.virDomainIPAddress, iface.naddrs)) as { type: number; addr: string | null; prefix: number }[])
            : [];
        return {
          name: iface.name ?? '',
          mac: iface.hwaddr,
          addresses: addrs
            .filter((a) => a.addr !== null)
            .map((a) => ({ type: a.type === 1 ? ('ipv6' as const) : ('ipv4' as const), address: a.addr!, prefix: a.prefix })),
        };
      });
    });
  }

  private async networkInfo(n: Ptr, name: string): Promise<NetworkInfo> {
    const active = await this.c.call<number>(`read network ${name}`, 'virNetworkIsActive', n);
    const persistent = await this.c.call<number>(`read network ${name}`, 'virNetworkIsPersistent', n);
    return { name, active: active === 1, persistent: persistent === 1 };
  }

  async listNetworks(): Promise<readonly NetworkInfo[]> {
    const out: [Ptr | null] = [null];
    const n = await this.c.call<number>('list networks', 'virConnectListAllNetworks', this.c.conn, out, 0);
    // Names are read while the handles are alive; the activity checks use fresh lookups so handles are freed at once.
    const names = this.c.readHandles(out[0], n, 'virNetworkFree', (p) => this.fn.virNetworkGetName(p) as string);
    const infos = await Promise.all(names.map((name) => this.getNetwork(name)));
    return infos.filter((i): i is NetworkInfo => i !== null);
  }

  async getNetwork(name: string): Promise<NetworkInfo | null> {
    const n = await this.c.lookup('network', name);
    if (n === null) return null;
    try {
      return await this.networkInfo(n, name);
    } finally {
      this.fn.virNetworkFree(n);
    }
  }

  networkXml(name: string, options: { readonly inactive?: boolean } = {}): Promise<string> {
    return this.c.with('network', name, (n) =>
      this.c.call<string>(`read the XML of network ${name}`, 'virNetworkGetXMLDesc', n, options.inactive ? NETWORK_XML_INACTIVE : 0),
    );
  }

  async defineNetwork(xml: string): Promise<string> {
    const n = await this.c.call<Ptr>('define network', 'virNetworkDefineXML', this.c.conn, xml);
    try {
      return this.fn.virNetworkGetName(n) as string;
    } finally {
      this.fn.virNetworkFree(n);
    }
  }

  startNetwork(name: string): Promise<void> {
    return this.networkOp('start network', name, 'virNetworkCreate');
  }
  destroyNetwork(name: string): Promise<void> {
    return this.networkOp('stop network', name, 'virNetworkDestroy');
  }
  undefineNetwork(name: string): Promise<void> {
    return this.networkOp('undefine network', name, 'virNetworkUndefine');
  }

  async addDhcpHost(network: string, h: { readonly mac: string; readonly ip: string; readonly name: string }): Promise<void> {
    // Imported here: the XML builder (xmlbuilder2) is for commands that write, not for status (see xml-read.ts).
    const xml = (await import('./xml')).buildDhcpHostXml(h);
    return this.c.with('network', network, async (n) => {
      const active = (await this.c.call<number>(`read network ${network}`, 'virNetworkIsActive', n)) === 1;
      const flags = active ? NET_UPDATE.live | NET_UPDATE.config : NET_UPDATE.config;
      await this.c.call<number>(
        `add the DHCP reservation of ${h.name} to network ${network}`,
        'virNetworkUpdate',
        n,
        NET_UPDATE.addLast,
        NET_UPDATE.ipDhcpHost,
        -1,
        xml,
        flags,
      );
    });
  }

  dhcpLeases(network: string): Promise<readonly DhcpLease[] | null> {
    return this.c.with('network', network, async (n) => {
      const out: [Ptr | null] = [null];
      let count: number;
      try {
        count = await this.c.call<number>(`read the DHCP leases of network ${network}`, 'virNetworkGetDHCPLeases', n, null, out, 0);
      } catch (err) {
        if (err instanceof AppError && err.code === 'unsupported') return null;
        throw err;
      }
      const { koffi, types } = this.c.native;
      return this.c.readHandles(out[0], count, 'virNetworkDHCPLeaseFree', (p) => {
        const l = koffi.decode(p, types.virNetworkDHCPLease) as {
          mac: string | null;
          ipaddr: string | null;
          prefix: number;
          hostname: string | null;
          expirytime: number | bigint;
        };
        return { mac: l.mac ?? '', ip: l.ipaddr ?? '', prefix: l.prefix, hostname: l.hostname, expiry: Number(l.expirytime) };
      });
    });
  }

  async listPools(): Promise<readonly PoolInfo[]> {
    const out: [Ptr | null] = [null];
    const n = await this.c.call<number>('list storage pools', 'virConnectListAllStoragePools', this.c.conn, out, 0);
    const names = this.c.readHandles(out[0], n, 'virStoragePoolFree', (p) => this.fn.virStoragePoolGetName(p) as string);
    const infos = await Promise.all(names.map((name) => this.getPool(name)));
    return infos.filter((i): i is PoolInfo => i !== null);
  }

  async getPool(name: string): Promise<PoolInfo | null> {
    const p = await this.c.lookup('pool', name);
    if (p === null) return null;
    try {
      const active = await this.c.call<number>(`read storage pool ${name}`, 'virStoragePoolIsActive', p);
      return { name, active: active === 1 };
    } finally {
      this.fn.virStoragePoolFree(p);
    }
  }

  poolXml(name: string, options: { readonly inactive?: boolean } = {}): Promise<string> {
    return this.c.with('pool', name, (p) =>
      this.c.call<string>(`read the XML of storage pool ${name}`, 'virStoragePoolGetXMLDesc', p, options.inactive ? POOL_XML_INACTIVE : 0),
    );
  }

  async definePool(xml: string): Promise<string> {
    const p = await this.c.call<Ptr>('define storage pool', 'virStoragePoolDefineXML', this.c.conn, xml, 0);
    try {
      return this.fn.virStoragePoolGetName(p) as string;
    } finally {
      this.fn.virStoragePoolFree(p);
    }
  }

  buildPool(name: string): Promise<void> {
    return this.poolOp('build storage pool', name, 'virStoragePoolBuild', 0);
  }
  startPool(name: string): Promise<void> {
    return this.poolOp('start storage pool', name, 'virStoragePoolCreate', 0);
  }
  refreshPool(name: string): Promise<void> {
    return this.poolOp('refresh storage pool', name, 'virStoragePoolRefresh', 0);
  }
  destroyPool(name: string): Promise<void> {
    return this.poolOp('stop storage pool', name, 'virStoragePoolDestroy');
  }
  deletePool(name: string): Promise<void> {
    return this.poolOp('delete storage pool', name, 'virStoragePoolDelete', 0);
  }
  undefinePool(name: string): Promise<void> {
    return this.poolOp('undefine storage pool', name, 'virStoragePoolUndefine');
  }

  private async volumeInfo(v: Ptr, pool: string): Promise<VolumeInfo> {
    const name = this.fn.virStorageVolGetName(v) as string;
    const info: { capacity?: number | bigint; allocation?: number | bigint } = {};
    await this.c.call<number>(`read volume ${pool}/${name}`, 'virStorageVolGetInfo', v, info);
    const path = await this.c.call<string>(`read volume ${pool}/${name}`, 'virStorageVolGetPath', v);
    return { name, path, capacityBytes: Number(info.capacity ?? 0), allocationBytes: Number(info.allocation ?? 0) };
  }

  /** Runs `fn` with a volume handle; null from `lookup` when the volume does not exist. */
  private async withVolume<T>(pool: string, name: string, fn: (v: Ptr) => Promise<T>): Promise<T | null> {
    return this.c.with('pool', pool, async (p) => {
      let v: Ptr;
      try {
        v = await this.c.call<Ptr>(`look up volume ${pool}/${name}`, 'virStorageVolLookupByName', p, name);
      } catch (err) {
        if (err instanceof AppError && err.code === 'not-found') return null;
        throw err;
      }
      try {
        return await fn(v);
      } finally {
        this.fn.virStorageVolFree(v);
      }
    });
  }

  async listVolumes(pool: string): Promise<readonly VolumeInfo[]> {
    const names = await this.volumeNames(pool);
    const infos = await Promise.all(names.map((name) => this.getVolume(pool, name)));
    return infos.filter((i): i is VolumeInfo => i !== null);
  }

  volumeNames(pool: string): Promise<readonly string[]> {
    return this.c.with('pool', pool, async (p) => {
      const out: [Ptr | null] = [null];
      const n = await this.c.call<number>(`list the volumes of storage pool ${pool}`, 'virStoragePoolListAllVolumes', p, out, 0);
      return this.c.readHandles(out[0], n, 'virStorageVolFree', (v) => this.fn.virStorageVolGetName(v) as string);
    });
  }

  getVolume(pool: string, name: string): Promise<VolumeInfo | null> {
    return this.withVolume(pool, name, (v) => this.volumeInfo(v, pool));
  }

  async volumeXml(pool: string, name: string): Promise<string> {
    const xml = await this.withVolume(pool, name, (v) => this.c.call<string>(`read the XML of volume ${pool}/${name}`, 'virStorageVolGetXMLDesc', v, 0));
    if (xml === null) throw new AppError('not-found', `volume ${pool}/${name} does not exist on ${this.uri}`, { host: this.uri });
    return xml;
  }

  createVolume(pool: string, xml: string): Promise<VolumeInfo> {
    return this.c.with('pool', pool, async (p) => {
      const v = await this.c.call<Ptr>(`create a volume in storage pool ${pool}`, 'virStorageVolCreateXML', p, xml, 0);
      try {
        return await this.volumeInfo(v, pool);
      } finally {
        this.fn.virStorageVolFree(v);
      }
    });
  }

  async deleteVolume(pool: string, name: string): Promise<void> {
    const done = await this.withVolume(pool, name, (v) => this.c.call<number>(`delete volume ${pool}/${name}`, 'virStorageVolDelete', v, 0));
    if (done === null) throw new AppError('not-found', `volume ${pool}/${name} does not exist on ${this.uri}`, { host: this.uri });
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.release();
  }
}

interface Entry {
  readonly connection: Promise<Connection>;
  refs: number;
}

/** One connection per URI per process (see the file comment: file-backed test hosts are private per connection). */
const registry = new Map<string, Entry>();

/**
 * Opens (or shares) the connection for `uri`. Close the returned handle when done; the connection closes with its
 * last handle. For a file-backed test host, close between operations so the next open re-reads the saved file.
 */
export async function openLibvirtHost(uri: string): Promise<LibvirtHost> {
  let entry = registry.get(uri);
  if (!entry) {
    const connection = connect(uri);
    entry = { connection, refs: 0 };
    registry.set(uri, entry);
    connection.catch(() => {
      if (registry.get(uri) === entry) registry.delete(uri);
    });
  }
  entry.refs++;
  const mine = entry;
  let c: Connection;
  try {
    c = await mine.connection;
  } catch (err) {
    mine.refs--;
    throw err;
  }
  return new KoffiLibvirtHost(c, async () => {
    if (--mine.refs > 0) return;
    if (registry.get(uri) === mine) registry.delete(uri);
    await c.close();
  });
}

/** How many URIs this process holds connections for (for tests and diagnostics). */
export function openConnectionCount(): number {
  return registry.size;
}

async function connect(uri: string): Promise<Connection> {
  const native = await loadNative();
  // Another binding in the process (@unraid/libvirt sets a no-op handler on every open) may have replaced ours.
  reinstallErrorHandler();
  const seq = dispatchedErrorSeq();
  const conn = await callAsync<Ptr | null>(native.fn.virConnectOpen, uri);
  if (!conn) {
    const cause = dispatchedErrorSince(seq);
    throw new AppError('libvirt-conn', `Cannot connect to ${uri}: ${cause?.message ?? 'libvirt gave no reason'}`, {
      host: uri,
      hint: connectHint(uri),
      ...(cause ? { details: { libvirtCode: cause.code, libvirtDomain: cause.domain } } : {}),
    });
  }
  const connection = new Connection(native, conn, uri);
  const file = testHostFile(uri);
  if (file) {
    try {
      await restoreInactive(connection, file);
    } catch (err) {
      await connection.close();
      throw err;
    }
  }
  return connection;
}

/**
 * A test-driver node file loads every network and pool as active; stop those the file lists as inactive (see
 * test-host.ts). Runs once per fresh connection, so it never undoes a start made through a shared connection.
 */
async function restoreInactive(connection: Connection, file: string): Promise<void> {
  const inactive = await readInactive(file);
  if (inactive.networks.length === 0 && inactive.pools.length === 0) return;
  const host = new KoffiLibvirtHost(connection, async () => {});
  for (const name of inactive.networks) if ((await host.getNetwork(name))?.active) await host.destroyNetwork(name);
  for (const name of inactive.pools) if ((await host.getPool(name))?.active) await host.destroyPool(name);
}

function connectHint(uri: string): string {
  if (uri.startsWith('test:')) return 'The demo host file is missing or not a valid libvirt test-driver <node> file.';
  if (uri.includes('+ssh')) return 'Check that you can `ssh` to that host without a password prompt and that libvirtd runs there.';
  return 'Check that libvirtd runs and that your user may use this URI (e.g. is in the libvirt group).';
}
