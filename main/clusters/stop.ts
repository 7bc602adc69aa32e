/**
 * `stop`: ask every running VM to shut down at once, wait for all of them against one deadline, force off whoever is
 * still up when it passes. N VMs take about one timeout, not N.
 */
import type { TargetOutcome } from '../../preload/contract';
import { actionHint, AppError, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type ClusterState } from '../state';
import type { ClusterEnv } from './env';
import type { DomainStats, LibvirtHost } from './libvirt/types';
import { domainHolder } from './ownership';
import { sleep } from '../util';
import { patchVms, type ClusterVm } from './records';
import { cancelledError, withSession } from './session';
import type { ClusterOpResult } from './start';
import { deriveStatus, isActive, vmStateOf } from './vm-state';
import { loadConfig, type ClusterWorkspace } from './workspace';

export interface StopOptions {
  /** Graceful shutdown timeout in seconds before a VM is forced off (default: the env's `stopTimeoutSec`). */
  readonly timeoutSec?: number;
}

/** The live domains by name (one bulk call). */
export async function liveDomains(host: LibvirtHost): Promise<Map<string, DomainStats>> {
  return new Map((await host.domainStats()).map((d) => [d.name, d]));
}

/** Records the live state of every recorded VM that exists; VMs missing from libvirt are left for refresh. */
export function recordLive(state: ClusterState, live: ReadonlyMap<string, DomainStats>): ClusterState {
  const now = isoNow();
  // One pass (patchVm per VM copied the whole list once per VM: quadratic).
  const patches = new Map<string, Partial<ClusterVm>>();
  for (const vm of state.vms) {
    const d = live.get(vm.name);
    if (d) patches.set(vm.name, { state: vmStateOf(d.state), last_seen: now });
  }
  return patchVms(state, patches);
}

/** Stops every recorded VM of ours: graceful first, forced after `timeoutSec`. */
export async function stopCluster(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext, opts: StopOptions = {}): Promise<ClusterOpResult> {
  const config = await loadConfig(ws, env.processEnv);
  const timeoutSec = Math.max(0, opts.timeoutSec ?? env.stopTimeoutSec);
  return withSession(env, ws, { operation: 'cluster:stop', uri: config.uri, clusterName: config.clusterName }, ctx, async (s) => {
    const state = await s.tx.read();
    if (!state)
      throw new AppError('state-wrong-status', 'Nothing to stop: no cluster state is recorded.', {
        path: ws.statePath,
        hint: actionHint({ cli: 'Start the cluster first: `clusterdesk hpc start`.', ui: 'Click Start first.' }),
      });
    s.set(state);
    const lineage = state.lineage ?? '';
    const outcomes = new Map<string, TargetOutcome>();
    const set = (target: string, result: string, message?: string, error?: unknown) => {
      const data = error === undefined ? undefined : toErrorData(error);
      outcomes.set(target, { target, result, ...(message ? { message } : {}), ...(data ? { error: data } : {}) });
    };

    const live = await liveDomains(s.host);
    const targets: string[] = [];
    await Promise.all(
      state.vms.map(async (vm) => {
        const d = live.get(vm.name);
        if (!d) {
          if (vm.state !== 'UNDEFINED') set(vm.name, 'failed', 'not defined in libvirt any more (refresh records that)');
          return;
        }
        if (!isActive(d.state)) return set(vm.name, 'already-off', `was already ${vmStateOf(d.state)}; nothing to do`);
        if ((await domainHolder(s.host, vm.name, lineage, state.cluster_name)) !== 'ours') {
          return set(vm.name, 'failed', 'not created by Clusterdesk for this state; left alone');
        }
        targets.push(vm.name);
      }),
    );

    // Phase 1: every request goes out before anyone waits, so the deadline below is shared by all VMs.
    await Promise.all(
      targets.map(async (name) => {
        const st = live.get(name)!.state;
        ctx.progress({ target: name, step: 'shutdown', value: 0.2, message: `Asking ${name} to shut down` });
        try {
          // A paused guest cannot react to the ACPI request; let it run so it can shut down cleanly.
          if (st === 'PAUSED') await s.host.resumeDomain(name);
          if (st !== 'SHUTDOWN') await s.host.shutdownDomain(name);
        } catch (err) {
          const message = toErrorData(err).message;
          ctx.progress({ target: name, step: 'shutdown', value: 0.2, level: 'warn', message: `Shutdown request failed (${message}); it will be forced off` });
        }
      }),
    );
    await s.saveHost();

    // Phase 2: one deadline for all, polled with one bulk read per tick.
    const remaining = new Set(targets);
    const deadline = Date.now() + timeoutSec * 1000;
    let cancelled = false;
    if (remaining.size > 0)
      ctx.progress({ target: '', step: 'wait', value: null, message: `Waiting up to ${timeoutSec} s for ${remaining.size} VM(s) to shut down` });
    while (remaining.size > 0) {
      const now = await liveDomains(s.host);
      for (const name of [...remaining]) {
        const d = now.get(name);
        if (d && isActive(d.state)) continue;
        remaining.delete(name);
        set(name, 'stopped');
        ctx.progress({ target: name, step: 'stopped', value: 1, message: `${name} shut down` });
      }
      const left = deadline - Date.now();
      if (remaining.size === 0 || left <= 0) break;
      if (!(await sleep(Math.min(env.pollIntervalMs, left), ctx.signal))) {
        cancelled = true;
        break;
      }
    }

    // Phase 3: force off whoever ignored the request.
    if (!cancelled) {
      await Promise.all(
        [...remaining].map(async (name) => {
          ctx.progress({
            target: name,
            step: 'force-off',
            value: 0.8,
            level: 'warn',
            message: `${name} did not shut down within ${timeoutSec} s; forcing it off`,
          });
          try {
            await s.host.destroyDomain(name);
            set(name, 'forced', `did not shut down within ${timeoutSec} s; forced off`);
          } catch (err) {
            // It may have gone off by itself after the last poll (libvirt: "domain is not running"): then it stopped.
            const now = await s.host.getDomain(name).catch(() => null);
            if (now && !isActive(now.state)) set(name, 'stopped', `shut down as the ${timeoutSec} s timeout passed`);
            else set(name, 'failed', toErrorData(err).message, err);
          }
        }),
      );
    }

    const final = await liveDomains(s.host);
    s.update((st) => {
      const next = recordLive(st, final);
      return { ...next, status: deriveStatus(next.vms) };
    });
    await s.checkpoint();
    if (cancelled) throw cancelledError();
    const ordered = state.vms.map((v) => outcomes.get(v.name)).filter((o): o is TargetOutcome => o !== undefined);
    ctx.progress({ target: '', step: 'done', value: 1, message: `Cluster ${state.cluster_name} is ${s.state!.status}` });
    return { outcomes: ordered };
  });
}
