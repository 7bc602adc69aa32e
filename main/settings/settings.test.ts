import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { confBackend } from './conf-backend';
import { DEFAULT_SETTINGS, Settings, resolveDataDir } from './settings';

describe('Settings', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('persists values in the data dir and reads defaults for the rest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cd-settings-'));
    const s = new Settings(confBackend(dir));
    expect(s.get('historyLimit')).toBe(DEFAULT_SETTINGS.historyLimit);
    s.set('historyLimit', 25);
    expect(s.path).toBe(join(dir, 'config.json'));
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toMatchObject({ historyLimit: 25 });
    expect(new Settings(confBackend(dir)).get('historyLimit')).toBe(25);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('resolves the data dir from the flag, then the environment, then the platform folder', () => {
    expect(resolveDataDir('/x', { CLUSTERDESK_DATA_DIR: '/y' })).toBe('/x');
    expect(resolveDataDir(undefined, { CLUSTERDESK_DATA_DIR: '/y' })).toBe('/y');
    expect(resolveDataDir(undefined, { XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/Clusterdesk');
  });
});

describe('settings file (no conf: no process-wide exit hooks)', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads what electron-store wrote (tab-indented JSON), keeps unknown keys on write, and sees outside changes at once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cd-settings-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ parallelism: 3, fromTheApp: { x: 1 } }, undefined, '\t'));
    const s = new Settings(confBackend(dir));
    expect(s.get('parallelism')).toBe(3);
    s.set('historyLimit', 4);
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(JSON.stringify({ parallelism: 3, fromTheApp: { x: 1 }, historyLimit: 4 }, undefined, '\t'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ parallelism: 5 }));
    expect(s.get('parallelism')).toBe(5); // nothing cached
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('a broken settings file is a typed config-invalid error naming the file, and is left as it was', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cd-settings-'));
    await writeFile(join(dir, 'config.json'), '{"parallelism": 3,');
    const err = (() => {
      try {
        confBackend(dir);
      } catch (e) {
        return e as AppError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('config-invalid');
    expect(err.path).toBe(join(dir, 'config.json'));
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe('{"parallelism": 3,');
  });
});
