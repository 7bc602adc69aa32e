/** Running operations and their progress, keyed by workspace; plus the pending host-key question. */
import { create } from 'zustand';
import type { OperationFinished, ProgressEvent } from '../../../preload/contract';
import type { HostKeyInfo } from '../lib/host-key';
import { applyFinished, applyProgress, beginInvoke, clearLast, endInvoke, type OperationOutcome, type OpsMap } from './reducers';

/** An operation refused because a host key is unknown: the dialog offers to trust it and run `retry`. */
export interface HostKeyPrompt {
  readonly workspaceId: string;
  readonly info: HostKeyInfo;
  readonly message: string;
  readonly retry: () => void;
}

interface OperationsState {
  readonly byWorkspace: OpsMap;
  readonly hostKeyPrompt: HostKeyPrompt | null;
  begin(workspaceId: string, label: string): void;
  /** Our invoke answered; `refusal` when it was refused before any operation began. */
  end(workspaceId: string, refusal: OperationOutcome | null): void;
  progress(ev: ProgressEvent): void;
  finished(ev: OperationFinished): void;
  askHostKey(prompt: HostKeyPrompt | null): void;
  /** Hide the last outcome once the user has read it. */
  dismiss(workspaceId: string): void;
}

export const useOperations = create<OperationsState>()((set) => ({
  byWorkspace: {},
  hostKeyPrompt: null,
  begin: (workspaceId, label) => set((s) => ({ byWorkspace: beginInvoke(s.byWorkspace, workspaceId, label) })),
  end: (workspaceId, refusal) => set((s) => ({ byWorkspace: endInvoke(s.byWorkspace, workspaceId, refusal) })),
  progress: (ev) => set((s) => ({ byWorkspace: applyProgress(s.byWorkspace, ev) })),
  finished: (ev) => set((s) => ({ byWorkspace: applyFinished(s.byWorkspace, ev) })),
  askHostKey: (prompt) => set({ hostKeyPrompt: prompt }),
  dismiss: (workspaceId) => set((s) => ({ byWorkspace: clearLast(s.byWorkspace, workspaceId) })),
}));
