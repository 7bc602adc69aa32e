/**
 * Which per-VM actions libvirt accepts in which recorded VM state — one rule for main (which refuses the others) and
 * the renderer (whose menu greys them out).
 */
import type { VmAction } from './contract';

/**
 * The actions libvirt allows for a VM in `state` (the recorded AI-HOW state name).
 *
 * Mirrors libvirt's own preconditions so nothing offers a call that can only fail: `virDomainCreate` needs an inactive
 * domain, shutdown/reboot/suspend need a running one, resume a paused one, and `virDomainDestroy` (force off) works
 * on any active domain. An UNDEFINED VM does not exist in libvirt, so nothing applies; unknown states get nothing
 * either rather than a guess.
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
