import { createHash } from 'node:crypto';
import type { ImportPreview, WorkspaceKind } from '../../preload/contract';
import { AppError } from '../errors';
import { redactSecrets } from '../secrets/redact';
import { SERIAL_MAX } from '../state';

export const BUNDLE_FORMAT = 'clusterdesk-state-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** A `.cdstate` file: one workspace's state plus what is needed to apply Terraform's push rules to it. */
export interface StateBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly format_version: number;
  readonly app_version: string;
  readonly exported_at: string;
  readonly workspace: { readonly kind: WorkspaceKind; readonly name: string };
  readonly lineage: string;
  readonly serial: number;
  readonly redacted: { readonly secrets: number; readonly home_paths: boolean };
  readonly state: Record<string, unknown>;
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  readonly sha256: string;
}

/** JSON with object keys sorted at every level, so the checksum does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function checksumOf(bundle: Omit<StateBundle, 'sha256'>): string {
  return createHash('sha256').update(canonicalJson(bundle)).digest('hex');
}

/** What a shared file must not carry besides secrets: SSH agent sockets (keys by name, values by shape). */
const AGENT_SOCKET_KEY = /^(ssh_)?auth_?sock$/i;
const AGENT_SOCKET_VALUE = /\/agent\.\d+$|\/ssh-[A-Za-z0-9]+\/agent/;

export interface RedactOptions {
  /** Replace the home folder prefix (e.g. /home/alice) with `~`. */
  readonly homeDirs?: readonly string[];
}

/**
 * Makes a state shareable: the app's one redaction (main/secrets/redact.ts: secret keys removed, secret values
 * replaced with `[redacted]`), SSH agent sockets dropped, and optionally home-folder prefixes replaced with `~`.
 * Returns the cleaned copy and how many secrets were removed.
 */
export function redact(value: unknown, opts: RedactOptions = {}): { value: unknown; removed: number } {
  const secrets = redactSecrets(value);
  let removed = secrets.removed.length;
  const homes = (opts.homeDirs ?? []).filter((h) => h.length > 1).map((h) => h.replace(/\/+$/, ''));
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (AGENT_SOCKET_VALUE.test(v)) {
        removed++;
        return undefined;
      }
      for (const h of homes) if (v === h || v.startsWith(`${h}/`)) return `~${v.slice(h.length)}`;
      return v;
    }
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== undefined);
    if (v && typeof v === 'object') {
      const out: [string, unknown][] = [];
      for (const [k, x] of Object.entries(v)) {
        if (AGENT_SOCKET_KEY.test(k)) {
          removed++;
          continue;
        }
        const w = walk(x);
        if (w !== undefined) out.push([k, w]);
      }
      return Object.fromEntries(out);
    }
    return v;
  };
  return { value: walk(secrets.value), removed };
}

/** Builds a bundle (already redacted state in, checksum out). */
export function makeBundle(fields: Omit<StateBundle, 'sha256' | 'format' | 'format_version'>): StateBundle {
  const body = { format: BUNDLE_FORMAT, format_version: BUNDLE_FORMAT_VERSION, ...fields } as const;
  return { ...body, sha256: checksumOf(body) };
}

function invalid(message: string, hint = 'Ask for a fresh export; the file was changed or cut short on its way.'): AppError {
  return new AppError('bundle-invalid', message, { hint });
}

