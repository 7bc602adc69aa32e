/** The registered workspaces (fed by `workspaces:list` + `workspaces:changed`) and the selection. */
import { create } from 'zustand';
import type { WorkspaceEntry } from '../../../preload/contract';
import { reconcileSelection } from './reducers';

interface WorkspacesState {
  readonly entries: readonly WorkspaceEntry[];
  /** False until the first list arrives, so the empty state does not flash on start-up. */
  readonly loaded: boolean;
  readonly selectedId: string | null;
  setEntries(entries: readonly WorkspaceEntry[]): void;
  select(id: string | null): void;
}

export const useWorkspaces = create<WorkspacesState>()((set) => ({
  entries: [],
  loaded: false,
  selectedId: null,
  setEntries: (entries) => set((s) => ({ entries, loaded: true, selectedId: reconcileSelection(entries, s.selectedId) })),
  select: (id) => set({ selectedId: id }),
}));
