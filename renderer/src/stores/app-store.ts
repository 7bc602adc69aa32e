/** App-wide facts: host info and the connection to main. */
import { create } from 'zustand';
import type { AppInfo } from '../../../preload/contract';
import type { ConnectionStatus } from '../bridge';

interface AppState {
  readonly info: AppInfo | null;
  readonly connection: ConnectionStatus;
  setInfo(info: AppInfo): void;
  setConnection(status: ConnectionStatus): void;
}

export const useApp = create<AppState>()((set) => ({
  info: null,
  connection: 'connecting',
  setInfo: (info) => set({ info }),
  setConnection: (connection) => set({ connection }),
}));
