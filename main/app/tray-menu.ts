import type { WorkspaceSnapshot } from '../../preload/contract';
import { operationLabel } from '../../preload/operation-labels';
import { actionsFor, workspaceStatus } from '../../preload/workspace-actions';

/** The tray icon variants (assets/tray-<name>.png). */
export type TrayIcon = 'idle' | 'busy' | 'error' | 'drift';

/** What a tray item does; the Electron glue maps it to the same service calls the window's buttons make. */
export type TrayAction =
  | { readonly kind: 'show-window' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'cluster'; readonly op: 'start' | 'stop' | 'refresh'; readonly workspaceId: string }
  | { readonly kind: 'federation'; readonly op: 'start' | 'stop' | 'clean' | 'probe'; readonly workspaceId: string };

export interface TrayItem {
  readonly label: string;
  readonly enabled: boolean;
  readonly action?: TrayAction;
  readonly submenu?: readonly TrayItem[];
  readonly separator?: boolean;
}

export interface TrayModel {
  readonly icon: TrayIcon;
  readonly tooltip: string;
  readonly items: readonly TrayItem[];
}

const SEPARATOR: TrayItem = { label: '', enabled: false, separator: true };

/**
 * The tray, as a pure function of the snapshots: one overall status on the icon, one submenu per workspace with its
 * quick actions enabled only where they make sense. The glue rebuilds the native menu from this on every change.
 */
export function trayModel(snapshots: readonly WorkspaceSnapshot[]): TrayModel {
  const busy = snapshots.filter((s) => s.operation !== null);
  const broken = snapshots.filter((s) => s.error !== null || s.status === 'error' || s.status === 'partial');
  const drifting = snapshots.filter((s) => s.cluster?.vms.some((vm) => vm.drift) ?? false);
  const icon: TrayIcon = busy.length ? 'busy' : broken.length ? 'error' : drifting.length ? 'drift' : 'idle';
  const running = snapshots.filter((s) => s.status === 'running').length;
  const parts = [`${snapshots.length} workspace${snapshots.length === 1 ? '' : 's'}`, `${running} running`];
  if (busy.length) parts.push(`${busy.length} busy`);
  if (broken.length) parts.push(`${broken.length} need attention`);
  const items: TrayItem[] = [{ label: 'Show Clusterdesk', enabled: true, action: { kind: 'show-window' } }, SEPARATOR];
  if (snapshots.length === 0) items.push({ label: 'No workspaces yet', enabled: false });
  for (const s of snapshots) items.push({ label: `${s.name} — ${statusLabel(s)}`, enabled: true, submenu: workspaceItems(s) });
  items.push(SEPARATOR, { label: 'Quit', enabled: true, action: { kind: 'quit' } });
  return { icon, tooltip: `Clusterdesk: ${parts.join(', ')}`, items };
}

function statusLabel(s: WorkspaceSnapshot): string {
  if (s.operation) return `${operationLabel(s.operation.name)}…`;
  if (s.error) return s.error.code;
  return workspaceStatus(s);
}

/** The quick actions, enabled by the same rule as the window's buttons (preload/workspace-actions.ts). */
function workspaceItems(s: WorkspaceSnapshot): TrayItem[] {
  const id = s.id;
  const can = actionsFor(s, false);
  if (s.kind === 'cluster') {
    return [
      { label: 'Start', enabled: can.cluster.start.allowed, action: { kind: 'cluster', op: 'start', workspaceId: id } },
      { label: 'Stop', enabled: can.cluster.stop.allowed, action: { kind: 'cluster', op: 'stop', workspaceId: id } },
      { label: 'Refresh', enabled: can.cluster.refresh.allowed, action: { kind: 'cluster', op: 'refresh', workspaceId: id } },
    ];
  }
  return [
    { label: 'Start', enabled: can.federation.start.allowed, action: { kind: 'federation', op: 'start', workspaceId: id } },
    { label: 'Probe', enabled: can.federation.probe.allowed, action: { kind: 'federation', op: 'probe', workspaceId: id } },
    { label: 'Stop', enabled: can.federation.stop.allowed, action: { kind: 'federation', op: 'stop', workspaceId: id } },
    { label: 'Clean', enabled: can.federation.clean.allowed, action: { kind: 'federation', op: 'clean', workspaceId: id } },
  ];
}
