/** Per-workspace snapshots (fed by the initial `workspace:snapshot` fetch, then by `workspace:changed` patches). */
import { create } from 'zustand';
import type { WorkspaceChange, WorkspaceSnapshot } from '../../../preload/contract';
import { pruneSnapshots, type SnapshotMap } from './reducers';
import { applyChange, takeSnapshot } from './workspace-changes';

interface SnapshotsState {
  readonly byId: SnapshotMap;
  upsert(snapshot: WorkspaceSnapshot): void;
  /** Applies a `workspace:changed`; false when it could not be applied and a full snapshot must be fetched. */
  change(change: WorkspaceChange): boolean;
  prune(ids: readonly string[]): void;
}

export const useSnapshots = create<SnapshotsState>()((set, get) => ({
  byId: {},
  upsert: (snapshot) => set((s) => ({ byId: takeSnapshot(s.byId, snapshot) })),
  change: (change) => {
    const out = applyChange(get().byId, change);
    if (out.kind === 'applied') set({ byId: out.map });
    return out.kind !== 'resync';
  },
  prune: (ids) => set((s) => ({ byId: pruneSnapshots(s.byId, ids) })),
}));
