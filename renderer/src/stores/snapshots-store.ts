/** Per-workspace snapshots (fed by the initial `workspace:snapshot` fetch, then by `workspace:changed` alone). */
import { create } from 'zustand';
import type { WorkspaceSnapshot } from '../../../preload/contract';
import { pruneSnapshots, upsertSnapshot, type SnapshotMap } from './reducers';

interface SnapshotsState {
  readonly byId: SnapshotMap;
  upsert(snapshot: WorkspaceSnapshot): void;
  prune(ids: readonly string[]): void;
}

export const useSnapshots = create<SnapshotsState>()((set) => ({
  byId: {},
  upsert: (snapshot) => set((s) => ({ byId: upsertSnapshot(s.byId, snapshot) })),
  prune: (ids) => set((s) => ({ byId: pruneSnapshots(s.byId, ids) })),
}));
