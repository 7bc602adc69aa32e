/** Where the window is: the dashboard (home) or one workspace's view; and whether the task list is open. */
import { create } from 'zustand';
import { useWorkspaces } from './workspaces-store';

interface NavState {
  /** True on the dashboard; false while a workspace's view is open. */
  readonly home: boolean;
  readonly tasksOpen: boolean;
  open(workspaceId: string): void;
  goHome(): void;
  toggleTasks(open?: boolean): void;
}

export const useNav = create<NavState>()((set) => ({
  home: true,
  tasksOpen: false,
  open: (workspaceId) => {
    useWorkspaces.getState().select(workspaceId);
    set({ home: false });
  },
  goHome: () => set({ home: true }),
  toggleTasks: (open) => set((s) => ({ tasksOpen: open ?? !s.tasksOpen })),
}));
