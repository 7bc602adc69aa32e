import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { ExportedBundle, ImportPreview, WorkspaceKind } from '../../preload/contract';
import { AppError, isAppError } from '../errors';
import { FOREIGN_FORMATS, needsAdoptionError, parseState, replaceFile, summarize, type AnyState, type StateStore, type StateTarget } from '../state';
import { serialAfterImport } from '../../preload/restore-plan';
import { makeBundle, parseBundle, previewImport, redact, type CurrentState, type StateBundle } from './bundle';

/** What export and import need to know about a workspace (the registry's entry, or the CLI's ad-hoc one). */
export interface ShareTarget {
  readonly kind: WorkspaceKind;
  readonly name: string;
  readonly target: StateTarget;
}

export interface ExportOptions {
  /** Also write the bundle to this file (0600, atomically). */
  readonly file?: string;
  /** Replace the home folder with `~` in every path. */
  readonly redactHome?: boolean;
  readonly appVersion: string;
}

/**
 * Exports a workspace's state as a `.cdstate` bundle. A plain read (the state engine's writes are atomic renames),
 * so export never holds the write lock and never waits for a running operation.
 */
export async function exportState(store: StateStore, ws: ShareTarget, opts: ExportOptions): Promise<ExportedBundle & { bundle: StateBundle }> {
  const loaded = await store.loadWithFormat(ws.target);
  const state = loaded?.state ?? null;
  if (!state) {
    throw new AppError('not-found', `${ws.name} has no recorded state to export.`, {
      path: ws.target.file,
      hint: 'Start the deployment first, or import a bundle into it.',
    });
  }
  // A file written by ReFedEz / AI-HOW has no lineage or serial yet: a bundle of it could never be applied safely.
  if (FOREIGN_FORMATS.has(loaded!.format) || typeof state.lineage !== 'string' || typeof state.serial !== 'number') {
    throw needsAdoptionError(ws.target.file, loaded!.format, 'export');
  }
  const homes = opts.redactHome ? [homedir(), ...(process.env.HOME && process.env.HOME !== homedir() ? [process.env.HOME] : [])] : [];
  const { value, removed } = redact(state, { homeDirs: homes });
  const bundle = makeBundle({
    app_version: opts.appVersion,
    exported_at: new Date().toISOString(),
    workspace: { kind: ws.kind, name: ws.name },
    lineage: String(state.lineage),
    serial: Number(state.serial),
    redacted: { secrets: removed, home_paths: homes.length > 0 },
    state: value as Record<string, unknown>,
  });
  const content = `${JSON.stringify(bundle, null, 2)}\n`;
  let savedTo: string | null = null;
  if (opts.file) {
    savedTo = resolve(opts.file);
    await writeFileAtomic(savedTo, content);
  }
  return { fileName: `${safeFileName(ws.name)}.cdstate`, content, savedTo, bundle };
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'state';
}

async function writeFileAtomic(file: string, text: string): Promise<void> {
  try {
    await replaceFile(file, text, { mode: 0o600 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AppError(e.code === 'EACCES' || e.code === 'EPERM' ? 'state-permission' : 'state-io', `Cannot write ${file}: ${e.code ?? e.message}.`, {
      path: file,
      hint: 'Choose a folder you can write to.',
    });
  }
}

/** Parses a bundle and validates its state for this workspace (kind, schema, cluster name). */
export function readBundle(ws: ShareTarget, content: string): { bundle: StateBundle; state: AnyState } {
  const bundle = parseBundle(content);
  if (bundle.workspace.kind !== ws.kind) {
    throw new AppError('bundle-invalid', `The bundle holds a ${bundle.workspace.kind} state; ${ws.name} is a ${ws.kind}.`, {
      hint: `Import it into a ${bundle.workspace.kind} workspace.`,
    });
  }
  let state: AnyState;
  try {
    state = parseState(ws.kind, JSON.stringify(bundle.state), `${bundle.workspace.name}.cdstate`).state;
  } catch (err) {
    if (isAppError(err)) throw new AppError('bundle-invalid', `The bundle's state is not valid: ${err.message}`, { hint: 'Ask for a fresh export.' });
    throw err;
  }
  if (ws.kind === 'cluster' && ws.target.clusterName && 'cluster_name' in state && state.cluster_name !== ws.target.clusterName) {
    throw new AppError('state-mismatch', `The bundle records cluster ${state.cluster_name}, but ${ws.name} is cluster ${ws.target.clusterName}.`, {
      path: ws.target.file,
      hint: 'Import it into the workspace of that cluster (multiple clusters must not share one state file).',
    });
  }
  return { bundle, state };
}

function currentOf(state: AnyState | null): CurrentState {
  if (!state) return { serial: null, lineage: null, status: null, state: null };
  return { serial: state.serial ?? null, lineage: state.lineage ?? null, status: summarize(state).status, state: state as Record<string, unknown> };
}

/** The preview of an import: the diff against the current state and the verdict of Terraform's push rules. */
export async function previewStateImport(store: StateStore, ws: ShareTarget, content: string): Promise<ImportPreview> {
  const { bundle, state } = readBundle(ws, content);
  // The lineage check is the preview's job here (it answers needs-adopt), not a reason to fail the read.
  const current = await store.load({ ...ws.target, lineage: undefined });
  const preview = previewImport(currentOf(current), bundle, summarize(state).status);
  if (preview.verdict === 'identical') return { ...preview, writeSerial: null };
  const backups = await store.backups(ws.target);
  const file = { serial: current?.serial ?? null, unreadable: false, lineage: current?.lineage ?? null };
  return { ...preview, writeSerial: serialAfterImport(file, backups, bundle.serial) };
}

/**
 * Applies an import under the state lock: refuses a stale bundle unless forced (`state-stale`) and another lineage
 * unless adopted (`state-foreign`). The current state stays in history, so an import is undone with restore.
 */
export async function importState(
  store: StateStore,
  ws: ShareTarget,
  content: string,
  opts: { force: boolean; adopt: boolean; signal?: AbortSignal },
): Promise<{ preview: ImportPreview; written: boolean; lineage: string }> {
  const { bundle, state } = readBundle(ws, content);
  return store.transaction(
    { ...ws.target, lineage: undefined },
    'import',
    async (tx) => {
      const current = await tx.read();
      const preview = previewImport(currentOf(current), bundle, summarize(state).status);
      switch (preview.verdict) {
        case 'identical':
          return { preview, written: false, lineage: String(current?.lineage ?? bundle.lineage) };
        case 'needs-force':
          if (!opts.force) {
            throw new AppError('state-stale', `${preview.reason}`, {
              path: ws.target.file,
              hint: 'Re-run with force to overwrite (the current state stays in history).',
            });
          }
          break;
        case 'needs-adopt':
          if (!opts.adopt) {
            throw new AppError('state-foreign', `${preview.reason}`, {
              path: ws.target.file,
              hint: 'Re-run with adopt to replace this deployment’s state (the current one stays in history).',
            });
          }
          break;
        case 'accept':
          break;
      }
      const written = await tx.write({ ...state, lineage: bundle.lineage } as AnyState, {
        adoptLineage: current === null || preview.verdict === 'needs-adopt',
        minSerial: bundle.serial,
      });
      return { preview, written: true, lineage: written.lineage };
    },
    opts.signal ? { signal: opts.signal } : {},
  );
}
