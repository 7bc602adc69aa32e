/**
 * The libvirt adapter's interface: everything the cluster service may ask of a libvirt host. The service never
 * touches the bindings; tests and the demo use the same interface on libvirt's test driver.
 *
 * Objects are addressed by name. Every method is async (the daemon may be remote). Errors are AppErrors:
 * `not-found`, `libvirt-conflict` (exists already / wrong state), `unsupported`, `libvirt-conn`, `libvirt-error`.
 */

/** libvirt's domain states (virDomainState 0..7), by name. */
export const DOMAIN_STATES = ['NOSTATE', 'RUNNING', 'BLOCKED', 'PAUSED', 'SHUTDOWN', 'SHUTOFF', 'CRASHED', 'PMSUSPENDED'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** The state name for libvirt's number (unknown numbers read as NOSTATE). */
export function domainStateName(code: number): DomainState {
  return DOMAIN_STATES[code] ?? 'NOSTATE';
}

export interface DomainInfo {
  readonly name: string;
  readonly state: DomainState;
  readonly maxMemKiB: number;
  readonly memoryKiB: number;
  readonly vcpus: number;
  /** CPU time used, in nanoseconds. */
  readonly cpuTimeNs: number;
}

/** One domain as read by the bulk stats call: only what refresh needs. */
export interface DomainStats {
  readonly name: string;
  readonly state: DomainState;
  /** libvirt's state reason number (meaning depends on `state`). */
  readonly reason: number;
  /** Current vCPUs, when asked for (`vcpu: true`) and reported by the driver. */
  readonly vcpus?: number;
  /** Current balloon size in KiB, when asked for (`balloon: true`) and reported by the driver. */
  readonly memoryKiB?: number;
}

export interface BulkStatsOptions {
  readonly vcpu?: boolean;
  readonly balloon?: boolean;
}

export interface IpAddress {
  readonly type: 'ipv4' | 'ipv6';
  readonly address: string;
  readonly prefix: number;
}

export interface InterfaceAddresses {
  readonly name: string;
  readonly mac: string | null;
  readonly addresses: readonly IpAddress[];
}

/** Where `interfaceAddresses` looks: the network's DHCP leases, the guest agent, or the host's ARP table. */
export type AddressSource = 'lease' | 'agent' | 'arp';

export interface NetworkInfo {
  readonly name: string;
  readonly active: boolean;
  readonly persistent: boolean;
}

export interface DhcpLease {
  readonly mac: string;
  readonly ip: string;
  readonly prefix: number;
  readonly hostname: string | null;
  /** Expiry as seconds since the epoch. */
  readonly expiry: number;
}

export interface PoolInfo {
  readonly name: string;
  readonly active: boolean;
}

export interface VolumeInfo {
  readonly name: string;
  readonly path: string;
  readonly capacityBytes: number;
  readonly allocationBytes: number;
}

export interface LibvirtHost {
  readonly uri: string;
  /** True on libvirt's test driver (`test:///…`): nothing runs, images need not exist, domain type is `test`. */
  readonly isTestDriver: boolean;

  /** Every domain with its state (one bulk call, `virConnectGetAllDomainStats`). */
  domainStats(options?: BulkStatsOptions): Promise<readonly DomainStats[]>;
  /** A domain's info, or null when it does not exist. */
  getDomain(name: string): Promise<DomainInfo | null>;
  domainXml(name: string, options?: { readonly inactive?: boolean }): Promise<string>;
  /** Defines (or redefines) a persistent domain; returns its name. */
  defineDomain(xml: string): Promise<string>;
  startDomain(name: string): Promise<void>;
  /** Asks the guest to shut down (ACPI); returns before it is off. */
  shutdownDomain(name: string): Promise<void>;
  /** Forces the domain off. */
  destroyDomain(name: string): Promise<void>;
  suspendDomain(name: string): Promise<void>;
  resumeDomain(name: string): Promise<void>;
  rebootDomain(name: string): Promise<void>;
  /** Removes the definition (and managed-save image, snapshot metadata, NVRAM). The domain must be off. */
  undefineDomain(name: string): Promise<void>;
  setDomainAutostart(name: string, autostart: boolean): Promise<void>;
  interfaceAddresses(name: string, source?: AddressSource): Promise<readonly InterfaceAddresses[]>;

  listNetworks(): Promise<readonly NetworkInfo[]>;
  getNetwork(name: string): Promise<NetworkInfo | null>;
  networkXml(name: string, options?: { readonly inactive?: boolean }): Promise<string>;
  defineNetwork(xml: string): Promise<string>;
  startNetwork(name: string): Promise<void>;
  destroyNetwork(name: string): Promise<void>;
  undefineNetwork(name: string): Promise<void>;
  /**
   * Adds a DHCP reservation (`<host mac ip name>`) to the network's first IPv4 `<dhcp>` (virNetworkUpdate): to the
   * running network and its persistent definition when active, to the definition only when not.
   */
  addDhcpHost(network: string, host: { readonly mac: string; readonly ip: string; readonly name: string }): Promise<void>;
  /** The network's DHCP leases, or null when the driver cannot tell (the test driver). */
  dhcpLeases(network: string): Promise<readonly DhcpLease[] | null>;

  listPools(): Promise<readonly PoolInfo[]>;
  getPool(name: string): Promise<PoolInfo | null>;
  poolXml(name: string, options?: { readonly inactive?: boolean }): Promise<string>;
  definePool(xml: string): Promise<string>;
  /** Creates the pool's target (a dir pool's directory). */
  buildPool(name: string): Promise<void>;
  startPool(name: string): Promise<void>;
  refreshPool(name: string): Promise<void>;
  destroyPool(name: string): Promise<void>;
  /** Deletes the pool's target (a dir pool's directory, which must be empty). */
  deletePool(name: string): Promise<void>;
  undefinePool(name: string): Promise<void>;

  listVolumes(pool: string): Promise<readonly VolumeInfo[]>;
  /** The names of the pool's volumes only (one listing call; `listVolumes` reads each volume's details too). */
  volumeNames(pool: string): Promise<readonly string[]>;
  getVolume(pool: string, name: string): Promise<VolumeInfo | null>;
  volumeXml(pool: string, name: string): Promise<string>;
  createVolume(pool: string, xml: string): Promise<VolumeInfo>;
  deleteVolume(pool: string, name: string): Promise<void>;

  /** Releases this handle; the connection closes when the last handle for its URI is closed. Idempotent. */
  close(): Promise<void>;
}
