/**
 * cluster.yaml (the AI-HOW schema, `clusters.hpc`) → a validation report and a normalized `ClusterPlan`.
 *
 * Validation collects every problem instead of stopping at the first, and each error names the file, the 1-based
 * line and the field path, so the UI and the CLI can point at the exact spot.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { isSeq, type Document, type LineCounter } from 'yaml';
import { z } from 'zod';
import type { ValidationReport } from '../../../preload/contract';
import { AppError } from '../../errors';
import { assertRegularFile, NotRegularFileError, specialKind } from '../../files/regular-file';
import { yamlErrorLine, yamlLineOf } from '../../files/yaml-lines';
import { parseYamlOnce, readYamlFile, scanYaml, toJsBounded, type YamlProblem } from '../../files/yaml-limits';
import { clusterMacs } from './mac';
import { BRIDGE_NAME, MAX_CLUSTER_NAME, clusterNames, isSafeName } from './names';
import { formatIpv4, inSubnet, parseIpv4, parseSubnet, type Subnet } from './net';
import type { ClusterPlan, PciDevicePlan, VmPlan } from './plan';

export interface ParseOptions {
  /** The config file's path: used in messages and to resolve a relative `base_image_path`. */
  readonly path?: string;
  /**
   * Require the base image to exist (a real host). On the test driver nothing reads the image, so a demo config
   * may name one that does not exist; the extension and, when the file exists, its qcow2 magic are checked anyway.
   */
  readonly checkImage?: boolean | ((raw: unknown) => boolean);
}

/**
 * How many compute nodes a cluster.yaml may declare, in either form: 999 unless the config raises it with
 * `clusterdesk: { max_compute_nodes: N }`, which no file can set above `MAX_COMPUTE_NODES_CEILING`.
 */
export const DEFAULT_MAX_COMPUTE_NODES = 999;
export const MAX_COMPUTE_NODES_CEILING = 10_000;

export interface ConfigResult {
  /** The plan, or null when there is any error. */
  readonly plan: ClusterPlan | null;
  /** Every problem found, each a `config-invalid` AppError with path, line and field. */
  readonly errors: readonly AppError[];
  /** The document's plain value (for `clusterdesk:` settings), null when it could not be read within the limits. */
  readonly raw?: unknown;
}

type Path = readonly (string | number)[];

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

const pciAddress = z.string().regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/, 'expected a PCI address like 0000:01:00.0');
const pcie = z.object({
  enabled: z.boolean().optional(),
  devices: z.array(z.object({ pci_address: pciAddress, device_type: z.string() })).optional(),
});
const resources = {
  cpu_cores: z.number().int().min(1).max(1024),
  memory_gb: z.number().positive().max(65536),
  disk_gb: z.number().int().min(1).max(1_000_000),
};
const computeItem = z.object({ ...resources, ip: z.string(), pcie_passthrough: pcie.optional(), auto_start: z.boolean().optional() });
const computeCount = z.object({
  ...resources,
  count: z.number().int().min(1),
  ip: z.string().optional(),
  pcie_passthrough: pcie.optional(),
  auto_start: z.boolean().optional(),
});
// Unknown keys (hardware, slurm_config, clusters.cloud, …) are accepted and dropped: the AI-HOW schema has more
// than an HPC-on-libvirt plan needs, and rejecting them would refuse real configs.
const root = z.object({
  version: z.union([z.literal('1.0'), z.literal(1)], { error: 'expected version "1.0"' }),
  metadata: z.object({ name: z.string(), description: z.string().optional() }),
  clusters: z.object({
    hpc: z.object({
      name: z.string(),
      base_image_path: z.string().min(1),
      network: z.object({ subnet: z.string(), bridge: z.string() }),
      controller: z.object({ ...resources, ip_address: z.string(), auto_start: z.boolean().optional() }),
      compute_nodes: z.unknown(),
      slurm_config: z.unknown().optional(),
    }),
  }),
});
type Root = z.infer<typeof root>;
type ComputeItem = z.infer<typeof computeItem>;
type ComputeCount = z.infer<typeof computeCount>;

const HPC: Path = ['clusters', 'hpc'];

/** Collects errors with line numbers looked up in the YAML document. */
class Reporter {
  readonly errors: AppError[] = [];
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string | undefined,
  ) {}

  add(path: Path, text: string, hint?: string): void {
    const field = formatPath(path);
    const line = this.lineOf(path);
    const where = `${this.file ? basename(this.file) : 'cluster.yaml'}:${line}`;
    this.errors.push(
      new AppError('config-invalid', `${where}: ${field || '(root)'}: ${text}`, {
        ...(this.file ? { path: this.file } : {}),
        line,
        field,
        ...(hint ? { hint } : {}),
      }),
    );
  }

  /** The line of the node at `path`, or of its nearest existing ancestor (a missing key points at its parent). */
  lineOf(path: Path): number {
    return yamlLineOf(this.doc, this.lines, path);
  }
}

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function getIn(value: unknown, path: Path): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

