import Store from 'electron-store';
import type { SettingsBackend } from './settings';

/** Settings through electron-store in the desktop app (same file as `conf-backend.ts`: `<dataDir>/config.json`). */
export function electronStoreBackend(dataDir: string): SettingsBackend {
  const store = new Store<Record<string, unknown>>({ cwd: dataDir, name: 'config' });
  return {
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    get path() {
      return store.path;
    },
  };
}