/** Parses and verifies a bundle's text: JSON, shape, format version, checksum. State validation is the caller's. */
export function parseBundle(text: string): StateBundle {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw invalid(`The bundle is not valid JSON (${(err as Error).message}).`);
  }
  const b = data as Partial<StateBundle> | null;
  if (!b || typeof b !== 'object' || b.format !== BUNDLE_FORMAT)
    throw invalid('This is not a Clusterdesk state bundle (.cdstate).', 'Choose a file exported by Clusterdesk.');
  if (b.format_version !== BUNDLE_FORMAT_VERSION) {
    throw invalid(
      `Bundle format version ${String(b.format_version)} is not supported (this Clusterdesk reads ${BUNDLE_FORMAT_VERSION}).`,
      'Update Clusterdesk.',
    );
  }
  if (
    typeof b.sha256 !== 'string' ||
    typeof b.lineage !== 'string' ||
    typeof b.serial !== 'number' ||
    !b.workspace ||
    (b.workspace.kind !== 'cluster' && b.workspace.kind !== 'federation') ||
    !b.state ||
    typeof b.state !== 'object'
  ) {
    throw invalid('The bundle is missing required fields (workspace, lineage, serial, state, sha256).');
  }
  if (!Number.isSafeInteger(b.serial) || b.serial < 0 || b.serial >= SERIAL_MAX) {
    // A checksum is not a signature: a crafted serial at the ceiling would make every later write fail.
    throw invalid(
      `The bundle's serial ${String(b.serial)} is not a whole number from 0 to ${SERIAL_MAX - 1}.`,
      'Clusterdesk never exports such a serial; ask for a fresh export.',
    );
  }
  const { sha256, ...body } = b as StateBundle;
  if (checksumOf(body) !== sha256) throw invalid('The bundle checksum does not match its content: it was modified or truncated.');
  return b as StateBundle;
}

export interface CurrentState {
  readonly serial: number | null;
  readonly lineage: string | null;
  readonly status: string | null;
  readonly state: Record<string, unknown> | null;
}

/** The fields that differ only because a file was written again; ignored when comparing content. */
const VOLATILE = new Set(['serial', 'lineage', 'version', 'last_modified']);

function contentOf(state: Record<string, unknown>): string {
  return canonicalJson(Object.fromEntries(Object.entries(state).filter(([k]) => !VOLATILE.has(k))));
}

/** Named items of a state (VMs or machines) for the preview diff. */
function itemsOf(state: Record<string, unknown> | null): Map<string, string> {
  const items = new Map<string, string>();
  if (!state) return items;
  const vms = state.vms;
  const data = state.data as { machines?: unknown } | undefined;
  const list = Array.isArray(vms) ? vms : Array.isArray(data?.machines) ? data.machines : [];
  for (const it of list as Record<string, unknown>[]) {
    const name = typeof it?.name === 'string' ? it.name : null;
    if (name) items.set(name, canonicalJson(it));
  }
  return items;
}

/**
 * Terraform's push rules applied to an import: an empty workspace accepts; the same lineage with a higher serial
 * accepts; the same lineage with a lower or equal serial and different content needs force (`state-stale`);
 * another lineage needs adopt (`state-foreign`). Identical content is a no-op.
 */
export function previewImport(current: CurrentState, bundle: StateBundle, incomingStatus: string | null): ImportPreview {
  const cur = itemsOf(current.state);
  const inc = itemsOf(bundle.state);
  const added = [...inc.keys()].filter((k) => !cur.has(k));
  const removed = [...cur.keys()].filter((k) => !inc.has(k));
  const changed = [...inc.keys()].filter((k) => cur.has(k) && cur.get(k) !== inc.get(k));
  const base = {
    current: { serial: current.serial, lineage: current.lineage, status: current.status },
    incoming: { serial: bundle.serial, lineage: bundle.lineage, status: incomingStatus },
    added,
    removed,
    changed,
  };
  if (!current.state) return { ...base, verdict: 'accept', reason: 'The workspace has no state yet.' };
  if (current.lineage !== bundle.lineage) {
    return {
      ...base,
      verdict: 'needs-adopt',
      reason: `The bundle belongs to another deployment (lineage ${bundle.lineage.slice(0, 8)} ≠ ${String(current.lineage).slice(0, 8)}). Adopt it only if it replaces this one.`,
    };
  }
  if (contentOf(current.state) === contentOf(bundle.state))
    return { ...base, verdict: 'identical', reason: 'The bundle holds the same content as the current state.' };
  if (current.serial !== null && bundle.serial > current.serial) {
    return { ...base, verdict: 'accept', reason: `Newer state of the same deployment (serial ${current.serial} → ${bundle.serial}).` };
  }
  return {
    ...base,
    verdict: 'needs-force',
    reason: `The bundle is older than or as old as the current state (serial ${bundle.serial} ≤ ${String(current.serial)}) but differs. Force it only if you know the current state is wrong.`,
  };
}