const isDhcp = (ip: unknown): boolean => ip === undefined || (typeof ip === 'string' && ip.trim().toUpperCase() === 'DHCP');

/** A limit problem (size, depth, items, aliases) as the one `config-invalid` error of the file. */
function limitResult(problem: YamlProblem, path: string | undefined): ConfigResult {
  const where = `${path ? basename(path) : 'cluster.yaml'}:${problem.line}`;
  return {
    plan: null,
    errors: [new AppError('config-invalid', `${where}: ${problem.message}`, { ...(path ? { path } : {}), line: problem.line, field: '', hint: problem.hint })],
    raw: null,
  };
}

/** The `clusterdesk.max_compute_nodes` of a document (validated), else the default. */
function maxComputeNodes(doc: Document, report: Reporter): number {
  const v: unknown = doc.getIn(['clusterdesk', 'max_compute_nodes']);
  if (v === undefined || v === null) return DEFAULT_MAX_COMPUTE_NODES;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_COMPUTE_NODES_CEILING) {
    report.add(
      ['clusterdesk', 'max_compute_nodes'],
      `expected a whole number from 1 to ${MAX_COMPUTE_NODES_CEILING}`,
      `No cluster can have more than ${MAX_COMPUTE_NODES_CEILING} compute nodes.`,
    );
    return DEFAULT_MAX_COMPUTE_NODES;
  }
  return v;
}

/** Parses and validates cluster.yaml text; never throws for a bad config, it reports. */
export async function parseClusterConfig(text: string, options: ParseOptions = {}): Promise<ConfigResult> {
  // Size, nesting and item count first: the YAML parser itself is what a huge or deep file would stall or crash.
  const problem = scanYaml(text);
  if (problem) return limitResult(problem, options.path);
  const { doc, lines } = parseYamlOnce(text); // detection parsed the same text in this command: reuse its document
  const report = new Reporter(doc, lines, options.path);
  for (const e of doc.errors) {
    const line = yamlErrorLine(e, lines);
    const where = `${options.path ? basename(options.path) : 'cluster.yaml'}:${line}`;
    report.errors.push(
      new AppError('config-invalid', `${where}: YAML syntax: ${e.message.split('\n')[0]}`, {
        ...(options.path ? { path: options.path } : {}),
        line,
        field: '',
        hint: 'Fix the YAML syntax first.',
      }),
    );
  }
  if (report.errors.length > 0) return { plan: null, errors: report.errors, raw: null };

  // The node count is checked on the document, before a single node becomes a value.
  const cap = maxComputeNodes(doc, report);
  const nodesPath = [...HPC, 'compute_nodes'];
  const nodesNode: unknown = doc.getIn(nodesPath, true);
  const listed = isSeq(nodesNode) ? nodesNode.items.length : null;
  const counted0: unknown = doc.getIn([...nodesPath, 'count']);
  const declared = listed ?? (typeof counted0 === 'number' ? counted0 : null);
  if (declared !== null && declared > cap) {
    report.add(
      listed !== null ? nodesPath : [...nodesPath, 'count'],
      `${declared} compute nodes is more than the limit of ${cap}`,
      cap < MAX_COMPUTE_NODES_CEILING
        ? `Raise it with \`clusterdesk: { max_compute_nodes: N }\` (at most ${MAX_COMPUTE_NODES_CEILING}), or declare fewer nodes.`
        : `No cluster can have more than ${MAX_COMPUTE_NODES_CEILING} compute nodes.`,
    );
  }
  if (report.errors.length > 0) return { plan: null, errors: report.errors, raw: null };

  const js = toJsBounded(doc, 'cluster.yaml');
  if ('problem' in js) return limitResult(js.problem, options.path);
  const raw: unknown = js.value;
  const shape = root.safeParse(raw);
  if (!shape.success) for (const issue of shape.error.issues) report.add(issue.path as Path, issue.message);

  // compute_nodes comes in two forms; validate whichever one it is, so the errors speak about that form.
  const nodesRaw = getIn(raw, nodesPath);
  let items: ComputeItem[] | null = null;
  let counted: ComputeCount | null = null;
  if (Array.isArray(nodesRaw)) {
    const parsed = z.array(computeItem).min(1, 'at least one compute node').safeParse(nodesRaw);
    if (parsed.success) items = parsed.data;
    else for (const issue of parsed.error.issues) report.add([...nodesPath, ...(issue.path as Path)], issue.message);
  } else if (nodesRaw !== null && typeof nodesRaw === 'object') {
    const parsed = computeCount.safeParse(nodesRaw);
    if (parsed.success) counted = parsed.data;
    else for (const issue of parsed.error.issues) report.add([...nodesPath, ...(issue.path as Path)], issue.message);
  } else if (shape.success || getIn(raw, HPC) !== undefined) {
    report.add(nodesPath, 'expected a list of nodes or {count, cpu_cores, memory_gb, disk_gb, ip: DHCP}');
  }

  // Semantic checks read the raw values (type-guarded), so they run even when the shape check failed elsewhere.
  const name = getIn(raw, [...HPC, 'name']);
  if (typeof name === 'string') checkClusterName(report, name);

  const bridge = getIn(raw, [...HPC, 'network', 'bridge']);
  if (typeof bridge === 'string' && !BRIDGE_NAME.test(bridge)) {
    report.add(
      [...HPC, 'network', 'bridge'],
      `bridge name "${bridge}" must be 1-15 characters of A-Z a-z 0-9 . _ -`,
      'Linux limits interface names to 15 characters.',
    );
  }

  const imagePath = await checkImage(report, raw, options);

  let subnet: Subnet | null = null;
  const subnetText = getIn(raw, [...HPC, 'network', 'subnet']);
  if (typeof subnetText === 'string') {
    const s = parseSubnet(subnetText);
    if ('error' in s) report.add([...HPC, 'network', 'subnet'], s.error);
    else subnet = s;
  }

  const staticIps = collectStaticIps(raw, nodesRaw);
  const seen = new Map<number, string>();
  for (const { path, value } of staticIps) {
    const ip = checkIp(report, path, value, subnet);
    if (ip === null) continue;
    const first = seen.get(ip);
    if (first !== undefined) report.add(path, `IP ${value} is already used by ${first}`, 'Every VM needs its own address.');
    else seen.set(ip, formatPath(path));
  }

  checkPciDevices(report, nodesRaw, nodesPath);

  if (report.errors.length > 0 || !shape.success || !subnet || imagePath === null || (!items && !counted)) {
    return { plan: null, errors: report.errors, raw };
  }
  const plan = buildPlan(shape.data, items, counted, subnet, imagePath, options.path ?? null);
  if ('error' in plan) {
    report.add(nodesPath, plan.error, 'Use a larger subnet or fewer nodes.');
    return { plan: null, errors: report.errors, raw };
  }
  return { plan, errors: [], raw };
}

