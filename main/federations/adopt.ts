/**
 * Adoption of a federation state written by ReFedEz itself (`machines[].closure.machine…`, `tmp_dir` = `/tmp/<uuid4>`,
 * possibly a password in `remote_credentials`). The adopted state keeps every field ReFedEz wrote except secrets
 * (`deployed_files_path`, the closure's `identifier` and `src_uv_project_path` as `refedez_closure`), gets a lineage
 * and a serial, and each machine is marked `origin: "refedez"` so clean accepts ReFedEz's folder names for it.
 */
import { readFile } from 'node:fs/promises';
import type { AdoptionItem, AdoptionPreview } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { stripSecrets, type FederationState, type LoadedState, type MachineRecord } from '../state';
import { machinesOf, settingsOf, stateTargetOf, type FederationEnv, type FederationWorkspace } from './env';
import { tmpDirRefusal } from './paths';

function itemsOf(state: FederationState, tempRoot: string): AdoptionItem[] {
  return machinesOf(state).map((m): AdoptionItem => {
    const why = tmpDirRefusal(m.tmp_dir, tempRoot, 'refedez');
    const where = m.kind === 'local' ? 'this computer' : `${m.user ? `${m.user}@` : ''}${m.host}${m.port && m.port !== 22 ? `:${m.port}` : ''}`;
    return {
      kind: 'machine',
      name: m.name,
      detail: `${where}: ${m.tmp_dir || '(no folder)'}`,
      matched: why === null,
      reason:
        why === null
          ? "ReFedEz's /tmp/<uuid4> folder: stop signals it, clean removes it once its real path is checked on the machine"
          : `clean will refuse this folder (${why}); stop can still signal it`,
    };
  });
}

function keptFieldsOf(state: FederationState): string[] {
  const kept = new Set<string>();
  const data = state.data as Record<string, unknown>;
  for (const key of Object.keys(data)) if (key !== 'machines') kept.add(`data.${key}`);
  for (const m of machinesOf(state) as unknown as Record<string, unknown>[]) {
    for (const key of Object.keys(m))
      if (!['name', 'kind', 'host', 'port', 'user', 'tmp_dir', 'started_at', 'pid'].includes(key)) kept.add(`data.machines[].${key}`);
  }
  return [...kept].sort();
}

async function secretsIn(file: string): Promise<string[]> {
  try {
    return stripSecrets(JSON.parse(await readFile(file, 'utf8')) as unknown);
  } catch {
    return [];
  }
}

function previewOf(ws: FederationWorkspace, loaded: LoadedState<'federation'>, tempRoot: string, secrets: string[]): AdoptionPreview {
  return {
    file: ws.statePath,
    format: loaded.format,
    needed: true,
    message: `${ws.statePath} was written by ReFedEz. Adopting it gives it a lineage and a serial and takes over the machines below; its original goes into history without its passwords.`,
    status: loaded.state.type,
    items: itemsOf(loaded.state, tempRoot),
    secretsDropped: secrets,
    keptFields: keptFieldsOf(loaded.state),
  };
}

function foreignTarget(ws: FederationWorkspace) {
  const { lineage: _l, ...target } = stateTargetOf(ws);
  void _l;
  return target;
}

/** What adopting the workspace's ReFedEz state would take over (read-only). */
export async function previewFederationAdoption(env: FederationEnv, ws: FederationWorkspace): Promise<AdoptionPreview> {
  const loaded = await env.store.loadWithFormat(foreignTarget(ws));
  if (!loaded) {
    return {
      file: ws.statePath,
      format: 'none',
      needed: false,
      message: `There is no state file at ${ws.statePath}: nothing to adopt.`,
      status: null,
      items: [],
      secretsDropped: [],
      keptFields: [],
    };
  }
  if (loaded.format !== 'refedez') {
    return {
      file: ws.statePath,
      format: loaded.format,
      needed: false,
      message: `${ws.statePath} is already operated by Clusterdesk (serial ${String(loaded.state.serial ?? 'none')}): nothing to adopt.`,
      status: loaded.state.type,
      items: [],
      secretsDropped: [],
      keptFields: [],
    };
  }
  return previewOf(ws, loaded, settingsOf(env).tempRoot, await secretsIn(ws.statePath));
}

/** Adopts the workspace's ReFedEz state (lock held; original kept in history, redacted). */
export async function adoptFederation(
  env: FederationEnv,
  ws: FederationWorkspace,
  ctx: OpContext,
): Promise<{ preview: AdoptionPreview; state: FederationState }> {
  const tempRoot = settingsOf(env).tempRoot;
  const secrets = await secretsIn(ws.statePath);
  let preview: AdoptionPreview | null = null;
  const written = await env.store.adopt(
    foreignTarget(ws),
    (loaded) => {
      if (loaded.format !== 'refedez') {
        throw new AppError('invalid-argument', `${ws.statePath} is not a ReFedEz state (${loaded.format}).`, { path: ws.statePath });
      }
      preview = previewOf(ws, loaded, tempRoot, secrets);
      const state = loaded.state;
      if (state.type === 'clean') return state;
      const machines = machinesOf(state).map((m): MachineRecord => ({ ...m, origin: 'refedez' }));
      return { ...state, data: { ...(state.data as Record<string, unknown>), machines } } as FederationState;
    },
    { signal: ctx.signal },
  );
  ctx.progress({ target: '', step: 'done', value: 1, message: `Adopted as serial ${written.serial}, lineage ${written.lineage.slice(0, 8)}` });
  return { preview: preview!, state: written };
}
