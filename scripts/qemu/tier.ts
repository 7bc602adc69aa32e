/**
 * The QEMU test tier's harness, shared by its vitest global setup and the `qemu-stop` benchmark: can the tier run
 * here, set the namespaced libvirt daemon up (images.sh + daemon.sh) and tear it down by PID, write a cluster
 * workspace from scripts/qemu/cluster.yaml, wait for the guests' serial markers, kill a QEMU process behind
 * libvirt's back, and start an sshd in the namespace for `qemu+ssh://`.
 *
 * A failure to set the tier up is a `TierSetupError` ("qemu tier setup failed: …"), never a product failure.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

export const HERE = dirname(fileURLToPath(import.meta.url));
const DAEMON = join(HERE, 'daemon.sh');
const IMAGES = join(HERE, 'images.sh');

/** The packages the tier needs (scripts/install.sh installs them as its `qemu` group). */
export const QEMU_PACKAGES = [
  'libvirt-daemon',
  'libvirt-daemon-driver-qemu',
  'libvirt-clients',
  'qemu-system-x86',
  'qemu-utils',
  'iptables',
  'dnsmasq-base',
  'busybox-static',
  'util-linux',
  'iproute2',
];

/** Serial console markers printed by the guest's /init (scripts/qemu/images.sh). */
export const MARKER = { up: 'CLUSTERDESK-GUEST-UP', dhcp: 'CLUSTERDESK-GUEST-DHCP', poweroff: 'CLUSTERDESK-GUEST-POWEROFF' } as const;

export class TierSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`qemu tier setup failed: ${message}`, options);
    this.name = 'TierSetupError';
  }
}

/** Why the tier cannot run on this machine at all (then it is skipped), or null. */
export function skipReason(): string | null {
  if (process.platform !== 'linux') return `it needs Linux (namespaces, libvirtd, QEMU); this is ${process.platform}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'it needs root (it creates namespaces, bridges and a system libvirt daemon); run it as root or in CI';
  return null;
}

export interface Tier {
  /** `qemu:///system?socket=…` of the namespaced daemon. */
  readonly uri: string;
  readonly socket: string;
  /** The daemon's run folder (private /etc/libvirt, /run/libvirt, … and its logs). */
  readonly runDir: string;
  /** The guest images (vmlinuz, initramfs.cpio.gz, base.qcow2). */
  readonly cacheDir: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file.split('/').pop()} ${args[0] ?? ''}: ${(stderr || err.message).trim().split('\n').slice(-8).join('\n')}`));
      else resolve(stdout.trim());
    });
  });
}

/** The tier's Debian packages that are not installed (none where dpkg is absent: daemon.sh then names missing tools). */
export function missingPackages(): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...QEMU_PACKAGES], { encoding: 'utf8' });
  if (r.error) return [];
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' install ok installed'))
      .map((l) => l.split(' ')[0]!.split(':')[0]!),
  );
  return QEMU_PACKAGES.filter((p) => !installed.has(p));
}

/** Builds the images (cached) and starts the daemon. Throws `TierSetupError`. */
export async function setUpTier(): Promise<Tier> {
  const reason = skipReason();
  if (reason) throw new TierSetupError(reason);
  const missing = missingPackages();
  if (missing.length > 0) throw new TierSetupError(`missing Debian packages: ${missing.join(' ')} (run \`bash scripts/install.sh\` as root)`);
  let cacheDir: string;
  try {
    cacheDir = (await run(IMAGES, [], 600_000)).split('\n').pop()!;
  } catch (err) {
    throw new TierSetupError(`building the guest images: ${(err as Error).message}`, { cause: err });
  }
  await sweepStaleRuns();
  const runDir = await mkdtemp(join(tmpdir(), RUN_PREFIX));
  await writeFile(join(runDir, 'owner'), processIdentity(process.pid) ?? '');
  let socket: string;
  try {
    socket = (await run(DAEMON, ['up', runDir], 120_000)).split('\n').pop()!;
  } catch (err) {
    tearDownTierSync(runDir);
    throw new TierSetupError(`starting the namespaced libvirtd: ${(err as Error).message}`, { cause: err });
  }
  return { uri: `qemu:///system?socket=${socket}`, socket, runDir, cacheDir };
}

const RUN_PREFIX = 'clusterdesk-qemu-';

