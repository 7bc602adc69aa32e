import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSsh } from './ssh-settings';

let home: string;
let config: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'cd-sshcfg-'));
  await mkdir(join(home, '.ssh'));
  for (const k of ['id_ed25519', 'site_key', 'other']) await writeFile(join(home, '.ssh', k), 'x');
  config = join(home, '.ssh', 'config');
  await writeFile(
    config,
    [
      'Host site1 site1.alias',
      '  HostName 10.1.2.3',
      '  User researcher',
      '  Port 2200',
      '  IdentityFile ~/.ssh/site_key',
      '  HostKeyAlias site1-key',
      '  ConnectTimeout 4',
      '  UserKnownHostsFile ~/.ssh/kh_a ~/.ssh/kh_b',
      'Host canon',
      '  CanonicalizeHostName yes',
      '  CanonicalDomains example.invalid',
      'Host *',
      '  IdentityFile %d/.ssh/other',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('resolveSsh', () => {
  it('resolves an alias through HostName, User, Port, IdentityFile, HostKeyAlias, ConnectTimeout', async () => {
    const r = await resolveSsh({ host: 'site1' }, { sshConfigPath: config, homeDir: home, localUser: 'me' });
    expect(r).toEqual({
      alias: 'site1',
      host: '10.1.2.3',
      port: 2200,
      user: 'researcher',
      identityFiles: [join(home, '.ssh', 'site_key'), join(home, '.ssh', 'other')],
      hostKeyAlias: 'site1-key',
      userKnownHostsFiles: [join(home, '.ssh', 'kh_a'), join(home, '.ssh', 'kh_b')],
      connectTimeoutMs: 4000,
    });
  });

  it('lets refedez.yaml values win over the config', async () => {
    const r = await resolveSsh({ host: 'site1', user: 'alice', port: 22, identity: 'keys/mine' }, { sshConfigPath: config, homeDir: home, baseDir: '/proj' });
    expect(r).toMatchObject({ host: '10.1.2.3', user: 'alice', port: 22, identityFiles: ['/proj/keys/mine'] });
  });

  it('falls back to OpenSSH defaults for an unknown host (existing default keys only)', async () => {
    const r = await resolveSsh({ host: '192.0.2.9' }, { sshConfigPath: null, homeDir: home, localUser: 'me' });
    expect(r).toEqual({
      alias: '192.0.2.9',
      host: '192.0.2.9',
      port: 22,
      user: 'me',
      identityFiles: [join(home, '.ssh', 'id_ed25519')],
      hostKeyAlias: '192.0.2.9',
      userKnownHostsFiles: [],
    });
  });

  it('ignores canonicalization (it would block on DNS) and a missing config file', async () => {
    expect((await resolveSsh({ host: 'canon' }, { sshConfigPath: config, homeDir: home })).host).toBe('canon');
    expect((await resolveSsh({ host: 'x' }, { sshConfigPath: join(home, 'nope'), homeDir: home })).host).toBe('x');
  });
});
