/** Error banners that are not tied to a snapshot (failed add, failed restore, transport trouble). */
import { create } from 'zustand';
import type { ErrorData } from '../../../preload/contract';
import { pushBanner, type Banner } from './reducers';

interface ErrorsState {
  readonly banners: readonly Banner[];
  push(title: string, error: ErrorData, workspaceId?: string | null): void;
  dismiss(id: number): void;
  /** Drop a context's banners once the thing they were about succeeded. */
  clear(title: string, workspaceId?: string | null): void;
}

let nextId = 1;

export const useErrors = create<ErrorsState>()((set) => ({
  banners: [],
  push: (title, error, workspaceId = null) => set((s) => ({ banners: pushBanner(s.banners, { id: nextId++, title, error, workspaceId }) })),
  dismiss: (id) => set((s) => ({ banners: s.banners.filter((b) => b.id !== id) })),
  clear: (title, workspaceId = null) => set((s) => ({ banners: s.banners.filter((b) => !(b.title === title && b.workspaceId === workspaceId)) })),
}));
