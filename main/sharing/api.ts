import type { ExportedBundle, ImportPreview, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import type { AppServices, SharingApi } from '../services';
import { targetOf } from '../workspaces/snapshot';
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
}
