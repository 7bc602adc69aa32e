/** The per-VM actions, in menu order, with their labels; which of them a state allows is `vmActionsFor`. */
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

/** The rule itself is shared with main. */
export { vmActionsFor } from '../../../preload/vm-actions';
