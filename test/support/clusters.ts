/**
 * Test support for the cluster operations: a throwaway workspace (cluster.yaml + state path) on a throwaway
 * test-driver host file, a real StateStore and environment, and a progress recorder. No libvirt mocks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempTestHost, type TempTestHost, type TestHostSeed } from './libvirt-host';
import { simpleContext, type OpContext, type ProgressUpdate } from '../../main/operations/types';
import { StateStore, type ClusterState } from '../../main/state';
import { createClusterEnv, type ClusterEnv } from '../../main/clusters/env';
import type { ClusterWorkspace } from '../../main/clusters/workspace';

export interface ClusterFixture {
  readonly dir: string;
  readonly host: TempTestHost;
  readonly ws: ClusterWorkspace;
  readonly env: ClusterEnv;
  readonly store: StateStore;
  /** The recorded state (no lock). */
  state(): Promise<ClusterState | null>;
  cleanup(): Promise<void>;
}

export interface FixtureOptions {
  readonly name?: string;
  /** `list` (controller + N listed nodes) or `count` (controller + `count: N`, DHCP). */
  readonly form?: 'list' | 'count';
  readonly computeNodes?: number;
  readonly seed?: TestHostSeed;
  /** Replaces the base image path (relative to the config folder). */
  readonly baseImage?: string;
  /** Extra path segment for the workspace folder (to test odd characters in paths). */
  readonly subdir?: string;
  readonly stopTimeoutSec?: number;
  /** `clusterdesk.network_mode` (omitted when not given). */
  readonly networkMode?: string;
}

/** cluster.yaml text for the fixture. */
export function fixtureYaml(
  name: string,
  uri: string,
  opts: { form: 'list' | 'count'; computeNodes: number; baseImage: string; networkMode?: string },
): string {
  const nodes =
    opts.form === 'list'
      ? Array.from({ length: opts.computeNodes }, (_, i) => `      - { cpu_cores: 2, memory_gb: 2, disk_gb: 20, ip: "10.88.0.${21 + i}" }`).join('\n')
      : `      count: ${opts.computeNodes}\n      cpu_cores: 2\n      memory_gb: 2\n      disk_gb: 20\n      ip: DHCP`;
  return [
    'version: "1.0"',
    `metadata: { name: ${JSON.stringify(name)} }`,
    `clusterdesk: { libvirt_uri: ${JSON.stringify(uri)}, pool_path: "pool"${opts.networkMode ? `, network_mode: ${JSON.stringify(opts.networkMode)}` : ''} }`,
    'clusters:',
    '  hpc:',
    `    name: ${JSON.stringify(name)}`,
    `    base_image_path: ${JSON.stringify(opts.baseImage)}`,
    '    network: { subnet: "10.88.0.0/24", bridge: "cdt88" }',
    '    controller: { cpu_cores: 2, memory_gb: 4, disk_gb: 40, ip_address: "10.88.0.10" }',
    '    compute_nodes:',
    nodes,
    '',
  ].join('\n');
}

/**
 * cluster.yaml for `vms` VMs at scale: a controller and `count: vms-1` DHCP compute nodes on a /20 (room for 4,000
 * hosts), for the start-at-scale tests and `npm run bench -- start`.
 */
export function scaleConfigYaml(name: string, uri: string, vms: number): string {
  return [
    'version: "1.0"',
    `metadata: { name: ${JSON.stringify(name)} }`,
    `clusterdesk: { libvirt_uri: ${JSON.stringify(uri)}, pool_path: "pool" }`,
    'clusters:',
    '  hpc:',
    `    name: ${JSON.stringify(name)}`,
    '    base_image_path: "images/base.qcow2"',
    '    network: { subnet: "10.96.0.0/20", bridge: "cdb96" }',
    '    controller: { cpu_cores: 1, memory_gb: 1, disk_gb: 10, ip_address: "10.96.0.10" }',
    '    compute_nodes:',
    `      count: ${vms - 1}`,
    '      cpu_cores: 1',
    '      memory_gb: 1',
    '      disk_gb: 10',
    '      ip: DHCP',
    '',
  ].join('\n');
}

/** A fresh cluster workspace on a fresh test host. */
export async function clusterFixture(opts: FixtureOptions = {}): Promise<ClusterFixture> {
  const host = await createTempTestHost(opts.seed ?? {});
  const base = await mkdtemp(join(tmpdir(), 'cd-cluster-'));
  const dir = opts.subdir ? join(base, opts.subdir) : base;
  if (opts.subdir) await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  const configFile = join(dir, 'cluster.yaml');
  const name = opts.name ?? 'hpc';
  await writeFile(
    configFile,
    fixtureYaml(name, host.uri, {
      form: opts.form ?? 'list',
      computeNodes: opts.computeNodes ?? 3,
      baseImage: opts.baseImage ?? 'images/base.qcow2',
      ...(opts.networkMode ? { networkMode: opts.networkMode } : {}),
    }),
  );
  const store = new StateStore({ lockTimeoutMs: 5_000 });
  const env = createClusterEnv({ store, stopTimeoutSec: opts.stopTimeoutSec ?? 5, parallelism: 4, pollIntervalMs: 20, processEnv: {} });
  const ws: ClusterWorkspace = { configFile, statePath: join(dir, 'output', 'state.json') };
  return {
    dir,
    host,
    ws,
    env,
    store,
    state: () => store.loadCluster(ws.statePath),
    cleanup: async () => {
      await env.dispose();
      await host.cleanup();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** A context whose progress updates are kept, in order. */
export function recordingContext(signal?: AbortSignal, onUpdate?: (u: ProgressUpdate) => void): OpContext & { readonly updates: ProgressUpdate[] } {
  const updates: ProgressUpdate[] = [];
  const ctx = simpleContext(signal, (u) => {
    updates.push(u);
    onUpdate?.(u);
  });
  return Object.assign(ctx, { updates });
}

/** Domain names and states on the host, sorted (opens and closes its own handle). */
export async function hostDomains(host: TempTestHost): Promise<[string, string][]> {
  const h = await host.open();
  try {
    return [...(await h.domainStats())].map((d): [string, string] => [d.name, d.state]).sort((a, b) => a[0].localeCompare(b[0]));
  } finally {
    await h.close();
  }
}
