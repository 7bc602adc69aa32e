/** The import in progress: a file picked or dropped, its preview, waiting for Apply. */
import { create } from 'zustand';
import type { ImportPreview } from '../../../preload/contract';

export interface PendingImport {
  readonly workspaceId: string;
  readonly fileName: string;
  readonly content: string;
  readonly preview: ImportPreview;
}

interface ImportState {
  readonly pending: PendingImport | null;
  set(pending: PendingImport | null): void;
}

export const useImport = create<ImportState>()((set) => ({
  pending: null,
  set: (pending) => set({ pending }),
}));
