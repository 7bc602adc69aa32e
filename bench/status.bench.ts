/**
 * `hpc status` of a large cluster on libvirt's test driver (issue #10: it was quadratic, 40k VMs > 120 s).
 *
 *   npm run bench -- status [--sizes 10000,40000] [--reps 5]
 *
 * Two lines per size:
 *   - `status n=N`: the whole `clusterStatus` (config, state load, one bulk libvirt read, comparison), against the
 *     floor of loading the same state file alone (`store.load`), measured in the same run: the ratio is what status
 *     costs on top of reading the record. The connection is opened once and reused: the test driver parses its whole
 *     node file on every open (~1.3 ms per domain here), which a real qemu:/// connection does not. Also printed: the
 *     bulk libvirt read alone (`libvirt_bulk_read_ms`) and what remains for the comparison itself (`compare_ms`).
 *   - `vm patches n=N`: applying one patch per VM in one pass (`patchVms`, what status does now) against the per-VM
 *     copy it replaced (`patchVm` in a loop, quadratic), at min(N, 10000) so the baseline still ends.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterEnv } from '../main/clusters/env';
import { openLibvirtHost } from '../main/clusters/libvirt/host';
import { testHostUri } from '../main/clusters/libvirt/test-host';
import { TEST_NS } from '../main/clusters/libvirt/xml';
import { patchVm, patchVms, type ClusterVm } from '../main/clusters/records';
import { clusterStatus } from '../main/clusters/refresh';
import { StateStore, type ClusterState } from '../main/state';
import { report, timeMedian } from './lib';

const CLUSTER = 'bench';

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const vmName = (i: number) => `${CLUSTER}-compute-${String(i + 1).padStart(5, '0')}`;
const mac = (i: number) =>
  `52:54:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/** A node file with `n` domains, written as text (building 40k elements with an XML builder dominates the run). */
function hostXml(n: number): string {
  const parts = [`<?xml version="1.0"?>\n<node xmlns:test="${TEST_NS}">\n`];
  for (let i = 0; i < n; i++) {
    parts.push(
      `<domain type="test"><name>${vmName(i)}</name><memory unit="KiB">1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os>` +
        `<devices><interface type="network"><mac address="${mac(i)}"/><source network="${CLUSTER}-network"/></interface></devices>` +
        `<test:runstate>${i % 3 === 0 ? 5 : 1}</test:runstate></domain>\n`,
    );
  }
  parts.push('</node>\n');
  return parts.join('');
}

function recorded(n: number): ClusterState {
  const vms: ClusterVm[] = [];
  for (let i = 0; i < n; i++) {
    vms.push({
      name: vmName(i),
      cpu_cores: 1,
      memory_gb: 1,
      state: 'RUNNING',
      ip_address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      gpu_count: 0,
      volumes: [],
      created_at: '2026-11-30T00:00:00.000Z',
      last_seen: null,
      mac: mac(i),
      role: 'compute',
      ip_verified: false,
    });
  }
  return { cluster_name: CLUSTER, cluster_type: 'hpc', status: 'running', created_at: '2026-11-30T00:00:00.000Z', vms, networks: [], volumes: [], pools: [] };
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  const sizes = (arg(args, '--sizes') ?? '10000,40000').split(',').map(Number);
  const reps = Number(arg(args, '--reps') ?? 5);
  const dir = await mkdtemp(join(tmpdir(), 'clusterdesk-bench-status-'));
  const store = new StateStore();
  try {
    for (const n of sizes) {
      const folder = join(dir, `n${n}`);
      await mkdir(join(folder, 'output'), { recursive: true });
      const hostFile = join(folder, 'host.xml');
      await writeFile(hostFile, hostXml(n));
      const configFile = join(folder, 'cluster.yaml');
      // The config only names the host; status reads the record (the 40k VMs) and libvirt.
      await writeFile(configFile, `version: "1.0"\nmetadata: { name: ${CLUSTER} }\nclusters: { hpc: { name: ${CLUSTER} } }\n`);
      const statePath = join(folder, 'output', 'state.json');
      const state = recorded(n);
      await store.update({ kind: 'cluster', file: statePath }, 'bench', () => state);
      const ws = { configFile, statePath, libvirtUri: testHostUri(hostFile) };
      const host = await openLibvirtHost(ws.libvirtUri);
      // Every status gets the one open connection; its close() is a no-op until the end of this size.
      const shared = new Proxy(host, {
        get: (target, prop) => (prop === 'close' ? async () => undefined : (Reflect.get(target, prop, target) as unknown)),
      });
      const env = createClusterEnv({ store, processEnv: {}, open: async () => shared });
      try {
        const check = await clusterStatus(env, ws);
        if (check.recorded?.vms.length !== n || check.state?.vms.length !== n) throw new Error(`status saw ${check.state?.vms.length} VMs, expected ${n}`);
        const shutoff = check.drift.filter((d) => d.kind === 'state-differs').length;
        if (shutoff !== Math.ceil(n / 3)) throw new Error(`expected ${Math.ceil(n / 3)} drifted VMs, saw ${shutoff}`);

        const ms = await timeMedian(() => clusterStatus(env, ws), reps, 1);
        const loadMs = await timeMedian(() => store.load({ kind: 'cluster', file: statePath }), reps, 1);
        // The other floor: libvirt's bulk read of the n domains (the test driver's own work, decoded) alone.
        const libvirtMs = await timeMedian(() => host.domainStats(), reps, 1);
        report({
          bench: 'status',
          case: `status n=${n}`,
          ms,
          baseline: 'store.load of the same state alone',
          baseline_ms: loadMs,
          reps,
          drift: check.drift.length,
          libvirt_bulk_read_ms: Math.round(libvirtMs * 100) / 100,
          // What status adds on top of the two reads it cannot avoid (comparison, drift, the new record).
          compare_ms: Math.round((ms - loadMs - libvirtMs) * 100) / 100,
        });

        const m = Math.min(n, 10_000);
        const small: ClusterState = { ...state, vms: state.vms.slice(0, m) };
        const patches = new Map(small.vms.map((v, i) => [v.name, { state: i % 3 === 0 ? ('SHUTOFF' as const) : ('RUNNING' as const), last_seen: 'now' }]));
        const linear = await timeMedian(() => patchVms(small, patches), reps, 1);
        const quadratic = await timeMedian(
          () => {
            let s = small;
            for (const [name, p] of patches) s = patchVm(s, name, p);
            return s;
          },
          1,
          0,
        );
        report({
          bench: 'status',
          case: `vm patches n=${m}`,
          ms: linear,
          baseline: 'patchVm per VM (the quadratic loop status used)',
          baseline_ms: quadratic,
          reps,
          speedup: Math.round(quadratic / linear),
        });
      } finally {
        await env.dispose();
        await host.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
