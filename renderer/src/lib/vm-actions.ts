/** Which per-VM actions libvirt accepts in which domain state. */
import type { VmAction } from '../../../preload/contract';

/** Every action in menu order, with its label. */
export const VM_ACTIONS: readonly { readonly action: VmAction; readonly label: string }[] = [
  { action: 'start', label: 'Start' },
  { action: 'shutdown', label: 'Shut down' },
  { action: 'reboot', label: 'Reboot' },
  { action: 'pause', label: 'Pause' },
  { action: 'resume', label: 'Resume' },
  { action: 'force-off', label: 'Force off' },
];

/**
 * The actions libvirt allows for a VM in `state` (the recorded AI-HOW state name).
 *
 * Mirrors libvirt's own preconditions so the menu never offers a call that can only fail: `virDomainCreate` needs an
 * inactive domain, shutdown/reboot/suspend need a running one, resume a paused one, and `virDomainDestroy` (force off)
 * works on any active domain. An UNDEFINED VM does not exist in libvirt, so nothing applies; unknown states get
 * nothing either rather than a guess.
 */
export function vmActionsFor(state: string): readonly VmAction[] {
  switch (state) {
    case 'SHUTOFF':
    case 'CRASHED':
      return ['start'];
    case 'RUNNING':
      return ['shutdown', 'force-off', 'pause', 'reboot'];
    case 'PAUSED':
      return ['resume', 'force-off'];
    case 'PMSUSPENDED':
    case 'DYING':
      return ['force-off'];
    default:
      return [];
  }
}
