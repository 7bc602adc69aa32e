/** The connection to the host as the page explains it: whether it was ever open (so a drop is news, a first connect is not). */
import { create } from 'zustand';
import type { ConnectionStatus } from '../bridge';

interface ConnectionState {
  readonly status: ConnectionStatus;
  /** True once the first connection opened: only then is a non-open status a loss. */
  readonly everOpen: boolean;
  set(status: ConnectionStatus): void;
}

export const useConnection = create<ConnectionState>()((set) => ({
  status: 'connecting',
  everOpen: false,
  set: (status) => set((s) => ({ status, everOpen: s.everOpen || status === 'open' })),
}));

/** Whether actions may be offered: only while the host is connected. */
export function isConnected(status: ConnectionStatus): boolean {
  return status === 'open';
}
