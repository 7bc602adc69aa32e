/** The normalized cluster plan: what `start` creates, derived from a validated cluster.yaml. */

export type VmRole = 'controller' | 'compute';

/** A PCI device passed through to a VM (from `pcie_passthrough.devices`). */
export interface PciDevicePlan {
  /** `dddd:bb:ss.f` */
  readonly address: string;
  readonly deviceType: string;
}

export interface VmPlan {
  readonly name: string;
  readonly role: VmRole;
  readonly vcpus: number;
  readonly memoryGb: number;
  readonly memoryKiB: number;
  readonly diskGb: number;
  /** The configured static IP, or null when the config says DHCP. */
  readonly ip: string | null;
  /**
   * The address the VM is expected to get: the static IP, or for DHCP nodes an address reserved for it in the
   * network's DHCP host table (never colliding with any other VM, the gateway or the broadcast address).
   */
  readonly address: string;
  readonly mac: string;
  readonly gpuCount: number;
  readonly pciDevices: readonly PciDevicePlan[];
  readonly autoStart: boolean;
  /** Volume name inside the cluster pool (`<vm>.qcow2`). */
  readonly volume: string;
}

export interface NetworkPlan {
  readonly name: string;
  /** Canonical CIDR (`192.168.100.0/24`). */
  readonly subnet: string;
  readonly bridge: string;
  readonly gateway: string;
  readonly netmask: string;
  readonly prefix: number;
  /** The DHCP range handed to libvirt: every host address after the gateway. */
  readonly dhcpStart: string;
  readonly dhcpEnd: string;
}

export interface ClusterPlan {
  /** Absolute path of the config file, or null when parsed from text. */
  readonly configPath: string | null;
  readonly clusterName: string;
  readonly description: string;
  /** Absolute path of the qcow2 base image (relative paths resolve against the config's folder). */
  readonly baseImagePath: string;
  readonly network: NetworkPlan;
  readonly pool: { readonly name: string };
  readonly vms: readonly VmPlan[];
}
