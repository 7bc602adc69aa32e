import Conf from 'conf';
import type { SettingsBackend } from './settings';

/** Settings in `<dataDir>/config.json` through `conf` — the same file electron-store writes in the desktop app. */
export function confBackend(dataDir: string): SettingsBackend {
  const conf = new Conf<Record<string, unknown>>({ cwd: dataDir, configName: 'config', projectName: 'clusterdesk' });
  return {
    get: (key) => conf.get(key),
    set: (key, value) => conf.set(key, value),
    get path() {
      return conf.path;
    },
  };
}
