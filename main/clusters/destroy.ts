/**
 * `destroy`: force off and undefine our domains, delete our volumes, pool and network, then clear the state. Anything
 * with one of our names that does not carry our mark is left alone and reported as skipped.
 */
import type { TargetOutcome } from '../../preload/contract';
import { actionHint, AppError, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import type { ClusterState } from '../state';
import { deleteAdoptedVolumes } from './adopt';
import { clusterNames } from './config/names';
import type { ClusterEnv } from './env';
import { domainHolder, isClusterVmName, networkHolder, poolHolder, volumeRecorded } from './ownership';
import { mapSettled } from '../util';
import { cancelledError, withSession, type ClusterSession } from './session';
import type { ClusterOpResult } from './start';
import { liveDomains } from './stop';
import { isActive } from './vm-state';
import { loadConfig, type ClusterWorkspace } from './workspace';

/** Is `text` the confirmation destroy needs (the cluster name, typed)? Shared by the handler table and the CLI. */
export function requireConfirmation(clusterName: string, confirm: string | undefined): void {
  if (confirm === clusterName) return;
  throw new AppError('confirmation-required', `Destroying ${clusterName} deletes its VMs, volumes, pool and network; confirm by typing the cluster name.`, {
    hint: actionHint({
      cli: 'Add --force to confirm: `clusterdesk hpc destroy --force`.',
      ui: `Type "${clusterName}" in the Destroy dialog, then click Destroy.`,
    }),
    details: { expected: clusterName },
  });
}

/** Destroys everything of ours the state knows about (and ours found under the cluster's names), then clears the state. */
export async function destroyCluster(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext): Promise<ClusterOpResult> {
  const config = await loadConfig(ws, env.processEnv);
  return withSession(env, ws, { operation: 'cluster:destroy', uri: config.uri, clusterName: config.clusterName }, ctx, async (s) => {
    const state = await s.tx.read();
    if (!state) return { outcomes: [] };
    s.set(state);
    const lineage = state.lineage ?? '';
    const cluster = state.cluster_name;
    const outcomes: TargetOutcome[] = [];
    const failed = (target: string, err: unknown) => {
      const error = toErrorData(err);
      outcomes.push({ target, result: 'failed', message: error.message, error });
    };

    // Domains: recorded ones, plus any of ours under the cluster's VM names (created by a start that crashed before recording).
    const live = await liveDomains(s.host);
    const names = [...new Set([...state.vms.map((v) => v.name), ...[...live.keys()].filter((n) => isClusterVmName(cluster, n))])];
    const settled = await mapSettled(
      names,
      async (name) => {
        const d = live.get(name);
        if (!d) return { target: name, result: 'absent', message: 'already gone' };
        if ((await domainHolder(s.host, name, lineage, cluster)) !== 'ours')
          return { target: name, result: 'skipped', message: 'not created by Clusterdesk for this state; left alone' };
        if (isActive(d.state)) {
          ctx.progress({ target: name, step: 'force-off', value: 0.3, message: `Forcing ${name} off` });
          await s.host.destroyDomain(name).catch(async (err: unknown) => {
            // Gone off by itself since the read (libvirt: "domain is not running"): nothing to force; undefine it.
            const now = await s.host.getDomain(name).catch(() => null);
            if (!now || isActive(now.state)) throw err;
          });
          await s.saveHost();
        }
        ctx.progress({ target: name, step: 'undefine', value: 0.7, message: `Undefining ${name}` });
        await s.host.undefineDomain(name);
        s.update((st) => ({ ...st, vms: st.vms.filter((v) => v.name !== name) }));
        await s.saveHost();
        ctx.progress({ target: name, step: 'deleted', value: 1, message: `${name} deleted` });
        return { target: name, result: 'deleted' };
      },
      { concurrency: env.parallelism, signal: ctx.signal },
    );
    settled.forEach((r, i) => {
      if (r.ok) outcomes.push(r.value);
      else if (!r.skipped) failed(names[i]!, r.error);
    });
    if (ctx.signal.aborted) return finishIncomplete(s, cancelledError());
    const domainsLeft = settled.some((r) => !r.ok);
    if (!domainsLeft) {
      // Volumes taken over at adoption (proved by their exact path), wherever they live; their pool stays.
      try {
        outcomes.push(
          ...(await deleteAdoptedVolumes(s.host, state, async (path) => {
            s.update((st) => ({ ...st, volumes: st.volumes.filter((x) => x.path !== path) }));
            await s.saveHost();
          })),
        );
      } catch (err) {
        failed('adopted volumes', err);
      }
      await destroyStorage(s, state, lineage, outcomes, failed);
      await destroyNetworks(s, state, lineage, outcomes, failed);
    }
    const problems = outcomes.filter((o) => o.result === 'failed');
    if (problems.length > 0 || domainsLeft) {
      const first = problems[0]?.error;
      return finishIncomplete(
        s,
        new AppError(first?.code ?? 'libvirt-error', `Destroy could not remove everything: ${problems.map((p) => `${p.target} (${p.message})`).join('; ')}`, {
          hint: actionHint({
            cli: 'The state keeps what is left; fix the cause and run `clusterdesk hpc destroy --force` again.',
            ui: 'The state keeps what is left; fix the cause and click Destroy again.',
          }),
          details: { outcomes },
        }),
      );
    }
    await s.saveHost();
    await s.tx.remove();
    ctx.progress({ target: '', step: 'done', value: 1, message: `Cluster ${cluster} destroyed` });
    return { outcomes };
  });
}

/** Keeps what is left recorded (status `error`) and reports why. */
async function finishIncomplete(s: ClusterSession, err: AppError): Promise<never> {
  s.update((st) => ({ ...st, status: err.code === 'cancelled' ? 'partial' : 'error' }));
  await s.checkpoint();
  throw err;
}

type Fail = (target: string, err: unknown) => void;

async function destroyStorage(s: ClusterSession, state: ClusterState, lineage: string, outcomes: TargetOutcome[], failed: Fail): Promise<void> {
  const cluster = state.cluster_name;
  const pools = [...new Set([...(state.pools ?? []).map((p) => p.name), clusterNames.pool(cluster)])];
  for (const pool of pools) {
    try {
      const holder = await poolHolder(s.host, pool, lineage, state.pools);
      if (holder === 'absent') {
        s.update((st) => ({ ...st, pools: (st.pools ?? []).filter((p) => p.name !== pool), volumes: [] }));
        continue;
      }
      if (holder === 'foreign') {
        outcomes.push({ target: pool, result: 'skipped', message: 'not created by Clusterdesk for this state; left alone' });
        continue;
      }
      if (!(await s.host.getPool(pool))?.active) await s.host.startPool(pool);
      const volumes = await s.host.listVolumes(pool);
      // Only volumes whose exact path the state records are ours (a name proves nothing); anything else in the pool
      // is someone's file, is left alone and keeps the pool.
      const ours = volumes.filter((v) => volumeRecorded(v, state.volumes));
      for (const v of ours) {
        s.ctx.progress({ target: v.name, step: 'delete', value: 0.5, message: `Deleting volume ${v.name}` });
        await s.host.deleteVolume(pool, v.name);
        s.update((st) => ({ ...st, volumes: st.volumes.filter((x) => x.name !== v.name) }));
        await s.saveHost();
        outcomes.push({ target: v.name, result: 'deleted' });
      }
      const others = volumes.filter((v) => !ours.includes(v));
      for (const v of others) outcomes.push({ target: v.name, result: 'skipped', message: 'not created by Clusterdesk for this state; left alone' });
      if (others.length > 0) {
        outcomes.push({ target: pool, result: 'skipped', message: `holds ${others.length} volume(s) Clusterdesk did not create; pool kept` });
        continue;
      }
      s.ctx.progress({ target: pool, step: 'delete', value: 0.5, message: `Deleting storage pool ${pool}` });
      await s.host.destroyPool(pool);
      await s.host.deletePool(pool);
      await s.host.undefinePool(pool);
      s.update((st) => ({ ...st, pools: (st.pools ?? []).filter((p) => p.name !== pool) }));
      await s.saveHost();
      outcomes.push({ target: pool, result: 'deleted' });
    } catch (err) {
      failed(pool, err);
    }
  }
}

async function destroyNetworks(s: ClusterSession, state: ClusterState, lineage: string, outcomes: TargetOutcome[], failed: Fail): Promise<void> {
  const cluster = state.cluster_name;
  const networks = [...new Set([...state.networks.map((n) => n.name), clusterNames.network(cluster)])];
  for (const net of networks) {
    try {
      const holder = await networkHolder(s.host, net, lineage, cluster);
      if (holder === 'foreign') {
        outcomes.push({ target: net, result: 'skipped', message: 'not created by Clusterdesk for this state; left alone' });
        continue;
      }
      if (holder === 'ours') {
        s.ctx.progress({ target: net, step: 'delete', value: 0.5, message: `Deleting network ${net}` });
        if ((await s.host.getNetwork(net))?.active) await s.host.destroyNetwork(net);
        await s.host.undefineNetwork(net);
        await s.saveHost();
        outcomes.push({ target: net, result: 'deleted' });
      }
      s.update((st) => ({ ...st, networks: st.networks.filter((n) => n.name !== net) }));
    } catch (err) {
      failed(net, err);
    }
  }
}
