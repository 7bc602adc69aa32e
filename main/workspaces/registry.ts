import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { WorkspaceEntry } from '../../preload/contract';
import { AppError } from '../errors';
import type { Settings } from '../settings/settings';
import { detectWorkspace } from './detect';

/** The config file of a workspace: `refedez.yaml` in a federation folder, the cluster config file itself. */
export function configFileOf(entry: WorkspaceEntry): string {
  return entry.kind === 'federation' ? join(entry.path, 'refedez.yaml') : entry.path;
}

/** The opened workspaces, persisted in the settings file. */
export class WorkspaceRegistry {
  constructor(private readonly settings: Settings) {}

  list(): readonly WorkspaceEntry[] {
    return this.settings.get('workspaces');
  }

  /** The entry with this id, or `workspace-not-found`. */
  get(id: string): WorkspaceEntry {
    const entry = this.list().find((w) => w.id === id);
    if (!entry) {
      throw new AppError('workspace-not-found', `No workspace with id ${id}.`, { hint: 'It may have been removed; reload the list.' });
    }
    return entry;
  }

  /** Detects and adds a workspace; adding the same path (and state file) again returns the existing entry. */
  async add(path: string, opts: { statePath?: string; libvirtUri?: string } = {}): Promise<WorkspaceEntry> {
    const found = await detectWorkspace(path, opts.statePath ? { statePath: opts.statePath } : {});
    const existing = this.list().find((w) => w.path === found.path && w.statePath === found.statePath);
    if (existing) return existing;
    const entry: WorkspaceEntry = {
      id: randomUUID(),
      kind: found.kind,
      name: found.name,
      path: found.path,
      statePath: found.statePath,
      addedAt: new Date().toISOString(),
      ...(opts.libvirtUri ? { libvirtUri: opts.libvirtUri } : {}),
    };
    this.settings.set('workspaces', [...this.list(), entry]);
    return entry;
  }

  /** Forgets a workspace (its files are not touched). */
  remove(id: string): boolean {
    const before = this.list();
    const after = before.filter((w) => w.id !== id);
    this.settings.set('workspaces', after);
    return after.length !== before.length;
  }

  /** Updates fields of an entry (lineage seen, libvirt URI). */
  patch(id: string, fields: Partial<Pick<WorkspaceEntry, 'lineage' | 'libvirtUri' | 'name' | 'backend'>>): WorkspaceEntry {
    const entry = this.get(id);
    const next = { ...entry, ...fields };
    if (next.backend === undefined) delete (next as { backend?: string }).backend;
    this.settings.set(
      'workspaces',
      this.list().map((w) => (w.id === id ? next : w)),
    );
    return next;
  }
}
