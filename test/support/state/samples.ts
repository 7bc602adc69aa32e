/** Sample states and temp folders for the state engine's tests and benchmark. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterState, FederationState, VmRecord } from '../../../main/state/schema';

/** A cluster state with `vmCount` VMs (deterministic content). */
export function sampleCluster(vmCount: number, name = 'hpc-test', extra: Record<string, unknown> = {}): ClusterState {
  const vms: VmRecord[] = [];
  for (let i = 0; i < vmCount; i++) {
    vms.push({
      name: `${name}-vm-${String(i).padStart(5, '0')}`,
      cpu_cores: 4,
      memory_gb: 16,
      state: i % 7 === 0 ? 'SHUTOFF' : 'RUNNING',
      ip_address: i % 7 === 0 ? null : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      gpu_count: i % 5 === 0 ? 1 : 0,
      volumes: [`/var/lib/libvirt/images/${name}/vm-${i}.qcow2`],
      created_at: '2025-10-21T09:00:00.000+00:00',
      last_seen: '2025-10-21T09:05:00.000+00:00',
    });
  }
  return {
    cluster_name: name,
    cluster_type: 'hpc',
    status: 'running',
    created_at: '2025-10-21T09:00:00.000+00:00',
    vms,
    networks: [{ name: `${name}-net`, subnet: '10.0.0.0/8', bridge: 'virbr10', active_ips: [] }],
    volumes: [],
    ...extra,
  };
}

/** A running federation state with `machineCount` machines. */
export function sampleFederation(machineCount = 3, extra: Record<string, unknown> = {}): FederationState {
  return {
    type: 'running',
    data: {
      deployed_files_path: '/srv/fl/workspace',
      machines: Array.from({ length: machineCount }, (_, i) => ({
        name: i === 0 ? 'server' : `site-${i}`,
        kind: i === 0 ? ('local' as const) : ('remote' as const),
        host: i === 0 ? 'localhost' : `127.0.0.${i + 1}`,
        port: i === 0 ? 0 : 22,
        user: i === 0 ? '' : 'fl',
        tmp_dir: `/tmp/fl-${i}`,
        started_at: '2025-10-21T09:00:00.000+00:00',
        pid: 1000 + i,
      })),
    },
    ...extra,
  };
}

/** A fresh temp folder; call the returned cleanup in afterEach. */
export async function tempDir(prefix = 'clusterdesk-state-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
