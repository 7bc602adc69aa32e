import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
