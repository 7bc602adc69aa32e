/** Small, locale-independent formatters so tables read the same on every machine and in tests. */
import type { BackupEntry, DriftItem, ErrorData, ImportPreview, WorkspaceSnapshot } from '../../../preload/contract';
import { assertNever } from '../../../preload/contract';
import { lineageAfterRestore, serialAfterRestore } from '../../../preload/restore-plan';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2024-05-01 13:04:05` in local time, or an em dash for null / unparseable input. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** First 8 characters of a lineage UUID: enough to tell two apart at a glance. */
export function shortLineage(lineage: string | null | undefined): string {
  return lineage ? lineage.slice(0, 8) : '—';
}

export function formatMemory(gb: number): string {
  return Number.isInteger(gb) ? `${gb} GB` : `${gb.toFixed(1)} GB`;
}

/** One "before → after" line of a restore or import confirmation. */
export interface ChangeRow {
  readonly label: string;
  readonly from: string;
  readonly to: string;
  readonly changed: boolean;
}

function row(label: string, from: string, to: string): ChangeRow {
  return { label, from, to, changed: from !== to };
}

function countOf(snapshot: WorkspaceSnapshot): number | null {
  if (snapshot.error) return null;
  if (snapshot.cluster) return snapshot.cluster.vms.length;
  if (snapshot.federation) return snapshot.federation.machines.length;
  return null;
}

const orDash = (v: string | number | null | undefined): string => (v === null || v === undefined ? '—' : String(v));

/**
 * What restoring `backup` over the current state changes: status, serial, lineage and VM / machine count — the
 * serial and lineage being what the store will really write (a new generation after every known one, under the
 * current lineage; preload/restore-plan.ts), not the backup's own. `backups` is the full list the dialog came from.
 */
export function restoreChanges(current: WorkspaceSnapshot, backup: BackupEntry, backups: readonly BackupEntry[] = [backup]): readonly ChangeRow[] {
  const unit = current.kind === 'cluster' ? 'VMs' : 'Machines';
  const file = { serial: current.serial, unreadable: Boolean(current.error), lineage: current.lineage };
  return [
    row('Status', orDash(current.error ? 'error' : current.status), orDash(backup.status)),
    row(unit, orDash(countOf(current)), orDash(backup.count)),
    row('Serial', orDash(current.serial), String(serialAfterRestore(file, backups))),
    row('Lineage', shortLineage(current.lineage), shortLineage(lineageAfterRestore(file, backup))),
  ];
}

/** Current → incoming rows of an import preview. */
export function importChanges(preview: ImportPreview): readonly ChangeRow[] {
  return [
    row('Status', orDash(preview.current.status), orDash(preview.incoming.status)),
    // What will really be written (past every history generation), not the bundle's own serial; identical: nothing.
    row(
      'Serial',
      orDash(preview.current.serial),
      preview.writeSerial === null ? orDash(preview.current.serial) : String(preview.writeSerial ?? preview.incoming.serial),
    ),
    row('Lineage', shortLineage(preview.current.lineage), shortLineage(preview.incoming.lineage)),
  ];
}

/** Which overrides an import verdict needs before Apply can succeed. */
export function importNeeds(verdict: ImportPreview['verdict']): { readonly force: boolean; readonly adopt: boolean; readonly noop: boolean } {
  switch (verdict) {
    case 'accept':
      return { force: false, adopt: false, noop: false };
    case 'needs-force':
      return { force: true, adopt: false, noop: false };
    case 'needs-adopt':
      return { force: false, adopt: true, noop: false };
    case 'identical':
      return { force: false, adopt: false, noop: true };
    default:
      return assertNever(verdict);
  }
}

const RESOURCE_LABEL: Record<DriftItem['resource'], string> = {
  vm: 'VM',
  network: 'Network',
  volume: 'Volume',
  pool: 'Storage pool',
  machine: 'Machine',
};

/** One sentence per drift item, e.g. `VM node-1: recorded RUNNING, actually SHUTOFF`. */
export function describeDrift(item: DriftItem): string {
  const what = `${RESOURCE_LABEL[item.resource]} ${item.name}`;
  switch (item.kind) {
    case 'missing':
      return `${what}: recorded${item.recorded ? ` (${item.recorded})` : ''} but missing from libvirt`;
    case 'unrecorded':
      return `${what}: exists${item.actual ? ` (${item.actual})` : ''} but is not recorded`;
    case 'state-differs':
      return `${what}: recorded ${orDash(item.recorded)}, actually ${orDash(item.actual)}`;
    case 'ip-differs':
      return `${what}: recorded IP ${orDash(item.recorded)}, actually ${orDash(item.actual)}`;
    default:
      return assertNever(item.kind);
  }
}

/** Where an error points: `path:line`, the field, the host — whatever the error carries. */
export function errorLocation(error: ErrorData): string | null {
  const parts: string[] = [];
  if (error.path) parts.push(error.line ? `${error.path}:${error.line}` : error.path);
  else if (error.line) parts.push(`line ${error.line}`);
  if (error.field) parts.push(`field ${error.field}`);
  if (error.host) parts.push(`host ${error.host}`);
  return parts.length ? parts.join(' · ') : null;
}
