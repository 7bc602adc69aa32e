/** Per-VM actions: start, shutdown, force-off, pause, resume, reboot — each only where libvirt allows it. */
import { assertNever, type VmAction } from '../../preload/contract';
import { actionHint, AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow } from '../state';
import type { ClusterEnv } from './env';
import type { LibvirtHost } from './libvirt/types';
import { domainHolder } from './ownership';
import { patchVm } from './records';
import type { ClusterOpResult } from './start';
import { withSession } from './session';
import { checkAction, deriveStatus, vmStateOf } from './vm-state';
import { loadConfig, type ClusterWorkspace } from './workspace';

async function perform(host: LibvirtHost, vm: string, action: VmAction): Promise<void> {
  switch (action) {
    case 'start':
      return host.startDomain(vm);
    case 'shutdown':
      return host.shutdownDomain(vm);
    case 'force-off':
      return host.destroyDomain(vm);
    case 'pause':
      return host.suspendDomain(vm);
    case 'resume':
      return host.resumeDomain(vm);
    case 'reboot':
      return host.rebootDomain(vm);
    default:
      return assertNever(action);
  }
}

/** Runs one action on one recorded VM of ours and records the state it leaves the VM in. */
export async function vmAction(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext, vm: string, action: VmAction): Promise<ClusterOpResult> {
  const config = await loadConfig(ws, env.processEnv);
  return withSession(env, ws, { operation: 'cluster:vm-action', uri: config.uri, clusterName: config.clusterName }, ctx, async (s) => {
    const state = await s.tx.read();
    const record = state?.vms.find((v) => v.name === vm);
    if (!state || !record) {
      throw new AppError('not-found', `${vm} is not a VM of this cluster's recorded state.`, {
        path: ws.statePath,
        hint: actionHint({
          cli: 'Only recorded VMs can be acted on; see them with `clusterdesk hpc status`.',
          ui: 'Click Refresh; only recorded VMs can be acted on.',
        }),
      });
    }
    s.set(state);
    const info = await s.host.getDomain(vm);
    if (!info) {
      throw new AppError('not-found', `${vm} is recorded but does not exist in libvirt.`, {
        host: s.host.uri,
        hint: actionHint({
          cli: 'Record that it is gone with `clusterdesk hpc refresh --apply`, or re-create it with `clusterdesk hpc start`.',
          ui: 'Click Refresh and apply it to record that it is gone, or click Start to re-create it.',
        }),
      });
    }
    if ((await domainHolder(s.host, vm, state.lineage ?? '', state.cluster_name)) !== 'ours') {
      throw new AppError('libvirt-conflict', `${vm} on ${s.host.uri} was not created by Clusterdesk for this state; refusing to ${action} it.`, {
        host: s.host.uri,
      });
    }
    checkAction(vm, action, info.state);
    s.checkCancelled();
    ctx.progress({ target: vm, step: action, value: 0.3, message: `${action} ${vm}` });
    await perform(s.host, vm, action).catch(async (err: unknown) => {
      // The VM changed state since the check (libvirt: "domain is not running"): the same answer as the check's.
      const now = await s.host.getDomain(vm).catch(() => null);
      if (now) checkAction(vm, action, now.state);
      throw err;
    });
    const after = await s.host.getDomain(vm);
    const now = vmStateOf(after?.state ?? 'NOSTATE');
    s.update((st) => {
      const next = patchVm(st, vm, { state: now, last_seen: isoNow() });
      return { ...next, status: deriveStatus(next.vms, Math.max(next.vms.length, config.result.plan?.vms.length ?? 0)) };
    });
    await s.checkpoint();
    ctx.progress({ target: vm, step: 'done', value: 1, message: `${vm} is ${now}` });
    return { outcomes: [{ target: vm, result: now, message: `${action}: ${vmStateOf(info.state)} → ${now}` }] };
  });
}