/** Reads and validates a cluster.yaml file; a missing or unreadable file is reported as one error. */
export async function loadClusterConfig(file: string, options: Omit<ParseOptions, 'path'> = {}): Promise<ConfigResult> {
  const path = resolve(file);
  let read;
  try {
    read = await readYamlFile(path, basename(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      plan: null,
      errors: [
        new AppError('config-invalid', `${basename(path)}: cannot read the config (${code ?? String(err)})`, { path, line: 1, field: '' }, { cause: err }),
      ],
    };
  }
  if ('problem' in read) return limitResult(read.problem, path);
  return parseClusterConfig(read.text, { ...options, path });
}

/** The contract's `ValidationReport` for a config result: errors as data plus the resources start would create. */
export function toValidationReport(result: ConfigResult): ValidationReport {
  const plan = result.plan;
  return {
    valid: result.errors.length === 0 && plan !== null,
    errors: result.errors.map((e) => e.toData()),
    plan: plan
      ? [
          { resource: 'network', name: plan.network.name },
          { resource: 'pool', name: plan.pool.name },
          ...plan.vms.flatMap((vm) => [
            { resource: 'volume' as const, name: vm.volume },
            { resource: 'vm' as const, name: vm.name },
          ]),
        ]
      : [],
  };
}

/** The plan of a valid result; otherwise throws the first error with all of them in `details.errors`. */
export function requirePlan(result: ConfigResult): ClusterPlan {
  if (result.plan && result.errors.length === 0) return result.plan;
  const first = result.errors[0] ?? new AppError('config-invalid', 'The cluster config is invalid.');
  const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
  throw new AppError('config-invalid', `${first.message}${more}`, { ...first.fields, details: { errors: result.errors.map((e) => e.toData()) } });
}

function checkClusterName(report: Reporter, name: string): void {
  const path = [...HPC, 'name'];
  if (!isSafeName(name)) {
    report.add(
      path,
      `cluster name ${JSON.stringify(name)} is not a safe libvirt name`,
      'Use letters, digits, ".", "_" and "-", starting with a letter or digit.',
    );
  } else if (name.length > MAX_CLUSTER_NAME) {
    report.add(path, `cluster name is longer than ${MAX_CLUSTER_NAME} characters (VM names append "-compute-NN")`);
  }
}

async function checkImage(report: Reporter, raw: unknown, options: ParseOptions): Promise<string | null> {
  const path = [...HPC, 'base_image_path'];
  const value = getIn(raw, path);
  if (typeof value !== 'string' || value === '') return null;
  const abs = isAbsolute(value) ? value : resolve(options.path ? dirname(options.path) : process.cwd(), value);
  if (!value.toLowerCase().endsWith('.qcow2')) {
    report.add(path, `base image "${value}" is not a .qcow2 file`, 'Clusterdesk creates qcow2 overlays on a qcow2 base image.');
    return null;
  }
  let head: Buffer | null = null;
  try {
    // A FIFO would block the open and the read forever, a device would never end: only a regular file is read.
    await assertRegularFile(abs);
    const fh = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const kind = specialKind(await fh.stat());
      if (kind) throw new NotRegularFileError(abs, kind);
      const buf = Buffer.alloc(4);
      const { bytesRead } = await fh.read(buf, 0, 4, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof NotRegularFileError) {
      report.add(path, `base image "${abs}" is a ${err.kind}, not a file`, 'Point base_image_path to the qcow2 image file itself.');
      return null;
    }
    const check = typeof options.checkImage === 'function' ? options.checkImage(raw) : options.checkImage;
    if (check) {
      const code = (err as NodeJS.ErrnoException).code;
      report.add(path, `base image "${abs}" cannot be read (${code ?? String(err)})`, 'Build or download the base image first, or fix the path.');
      return null;
    }
  }
  if (head && !head.equals(QCOW2_MAGIC)) {
    report.add(path, `base image "${abs}" is not in qcow2 format (no QFI\\xfb magic)`, 'Convert it with `qemu-img convert -O qcow2`.');
    return null;
  }
  return abs;
}

function collectStaticIps(raw: unknown, nodesRaw: unknown): { path: Path; value: unknown }[] {
  const out: { path: Path; value: unknown }[] = [{ path: [...HPC, 'controller', 'ip_address'], value: getIn(raw, [...HPC, 'controller', 'ip_address']) }];
  if (Array.isArray(nodesRaw)) {
    nodesRaw.forEach((node, i) => {
      const ip = getIn(node, ['ip']);
      if (!isDhcp(ip)) out.push({ path: [...HPC, 'compute_nodes', i, 'ip'], value: ip });
    });
  } else {
    const ip = getIn(nodesRaw, ['ip']);
    if (!isDhcp(ip)) out.push({ path: [...HPC, 'compute_nodes', 'ip'], value: ip });
  }
  return out;
}

function checkIp(report: Reporter, path: Path, value: unknown, subnet: Subnet | null): number | null {
  if (typeof value !== 'string') return null;
  const ip = parseIpv4(value.trim());
  if (ip === null) {
    report.add(path, `"${value}" is not an IPv4 address`);
    return null;
  }
  if (!subnet) return ip;
  if (!inSubnet(subnet, ip)) {
    report.add(path, `IP ${value} is outside the subnet ${subnet.cidr}`);
    return null;
  }
  if (ip === subnet.network) report.add(path, `IP ${value} is the network address of ${subnet.cidr}`);
  else if (ip === subnet.gateway)
    report.add(path, `IP ${value} is the gateway of ${subnet.cidr} (libvirt's network takes it)`, `Use an address from ${formatIpv4(subnet.gateway + 1)} on.`);
  else if (ip === subnet.broadcast) report.add(path, `IP ${value} is the broadcast address of ${subnet.cidr}`);
  else return ip;
  return null;
}

/** A PCI device can be handed to one VM only; a count-form group with devices would hand it to every node. */
function checkPciDevices(report: Reporter, nodesRaw: unknown, nodesPath: Path): void {
  const seen = new Map<string, string>();
  const nodes: [Path, unknown][] = Array.isArray(nodesRaw) ? nodesRaw.map((n, i) => [[...nodesPath, i], n]) : [[nodesPath, nodesRaw]];
  for (const [path, node] of nodes) {
    const devices = getIn(node, ['pcie_passthrough', 'devices']);
    if (!Array.isArray(devices) || getIn(node, ['pcie_passthrough', 'enabled']) === false) continue;
    const count = getIn(node, ['count']);
    if (typeof count === 'number' && count > 1 && devices.length > 0) {
      report.add([...path, 'pcie_passthrough'], `${count} nodes cannot share the same passthrough devices`, 'List the GPU nodes one by one.');
    }
    devices.forEach((d, j) => {
      const addr = getIn(d, ['pci_address']);
      if (typeof addr !== 'string') return;
      const devPath = [...path, 'pcie_passthrough', 'devices', j, 'pci_address'];
      const first = seen.get(addr.toLowerCase());
      if (first) report.add(devPath, `PCI device ${addr} is already passed to ${first}`);
      else seen.set(addr.toLowerCase(), formatPath(devPath));
    });
  }
}

function pciOf(node: { pcie_passthrough?: z.infer<typeof pcie> | undefined }): PciDevicePlan[] {
  const p = node.pcie_passthrough;
  if (!p || p.enabled === false) return [];
  return (p.devices ?? []).map((d) => ({ address: d.pci_address.toLowerCase(), deviceType: d.device_type }));
}

function buildPlan(
  cfg: Root,
  items: ComputeItem[] | null,
  counted: ComputeCount | null,
  subnet: Subnet,
  baseImagePath: string,
  configPath: string | null,
): ClusterPlan | { error: string } {
  const hpc = cfg.clusters.hpc;
  const cluster = hpc.name;
  type Draft = Omit<VmPlan, 'address' | 'mac'> & { readonly ip: string | null };
  const drafts: Draft[] = [];
  const base = (n: { cpu_cores: number; memory_gb: number; disk_gb: number }) => ({
    vcpus: n.cpu_cores,
    memoryGb: n.memory_gb,
    memoryKiB: Math.round(n.memory_gb * 1024 * 1024),
    diskGb: n.disk_gb,
  });
  const controllerName = clusterNames.controller(cluster);
  drafts.push({
    name: controllerName,
    role: 'controller',
    ...base(hpc.controller),
    ip: hpc.controller.ip_address.trim(),
    gpuCount: 0,
    pciDevices: [],
    autoStart: hpc.controller.auto_start ?? true,
    volume: clusterNames.volume(controllerName),
  });
  const nodes = items ?? Array.from({ length: counted!.count }, () => counted!);
  nodes.forEach((node, i) => {
    const name = clusterNames.compute(cluster, i + 1);
    const pci = pciOf(node);
    drafts.push({
      name,
      role: 'compute',
      ...base(node),
      ip: isDhcp(node.ip) ? null : node.ip!.trim(),
      gpuCount: pci.filter((d) => d.deviceType.toLowerCase() === 'gpu').length,
      pciDevices: pci,
      autoStart: node.auto_start ?? true,
      volume: clusterNames.volume(name),
    });
  });

  // DHCP nodes get reserved addresses: walk upward from the controller's address (wrapping to the first host after
  // the gateway), skipping every static address and every reservation already made, so none can collide.
  const used = new Set<number>(drafts.flatMap((d) => (d.ip ? [parseIpv4(d.ip)!] : [])));
  const firstHost = subnet.gateway + 1;
  const lastHost = subnet.broadcast - 1;
  let cursor = parseIpv4(drafts[0]!.ip!)!;
  const next = (): number | null => {
    for (let tried = 0; tried <= lastHost - firstHost; tried++) {
      cursor = cursor >= lastHost ? firstHost : cursor + 1;
      if (!used.has(cursor)) return cursor;
    }
    return null;
  };
  const macs = clusterMacs(
    cluster,
    drafts.map((d) => d.name),
  );
  const vms: VmPlan[] = [];
  for (const d of drafts) {
    let address = d.ip;
    if (address === null) {
      const ip = next();
      if (ip === null) return { error: `the subnet ${subnet.cidr} has no free address left for ${d.name}` };
      used.add(ip);
      address = formatIpv4(ip);
    }
    vms.push({ ...d, address, mac: macs.get(d.name)! });
  }
  return {
    configPath,
    clusterName: cluster,
    description: cfg.metadata.description ?? '',
    baseImagePath,
    network: {
      name: clusterNames.network(cluster),
      subnet: subnet.cidr,
      bridge: hpc.network.bridge,
      gateway: formatIpv4(subnet.gateway),
      netmask: subnet.netmask,
      prefix: subnet.prefix,
      dhcpStart: formatIpv4(firstHost),
      dhcpEnd: formatIpv4(lastHost),
    },
    pool: { name: clusterNames.pool(cluster) },
    vms,
  };
}
