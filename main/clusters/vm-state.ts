/** libvirt domain states → the AI-HOW VM states, which actions each state allows, and the cluster status. */
import { assertNever, type VmAction } from '../../preload/contract';
import { vmActionsFor } from '../../preload/vm-actions';
import { AppError } from '../errors';
import type { ClusterStateStatus, VmRecord, VmState } from '../state';
import type { DomainState } from './libvirt/types';

/** docs/architecture.md (Clusters and libvirt): RUNNING and BLOCKED → RUNNING, SHUTDOWN → DYING, NOSTATE → UNDEFINED, the rest by name. */
export function vmStateOf(state: DomainState): VmState {
  switch (state) {
    case 'RUNNING':
    case 'BLOCKED':
      return 'RUNNING';
    case 'PAUSED':
      return 'PAUSED';
    case 'SHUTDOWN':
      return 'DYING';
    case 'SHUTOFF':
      return 'SHUTOFF';
    case 'CRASHED':
      return 'CRASHED';
    case 'PMSUSPENDED':
      return 'PMSUSPENDED';
    case 'NOSTATE':
      return 'UNDEFINED';
    default:
      return assertNever(state);
  }
}

/** Is a domain in this state active (libvirt would have to destroy it before undefining its disks)? */
export function isActive(state: DomainState): boolean {
  return state !== 'SHUTOFF' && state !== 'NOSTATE';
}

/** The per-VM actions libvirt accepts in a live domain state (the rule shared with the renderer's menu). */
export function allowedActions(state: DomainState): readonly VmAction[] {
  return vmActionsFor(vmStateOf(state));
}

/** Refuses an action libvirt would refuse, saying which state it needs. */
export function checkAction(vm: string, action: VmAction, state: DomainState): void {
  if (allowedActions(state).includes(action)) return;
  const needs: Record<VmAction, string> = {
    start: 'SHUTOFF or CRASHED',
    shutdown: 'RUNNING',
    'force-off': 'an active state (RUNNING, PAUSED, DYING, PMSUSPENDED)',
    pause: 'RUNNING',
    resume: 'PAUSED',
    reboot: 'RUNNING',
  };
  throw new AppError('state-wrong-status', `Cannot ${action} ${vm}: it is ${vmStateOf(state)}, and ${action} needs ${needs[action]}.`, {
    hint: 'Refresh to see the VM’s current state.',
    details: { vm, action, state: vmStateOf(state) },
  });
}

/**
 * The cluster status from its VMs: `running` when every expected VM runs, `stopped` when every one that exists is
 * off, `error` when one crashed, otherwise `partial`. `expected` is how many VMs the cluster should have (the plan),
 * so a start that created only some of them never reads as running.
 */
export function deriveStatus(vms: readonly Pick<VmRecord, 'state'>[], expected: number = vms.length): ClusterStateStatus {
  // One pass, no filtered copy (a 40,000-VM status calls this once per refresh).
  let live = 0;
  let off = 0;
  let running = 0;
  for (let i = 0; i < vms.length; i++) {
    const state = vms[i]!.state;
    if (state === 'UNDEFINED') continue;
    if (state === 'CRASHED') return 'error';
    live++;
    if (state === 'SHUTOFF') off++;
    else if (state === 'RUNNING') running++;
  }
  if (live === 0) return vms.length === 0 && expected > 0 ? 'partial' : 'stopped';
  if (off === live) return 'stopped';
  if (running === live) return live >= expected ? 'running' : 'partial';
  return 'partial';
}
