import type { AdoptionPreview, ExportedBundle, ImportPreview, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { clusterWorkspaceOf } from '../clusters/api';
import { createClusterEnv, type ClusterEnv } from '../clusters/env';
import type { FederationEnv } from '../federations/env';
import type { AppServices, SharingApi } from '../services';
import { configFileOf } from '../workspaces/registry';
import { targetOf } from '../workspaces/snapshot';
import { adoptState, previewAdoption, type AdoptTarget } from './adopt';
import { exportState, importState, previewStateImport, type ShareTarget } from './service';

function shareTarget(entry: WorkspaceEntry): ShareTarget {
  return { kind: entry.kind, name: entry.name, target: targetOf(entry) };
}

/** Export / import by workspace id, for the IPC handlers. */
export class SharingFacade implements SharingApi {
  constructor(private readonly s: AppServices) {}

  async exportBundle(workspaceId: string, opts: { file?: string; redactHome: boolean }): Promise<ExportedBundle> {
    const { fileName, content, savedTo } = await exportState(this.s.store, shareTarget(this.s.registry.get(workspaceId)), {
      ...(opts.file ? { file: opts.file } : {}),
      redactHome: opts.redactHome,
      appVersion: this.s.options.version,
    });
    return { fileName, content, savedTo };
  }

  preview(workspaceId: string, content: string): Promise<ImportPreview> {
    return previewStateImport(this.s.store, shareTarget(this.s.registry.get(workspaceId)), content);
  }

  async importBundle(workspaceId: string, content: string, opts: { force: boolean; adopt: boolean }): Promise<WorkspaceSnapshot> {
    const entry = this.s.registry.get(workspaceId);
    const { value } = await this.s.runner.run(workspaceId, 'state:import', (ctx) =>
      importState(this.s.store, shareTarget(entry), content, { ...opts, signal: ctx.signal }),
    );
    if (value.written) this.s.registry.patch(workspaceId, { lineage: value.lineage });
    return this.s.afterOwnWrite(workspaceId);
  }

  async adoptPreview(workspaceId: string): Promise<AdoptionPreview> {
    return this.withAdoptTarget(workspaceId, (t) => previewAdoption(t));
  }

  async adopt(workspaceId: string): Promise<WorkspaceSnapshot> {
    await this.withAdoptTarget(workspaceId, async (t) => {
      const { value } = await this.s.runner.run(workspaceId, 'state:adopt', (ctx) => adoptState(t, ctx));
      this.s.registry.patch(workspaceId, { lineage: value.state.lineage });
    });
    return this.s.afterOwnWrite(workspaceId);
  }

  /** The adoption target of a registered workspace (the app's libvirt connections when the cluster facade has them). */
  private async withAdoptTarget<T>(workspaceId: string, fn: (t: AdoptTarget) => Promise<T>): Promise<T> {
    const entry = this.s.registry.get(workspaceId);
    if (entry.kind === 'federation') {
      const settings = this.s.settings;
      const env: FederationEnv = { store: this.s.store, parallelism: settings.get('parallelism'), connectTimeoutMs: settings.get('sshConnectTimeoutMs') };
      return fn({ kind: 'federation', env, ws: { folder: entry.path, configFile: configFileOf(entry), statePath: entry.statePath } });
    }
    const { lineage: _l, ...ws } = clusterWorkspaceOf(entry);
    void _l;
    const shared = (this.s.clusters as { env?: ClusterEnv } | undefined)?.env;
    const env = shared ?? createClusterEnv({ store: this.s.store });
    try {
      return await fn({ kind: 'cluster', env, ws });
    } finally {
      if (!shared) await env.dispose();
    }
  }
}
