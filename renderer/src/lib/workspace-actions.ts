/**
 * The window's view of the one rule in preload/workspace-actions.ts (shared with the tray and the CLI): which
 * workspace buttons are enabled, and the sentence their tooltip gives when not.
 */
export { actionsFor, reasonOf, type Verdict } from '../../../preload/workspace-actions';
