/** IPv4 arithmetic for cluster subnets: addresses as unsigned 32-bit numbers. */

/** A parsed IPv4 subnet in CIDR form. */
export interface Subnet {
  readonly cidr: string;
  readonly network: number;
  readonly prefix: number;
  readonly netmask: string;
  /** The first host address: libvirt's network takes it as its own (the gateway VMs route through). */
  readonly gateway: number;
  readonly broadcast: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted-quad IPv4 address; null when it is not one (leading zeros are refused as ambiguous). */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/nn`; a subnet needs room for the gateway and at least one VM, so the prefix is at most 30. */
export function parseSubnet(text: string): Subnet | { readonly error: string } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return { error: `"${text}" is not in CIDR form (a.b.c.d/nn)` };
  const address = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (address === null) return { error: `"${m[1]}" is not an IPv4 address` };
  if (prefix < 8 || prefix > 30) return { error: `prefix /${prefix} is outside /8../30` };
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) return { error: `"${text}" has host bits set; did you mean ${formatIpv4(network)}/${prefix}?` };
  const mask = 2 ** 32 - size;
  return { cidr: `${formatIpv4(network)}/${prefix}`, network, prefix, netmask: formatIpv4(mask), gateway: network + 1, broadcast: network + size - 1 };
}

/** Is `ip` inside the subnet (network and broadcast included)? */
export function inSubnet(subnet: Subnet, ip: number): boolean {
  return ip >= subnet.network && ip <= subnet.broadcast;
}
