/** Shared pieces of the QEMU tier's test files: the environment, a context, what is left on the daemon. */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createClusterEnv, destroyCluster, type ClusterEnv, type ClusterWorkspace } from '../../main/clusters/service';
import { openLibvirtHost } from '../../main/clusters/libvirt/host';
import { simpleContext, type OpContext } from '../../main/operations/types';
import { StateStore } from '../../main/state';
import { removeDir, type Tier, type TierCluster } from '../../scripts/qemu/tier';

export const tier = (): Tier => inject('qemuTier');

/** Generous: a TCG guest boots in ≈ 7 s alone, much slower on a loaded 2-core machine. */
export const BOOT_WAIT_MS = 200_000;

export interface Bench {
  readonly store: StateStore;
  readonly env: ClusterEnv;
  readonly parent: string;
  workspace(c: TierCluster, uri?: string): ClusterWorkspace;
  /** Destroys whatever each cluster still has recorded (best effort), closes connections, removes the folder. */
  cleanup(clusters: readonly TierCluster[]): Promise<void>;
}

export async function bench(opts: { readonly stopTimeoutSec?: number } = {}): Promise<Bench> {
  const store = new StateStore({ lockTimeoutMs: 30_000 });
  const env = createClusterEnv({ store, stopTimeoutSec: opts.stopTimeoutSec ?? 60, parallelism: 4, pollIntervalMs: 200, processEnv: {} });
  const parent = await mkdtemp(join(tmpdir(), 'cd-qemu-ws-'));
  const workspace = (c: TierCluster, uri?: string): ClusterWorkspace => ({
    configFile: c.configFile,
    statePath: c.statePath,
    ...(uri ? { libvirtUri: uri } : {}),
  });
  return {
    store,
    env,
    parent,
    workspace,
    async cleanup(clusters) {
      for (const c of clusters) {
        if (existsSync(c.statePath)) await destroyCluster(env, workspace(c), ctx()).catch(() => undefined);
      }
      await env.dispose();
      await removeDir(parent);
    },
  };
}

export const ctx = (signal?: AbortSignal): OpContext => simpleContext(signal);

/** What of a cluster's names the daemon still has. */
export async function leftOnDaemon(uri: string, c: TierCluster): Promise<string[]> {
  const host = await openLibvirtHost(uri);
  try {
    const left: string[] = [];
    for (const vm of c.vms) if (await host.getDomain(vm)) left.push(`domain ${vm}`);
    if (await host.getNetwork(`${c.name}-network`)) left.push('network');
    if (await host.getPool(`${c.name}-pool`)) left.push('pool');
    return left;
  } finally {
    await host.close();
  }
}
