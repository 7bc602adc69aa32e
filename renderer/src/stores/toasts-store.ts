/** In-page toasts: the browser's stand-in for desktop notifications, from the same model (preload/desk-model.ts). */
import { create } from 'zustand';
import type { DeskNotification } from '../../../preload/desk-model';

/** Toasts on screen at once; the oldest goes when a new one comes. They stay until dismissed (no timer to race). */
export const TOAST_LIMIT = 4;

interface ToastsState {
  readonly toasts: readonly DeskNotification[];
  push(n: DeskNotification): void;
  dismiss(key: string): void;
}

export const useToasts = create<ToastsState>()((set) => ({
  toasts: [],
  push: (n) => set((s) => (s.toasts.some((t) => t.key === n.key) ? s : { toasts: [...s.toasts, n].slice(-TOAST_LIMIT) })),
  dismiss: (key) => set((s) => ({ toasts: s.toasts.filter((t) => t.key !== key) })),
}));
