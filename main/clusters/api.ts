/**
 * The app's cluster API: maps workspace ids to the domain functions, runs each through the OperationRunner (one
 * mutation per workspace, progress events, cancellation) and answers with the fresh snapshot.
 */
import type { DriftItem, OperationReport, RefreshReport, ValidationReport, VmAction, WorkspaceEntry } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import type { AppServices, ClusterApi } from '../services';
import { targetOf } from '../workspaces/snapshot';
import { createDemoCluster } from './demo';
import { destroyCluster, requireConfirmation } from './destroy';
import { createClusterEnv, type ClusterEnv } from './env';
import { refreshCluster } from './refresh';
import { startCluster, type ClusterOpResult } from './start';
import { stopCluster } from './stop';
import { vmAction } from './vm-action';
import { validateCluster, type ClusterWorkspace } from './workspace';

/** A short per-VM drift note for the VM table (`VmView.drift`). */
export function vmDriftNotes(drift: readonly DriftItem[]): ReadonlyMap<string, string> {
  const notes = new Map<string, string[]>();
  for (const d of drift) {
    if (d.resource !== 'vm') continue;
    let note: string;
    switch (d.kind) {
      case 'missing':
        note = 'missing from libvirt';
        break;
      case 'unrecorded':
        note = 'not recorded';
        break;
      case 'state-differs':
        note = `libvirt says ${d.actual ?? '—'}`;
        break;
      case 'ip-differs':
        note = `IP is ${d.actual ?? '—'}`;
        break;
      default: {
        const never: never = d.kind;
        note = String(never);
      }
    }
    notes.set(d.name, [...(notes.get(d.name) ?? []), note]);
  }
  return new Map([...notes].map(([k, v]) => [k, v.join('; ')]));
}

/** The cluster workspace a registry entry describes. */
export function clusterWorkspaceOf(entry: WorkspaceEntry): ClusterWorkspace {
  if (entry.kind !== 'cluster') throw new AppError('invalid-argument', `${entry.name} is a ${entry.kind} workspace, not a cluster.`);
  return {
    configFile: entry.path,
    statePath: entry.statePath,
    ...(entry.lineage ? { lineage: entry.lineage } : {}),
    ...(entry.libvirtUri ? { libvirtUri: entry.libvirtUri } : {}),
  };
}

export class ClusterFacade implements ClusterApi {
  readonly env: ClusterEnv;
  private readonly injectedEnv: boolean;
  /** The last unapplied refresh's per-VM drift, by workspace (cleared by any operation that writes the state). */
  private readonly drift = new Map<string, ReadonlyMap<string, string>>();

  constructor(
    private readonly services: AppServices,
    opts: { readonly env?: ClusterEnv } = {},
  ) {
    this.injectedEnv = opts.env !== undefined;
    this.env =
      opts.env ??
      createClusterEnv({
        store: services.store,
        stopTimeoutSec: services.settings.get('stopTimeoutSec'),
        parallelism: services.settings.get('parallelism'),
      });
  }

  /** The env with the settings as they are now (changed in the app's settings, they apply to the next operation). */
  private current(): ClusterEnv {
    if (this.injectedEnv) return this.env;
    const settings = this.services.settings;
    return { ...this.env, stopTimeoutSec: settings.get('stopTimeoutSec'), parallelism: Math.max(1, settings.get('parallelism')) };
  }

  private workspace(id: string): ClusterWorkspace {
    return clusterWorkspaceOf(this.services.registry.get(id));
  }

  private async mutate(id: string, name: string, fn: (ws: ClusterWorkspace, ctx: OpContext) => Promise<ClusterOpResult>): Promise<OperationReport> {
    const ws = this.workspace(id);
    try {
      const { opId, value } = await this.services.runner.run(id, name, (ctx) => fn(ws, ctx));
      this.drift.delete(id);
      return { opId, outcomes: value.outcomes, snapshot: await this.services.afterOwnWrite(id) };
    } catch (err) {
      // A failed start still recorded what it created: the UI must show that, not the state before.
      this.drift.delete(id);
      await this.services.afterOwnWrite(id).catch(() => undefined);
      throw err;
    }
  }

  validate(workspaceId: string): Promise<ValidationReport> {
    return validateCluster(this.workspace(workspaceId), this.env.processEnv);
  }

  start(workspaceId: string): Promise<OperationReport> {
    return this.mutate(workspaceId, 'cluster:start', (ws, ctx) => startCluster(this.current(), ws, ctx));
  }

  stop(workspaceId: string, timeoutSec?: number): Promise<OperationReport> {
    const timeout = timeoutSec ?? this.services.settings.get('stopTimeoutSec');
    return this.mutate(workspaceId, 'cluster:stop', (ws, ctx) => stopCluster(this.current(), ws, ctx, { timeoutSec: timeout }));
  }

  async destroy(workspaceId: string, confirm: string): Promise<OperationReport> {
    const entry = this.services.registry.get(workspaceId);
    const recorded = await this.services.store.load(targetOf(entry)).catch(() => null);
    const name = recorded && 'cluster_name' in recorded && typeof recorded.cluster_name === 'string' ? recorded.cluster_name : entry.name;
    requireConfirmation(name, confirm);
    return this.mutate(workspaceId, 'cluster:destroy', (ws, ctx) => destroyCluster(this.current(), ws, ctx));
  }

  async refresh(workspaceId: string, apply: boolean): Promise<RefreshReport> {
    const ws = this.workspace(workspaceId);
    const { value } = await this.services.runner.run(workspaceId, 'cluster:refresh', (ctx) => refreshCluster(this.current(), ws, ctx, { apply }));
    if (value.applied || value.drift.length === 0) this.drift.delete(workspaceId);
    else this.drift.set(workspaceId, vmDriftNotes(value.drift));
    const snapshot = value.applied ? await this.services.afterOwnWrite(workspaceId) : await this.services.snapshot(workspaceId);
    if (!value.applied) this.services.events.emit('workspace:changed', snapshot);
    return { drift: value.drift, applied: value.applied, snapshot };
  }

  vmAction(workspaceId: string, vm: string, action: VmAction): Promise<OperationReport> {
    return this.mutate(workspaceId, 'cluster:vm-action', (ws, ctx) => vmAction(this.current(), ws, ctx, vm, action));
  }

  async createDemo(folder?: string): Promise<WorkspaceEntry> {
    const demo = await createDemoCluster(this.services.options.dataDir, folder);
    return this.services.addWorkspace(demo.configFile);
  }

  vmDrift(workspaceId: string): ReadonlyMap<string, string> | undefined {
    return this.drift.get(workspaceId);
  }

  dispose(): Promise<void> {
    return this.env.dispose();
  }
}
