import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceFileSync } from '../state/atomic-write';
import { AppError } from '../errors';
import type { SettingsBackend } from './settings';

/**
 * Settings in `<dataDir>/config.json` — the same file (and format: tab-indented JSON) that electron-store writes in
 * the desktop app. Outside Electron we read and write it ourselves instead of through `conf`: `conf` pulls in
 * `atomically` → `when-exit`, which hooks SIGTERM/SIGINT for the whole process (a busy CLI then ignored SIGTERM, see
 * docs/cli.md "Signals"), and it costs start-up time for one small JSON file. Every `get` reads the file, so a change
 * made by the app is seen at once (nothing is cached); every `set` writes a temp file beside it and renames it over (the state engine's `replaceFileSync`).
 */
export function confBackend(dataDir: string): SettingsBackend {
  const path = join(dataDir, 'config.json');
  const read = (): Record<string, unknown> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(dirname(path), { recursive: true });
        return {};
      }
      throw new AppError('config-invalid', `Cannot read the settings file ${path}: ${(err as Error).message}`, { path, hint: 'Check its permissions.' });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new AppError('config-invalid', `The settings file ${path} is not valid JSON: ${(err as Error).message}`, {
        path,
        hint: 'Fix it by hand, or move it away to start from the default settings.',
      });
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new AppError('config-invalid', `The settings file ${path} must hold a JSON object.`, { path, hint: 'Fix it by hand, or move it away.' });
    }
    return data as Record<string, unknown>;
  };
  const write = (data: Record<string, unknown>): void => {
    mkdirSync(dirname(path), { recursive: true });
    // Mode and durability as electron-store (conf) writes the same file: 0666 before the umask, no fsync.
    replaceFileSync(path, JSON.stringify(data, undefined, '\t'), { mode: 0o666, durable: false });
  };
  read(); // create the folder and refuse a broken file up front, as conf did
  return {
    get: (key) => {
      const data = read();
      return Object.hasOwn(data, key) ? data[key] : undefined;
    },
    set: (key, value) => {
      const data = read();
      if (value === undefined) delete data[key];
      else data[key] = value;
      write(data);
    },
    path,
  };
}