/** "PID STARTTIME" of a live process (the start time tells a reused PID apart), or null. */
function processIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid} ${fields[19]}`;
  } catch {
    return null;
  }
}

/**
 * Tears down the daemons of earlier runs whose owner died without its exit hooks (SIGKILL): a run folder whose
 * `owner` process is gone. A run whose owner lives (another checkout's tier running now) is left alone.
 */
export async function sweepStaleRuns(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = (await readFile(join(dir, 'owner'), 'utf8').catch(() => null))?.trim() ?? null;
    if (owner === null || !/^\d+ \d+$/.test(owner)) continue; // not a run folder (or one still being written)
    if (processIdentity(Number(owner.split(' ')[0])) === owner) continue;
    tearDownTierSync(dir);
  }
}

/** Kills the daemon and everything in its namespaces (by PID) and removes the run folder. Synchronous, for exit hooks. */
export function tearDownTierSync(runDir: string): void {
  spawnSync(DAEMON, ['down', runDir], { stdio: 'ignore', timeout: 60_000 });
  spawnSync('rm', ['-rf', '--one-file-system', runDir], { stdio: 'ignore' });
}

export interface TierCluster {
  readonly dir: string;
  readonly configFile: string;
  readonly statePath: string;
  readonly name: string;
  readonly serialDir: string;
  readonly poolDir: string;
  readonly subnet: string;
  /** The VM names in config order (controller, compute-01, compute-02, …). */
  readonly vms: readonly string[];
  serialLog(vm: string): string;
}

export interface ClusterOptions {
  /** Cluster name (also names the network, pool and domains). */
  readonly name: string;
  /** Third octet of the cluster's 10.231.N.0/24 subnet and suffix of its bridge (each cluster of a run its own). */
  readonly net: number;
  /** Whether the guests power off on the ACPI power button. */
  readonly acpi: 'handle' | 'ignore';
  readonly uri: string;
  /** Leave the serial log folder uncreated (QEMU then fails to start: the injected failure). */
  readonly withoutSerialDir?: boolean;
  /** Compute nodes beside the controller (default 2, as in cluster.yaml); fewer guests boot faster. */
  readonly computeNodes?: number;
}

/** A workspace folder with cluster.yaml (from scripts/qemu/cluster.yaml) and the images linked into it. */
export async function writeCluster(tier: Tier, parent: string, opts: ClusterOptions): Promise<TierCluster> {
  const dir = join(parent, opts.name);
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const f of ['vmlinuz', 'initramfs.cpio.gz', 'base.qcow2']) {
    const link = join(dir, 'images', f);
    if (!existsSync(link)) await symlink(join(tier.cacheDir, f), link);
  }
  const doc = parseDocument(await readFile(join(HERE, 'cluster.yaml'), 'utf8'));
  const subnet = `10.231.${opts.net}.0/24`;
  doc.setIn(['metadata', 'name'], opts.name);
  doc.setIn(['clusters', 'hpc', 'name'], opts.name);
  doc.setIn(['clusterdesk', 'libvirt_uri'], opts.uri);
  doc.setIn(['clusterdesk', 'boot', 'cmdline'], String(doc.getIn(['clusterdesk', 'boot', 'cmdline'])).replace(/cd\.acpi=\w+/, `cd.acpi=${opts.acpi}`));
  doc.setIn(['clusters', 'hpc', 'network', 'subnet'], subnet);
  doc.setIn(['clusters', 'hpc', 'network', 'bridge'], `cdq${opts.net}`);
  doc.setIn(['clusters', 'hpc', 'controller', 'ip_address'], `10.231.${opts.net}.10`);
  const computeNodes = opts.computeNodes ?? 2;
  doc.setIn(['clusters', 'hpc', 'compute_nodes', 'count'], computeNodes);
  const configFile = join(dir, 'cluster.yaml');
  await writeFile(configFile, doc.toString());
  const serialDir = join(dir, String(doc.getIn(['clusterdesk', 'serial_log_dir'])));
  if (!opts.withoutSerialDir) await mkdir(serialDir, { recursive: true });
  const vms = [`${opts.name}-controller`, ...Array.from({ length: computeNodes }, (_, i) => `${opts.name}-compute-${String(i + 1).padStart(2, '0')}`)];
  return {
    dir,
    configFile,
    statePath: join(dir, 'output', 'state.json'),
    name: opts.name,
    serialDir,
    poolDir: join(dir, String(doc.getIn(['clusterdesk', 'pool_path']))),
    subnet,
    vms,
    serialLog: (vm) => join(serialDir, `${vm}.log`),
  };
}

/** Waits until `file` holds a complete line starting with `marker` (returns that line); throws after `timeoutMs`. */
export async function waitForMarker(file: string, marker: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    // Only complete lines: QEMU writes the serial port's bytes as the guest's UART sends them, so the last line may
    // still be arriving.
    const line = text
      .split(/\r?\n/)
      .slice(0, -1)
      .find((l) => l.startsWith(marker));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no "${marker}" line in ${file} after ${Math.round(timeoutMs / 1000)} s; it holds:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The host PID of the QEMU process running `vm` (libvirt's pid file holds the namespace's PID). */
export async function qemuHostPid(tier: Tier, vm: string): Promise<number> {
  const nsPid = Number((await readFile(join(tier.runDir, 'run', 'qemu', `${vm}.pid`), 'utf8')).trim());
  const netns = (await readFile(join(tier.runDir, 'netns.inode'), 'utf8')).trim();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/net`)) !== `net:[${netns}]`) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const ids = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
      if (ids[ids.length - 1] === nsPid && ids[0] === Number(entry)) return Number(entry);
    } catch {
      // The process went away while we looked.
    }
  }
  throw new Error(`no QEMU process with namespace PID ${nsPid} for ${vm}`);
}

export interface TierSsh {
  /** `qemu+ssh://cdqemu@127.0.0.1:PORT/system?…` through libvirt's own ssh transport, inside the namespace. */
  readonly uri: string;
  readonly port: number;
}

/** Starts an sshd (throwaway user and key) inside the namespace. */
export async function startSshd(tier: Tier): Promise<TierSsh> {
  let out: string;
  try {
    out = await run(DAEMON, ['sshd', tier.runDir], 60_000);
  } catch (err) {
    throw new TierSetupError(`starting the sshd in the namespace: ${(err as Error).message}`, { cause: err });
  }
  const [port, user, key, wrapper] = out.split('\n').pop()!.split(' ');
  // No `socket=`: with it libvirt pipes through `nc -U` on the far side; without it, through virt-ssh-helper, which
  // reaches the far side's default socket — the namespace's private /run/libvirt/libvirt-sock.
  const q = new URLSearchParams({ keyfile: key!, command: wrapper!, no_verify: '1', no_tty: '1' });
  return { uri: `qemu+ssh://${user}@127.0.0.1:${port}/system?${q.toString()}`, port: Number(port) };
}

/** Removes a test folder (never following links out of it). */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
