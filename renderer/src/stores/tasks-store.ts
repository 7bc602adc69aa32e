/** Every operation heard of (the task list), and per workspace the last outcome and drift (the dashboard's cards). */
import { create } from 'zustand';
import type { OperationFinished, ProgressEvent, RecordedStatus } from '../../../preload/contract';
import { historyAfter, taskFinished, taskProgress, type Task, type WorkspaceHistory } from './tasks';

interface TasksState {
  readonly tasks: readonly Task[];
  readonly history: Readonly<Record<string, WorkspaceHistory>>;
  progress(ev: ProgressEvent): void;
  finished(ev: OperationFinished, status: RecordedStatus | null | undefined): void;
}

export const useTasks = create<TasksState>()((set) => ({
  tasks: [],
  history: {},
  progress: (ev) => set((s) => ({ tasks: taskProgress(s.tasks, ev, Date.now()) })),
  finished: (ev, status) =>
    set((s) => ({
      tasks: taskFinished(s.tasks, ev, Date.now()),
      history: { ...s.history, [ev.workspaceId]: historyAfter(s.history[ev.workspaceId], ev, status) },
    })),
}));
