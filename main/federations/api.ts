/**
 * The app's federation API: maps workspace ids to the domain functions (`service.ts`, `inspect.ts`), running each
 * mutation (and probe) through the OperationRunner so it gets an op id, progress events, cancellation and the
 * one-operation-per-workspace rule, and answering with a fresh snapshot.
 */
import type { MachineLog, MachineProbe, OperationReport, WorkspaceEntry } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import type { AppServices, FederationApi } from '../services';
import { configFileOf } from '../workspaces/registry';
import { createDemoFederation } from './demo';
import type { FederationEnv, FederationResult, FederationWorkspace } from './env';
import { federationLogs, probeFederation, trustHostKey } from './inspect';
import { cleanFederation, startFederation, stopFederation } from './service';

/** Overrides for tests and hosts (everything else comes from the settings). */
export type FederationFacadeOptions = Partial<Omit<FederationEnv, 'store'>>;

/** Federation operations by workspace id (the `federation:*` channels and the tray call these). */
export class FederationFacade implements FederationApi {
  constructor(
    private readonly services: AppServices,
    private readonly options: FederationFacadeOptions = {},
  ) {}

  async start(workspaceId: string): Promise<OperationReport> {
    return this.mutate(workspaceId, 'federation:start', (env, ws, ctx) => startFederation(env, ws, ctx));
  }

  async stop(workspaceId: string): Promise<OperationReport> {
    return this.mutate(workspaceId, 'federation:stop', (env, ws, ctx) => stopFederation(env, ws, ctx));
  }

  async clean(workspaceId: string, force: boolean): Promise<OperationReport> {
    return this.mutate(workspaceId, 'federation:clean', (env, ws, ctx) => cleanFederation(env, ws, ctx, { force }));
  }

  async probe(workspaceId: string): Promise<readonly MachineProbe[]> {
    const ws = this.workspace(workspaceId);
    const { value } = await this.services.runner.run(workspaceId, 'federation:probe', (ctx) => probeFederation(this.env(), ws, ctx));
    return value;
  }

  /** A read-only query: not an operation, so it works while another one (a start) is running. */
  async logs(workspaceId: string, lines: number): Promise<readonly MachineLog[]> {
    const ws = this.workspace(workspaceId);
    const ctx: OpContext = { signal: AbortSignal.timeout(60_000), progress: () => undefined };
    return federationLogs(this.env(), ws, ctx, { lines });
  }

  async trustHost(workspaceId: string, host: string, port: number, fingerprint: string): Promise<{ trusted: boolean }> {
    return trustHostKey(this.env(), this.workspace(workspaceId), host, port, fingerprint);
  }

  async createDemo(folder?: string): Promise<WorkspaceEntry> {
    const created = await createDemoFederation(this.services.options.dataDir, folder);
    return this.services.addWorkspace(created);
  }

  // -------------------------------------------------------------------------------------------------------------

  private env(): FederationEnv {
    const settings = this.services.settings;
    return {
      store: this.services.store,
      parallelism: settings.get('parallelism'),
      connectTimeoutMs: settings.get('sshConnectTimeoutMs'),
      acceptNewHostKeys: false,
      ...this.options,
    };
  }

  private workspace(workspaceId: string): FederationWorkspace {
    const entry = this.services.registry.get(workspaceId);
    if (entry.kind !== 'federation') {
      throw new AppError('invalid-argument', `${entry.name} is a ${entry.kind}, not a federation.`, { path: entry.path });
    }
    return {
      folder: entry.path,
      configFile: configFileOf(entry),
      statePath: entry.statePath,
      ...(entry.lineage ? { lineage: entry.lineage } : {}),
    };
  }

  private async mutate(
    workspaceId: string,
    name: string,
    fn: (env: FederationEnv, ws: FederationWorkspace, ctx: OpContext) => Promise<FederationResult>,
  ): Promise<OperationReport> {
    const ws = this.workspace(workspaceId);
    try {
      const { opId, value } = await this.services.runner.run(workspaceId, name, (ctx) => fn(this.env(), ws, ctx));
      return { opId, outcomes: value.outcomes, snapshot: await this.services.afterOwnWrite(workspaceId) };
    } catch (err) {
      // A failed operation may still have changed the state (a partial start, a cancelled clean): show it.
      await this.services.afterOwnWrite(workspaceId).catch(() => undefined);
      throw err;
    }
  }
}
