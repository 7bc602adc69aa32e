/**
 * SSH-specific behaviour against real sshd machines: host-key policy, typed connection failures, a server killed
 * mid-upload, and ~/.ssh/config alias resolution.
 */
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MachinesFixture, refusedAddress, startMachines, startSilentListener } from '../../../test/support/sshd';
import { isAppError } from '../../errors';
import { createMachine, type MachineEnvironment } from './index';
import { resolveSsh } from './ssh-settings';

const run = promisify(execFile);
// This file owns 127.0.11.x.
const BASE = '127.0.11';

let fx: MachinesFixture;
let work: string;

beforeAll(async () => {
  fx = await startMachines(3, { base: BASE, port: 'auto' });
  work = await mkdtemp(join(tmpdir(), 'cd-sshm-'));
});

afterAll(async () => {
  await fx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function machineFor(m: { host: string; port: number; user: string }, env: MachineEnvironment, identity = fx.clientKeyPath) {
  const ssh = await resolveSsh({ host: m.host, port: m.port, user: m.user, identity }, { sshConfigPath: null });
  return createMachine({ kind: 'remote', ssh }, { agentSocket: null, connectTimeoutMs: 5000, ...env });
}

async function codeOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isAppError(err) ? { code: err.code, host: err.host, details: err.fields.details } : err;
  }
}

describe('host keys', () => {
  it('refuses an unknown host with its SHA256 fingerprint', async () => {
    const m = fx.machines[0]!;
    const machine = await machineFor(m, { knownHostsFiles: [join(work, 'empty_known_hosts')] });
    expect(await codeOf(machine.connect())).toMatchObject({
      code: 'ssh-hostkey-unknown',
      host: m.host,
      details: { fingerprint: m.hostKeyFingerprint, keyType: 'ssh-ed25519' },
    });
  });

  it('accept-new records the key in the workspace known_hosts, which later connects use', async () => {
    const m = fx.machines[0]!;
    const wsKnown = join(work, 'ws1', 'known_hosts');
    const first = await machineFor(m, { knownHostsFiles: [], workspaceKnownHosts: wsKnown, acceptNewHostKeys: true });
    await first.connect();
    await first.close();
    expect(await readFile(wsKnown, 'utf8')).toMatch(new RegExp(`^\\[${m.host.replaceAll('.', '\\.')}\\]:${m.port} ssh-ed25519 \\S+\\n$`));
    const again = await machineFor(m, { knownHostsFiles: [], workspaceKnownHosts: wsKnown });
    expect((await again.exec(['id', '-un'])).stdout).toBe(`${m.user}\n`);
    await again.close();
  });

  it('trusts an unknown host only when it presents the confirmed fingerprint', async () => {
    const m = fx.machines[0]!;
    const wsKnown = join(work, 'ws2', 'known_hosts');
    const wrong = await machineFor(m, {
      knownHostsFiles: [],
      workspaceKnownHosts: wsKnown,
      trustFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(await codeOf(wrong.connect())).toMatchObject({ code: 'ssh-hostkey-unknown' });
    const right = await machineFor(m, { knownHostsFiles: [], workspaceKnownHosts: wsKnown, trustFingerprint: m.hostKeyFingerprint });
    await right.connect();
    await right.close();
    expect(await readFile(wsKnown, 'utf8')).toContain(`[${m.host}]:${m.port} ssh-ed25519`);
  });

  it('accepts hashed known_hosts entries', async () => {
    const m = fx.machines[0]!;
    const [, type, key] = (await readFile(fx.knownHostsPath, 'utf8'))
      .split('\n')
      .find((l) => l.startsWith(`[${m.host}]:`))!
      .split(' ');
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update(`[${m.host}]:${m.port}`).digest('base64');
    const hashed = join(work, 'hashed_known_hosts');
    await writeFile(hashed, `|1|${salt.toString('base64')}|${hash} ${type} ${key}\n`);
    const machine = await machineFor(m, { knownHostsFiles: [hashed] });
    expect((await machine.exec(['echo', 'ok'])).stdout).toBe('ok\n');
    await machine.close();
  });

  it('refuses a changed host key, even with accept-new, naming the known_hosts line', async () => {
    const m = fx.machines[2]!;
    const machine = await machineFor(m, { knownHostsFiles: [fx.knownHostsPath] });
    await machine.connect();
    await machine.close();
    const renewed = await fx.restartWithNewHostKey(2);
    const again = await machineFor(m, { knownHostsFiles: [fx.knownHostsPath], acceptNewHostKeys: true, workspaceKnownHosts: join(work, 'ws3', 'kh') });
    const err = await again.connect().catch((e: unknown) => e);
    expect(isAppError(err, 'ssh-hostkey-changed')).toBe(true);
    expect(err).toMatchObject({ host: m.host, fields: { path: fx.knownHostsPath, line: 3, details: { fingerprint: renewed.hostKeyFingerprint } } });
  });
});

describe('connection failures', () => {
  it('a key the server does not accept → ssh-auth', async () => {
    const otherKey = join(work, 'other_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const machine = await machineFor(fx.machines[0]!, { knownHostsFiles: [fx.knownHostsPath] }, otherKey);
    expect(await codeOf(machine.connect())).toMatchObject({ code: 'ssh-auth', host: fx.machines[0]!.host });
  });

  it('more wrong keys than the server allows (it disconnects: too many authentication failures) → ssh-auth, not unreachable', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 8; i++) {
      const k = join(work, `wrong_${i}`);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
      keys.push(k);
    }
    const m = fx.machines[0]!;
    const ssh = await resolveSsh({ host: m.host, port: m.port, user: m.user, identity: keys[0]! }, { sshConfigPath: null });
    const machine = createMachine(
      { kind: 'remote', ssh: { ...ssh, identityFiles: keys } },
      { agentSocket: null, connectTimeoutMs: 5000, knownHostsFiles: [fx.knownHostsPath] },
    );
    expect(await codeOf(machine.connect())).toMatchObject({ code: 'ssh-auth', host: m.host });
  });

  it('no usable credential at all → ssh-auth naming what was skipped', async () => {
    const machine = await machineFor(fx.machines[0]!, { knownHostsFiles: [fx.knownHostsPath] }, join(work, 'no-such-key'));
    const err = await machine.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ssh-auth', fields: { hint: expect.stringContaining('no-such-key') } });
  });

  it('nothing listening → ssh-unreachable', async () => {
    const addr = await refusedAddress(`${BASE}.200`);
    const machine = await machineFor({ ...addr, user: 'nobody' }, { knownHostsFiles: [] });
    expect(await codeOf(machine.exec(['true']))).toMatchObject({ code: 'ssh-unreachable', host: addr.host, details: { errno: 'ECONNREFUSED' } });
  });

  it('a server that never speaks → ssh-timeout within the configured bound', async () => {
    const silent = await startSilentListener(`${BASE}.201`);
    try {
      const machine = await machineFor({ host: silent.host, port: silent.port, user: 'nobody' }, { knownHostsFiles: [], connectTimeoutMs: 400 });
      expect(await codeOf(machine.exec(['true']))).toMatchObject({ code: 'ssh-timeout', host: silent.host });
    } finally {
      await silent.close();
    }
  });

  it('cancelling while connecting rejects with cancelled', async () => {
    const silent = await startSilentListener(`${BASE}.202`);
    try {
      const machine = await machineFor({ host: silent.host, port: silent.port, user: 'nobody' }, { knownHostsFiles: [], connectTimeoutMs: 5000 });
      const ac = new AbortController();
      const p = machine.exec(['true'], { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      expect(await codeOf(p)).toMatchObject({ code: 'cancelled' });
      await machine.close();
    } finally {
      await silent.close();
    }
  });

  it('sshd killed mid-upload → a typed error, no hang; the next call reconnects or fails typed', async () => {
    const m = fx.machines[1]!;
    const machine = await machineFor(m, { knownHostsFiles: [fx.knownHostsPath] });
    const big = await mkdtemp(join(work, 'big-'));
    // 40 MB of incompressible data: far more than the channel window, so the upload is surely in flight.
    for (let i = 0; i < 4; i++) await writeFile(join(big, `blob${i}`), randomBytes(10 * 1024 * 1024));
    const dir = await machine.mkTempDir('cd-kill-');
    let killed = false;
    const upload = machine.upload(big, dir, {
      onProgress: (p) => {
        if (!killed && p.bytes > 2 * 1024 * 1024) {
          killed = true;
          void fx.killOne(1);
        }
      },
    });
    const result = await codeOf(upload);
    // The machine is this host: remove the half-uploaded folder directly (its sshd is gone).
    await rm(dir, { recursive: true, force: true });
    expect(killed).toBe(true);
    expect(result).toMatchObject({ code: 'ssh-unreachable', host: m.host });
    expect(await codeOf(machine.exec(['true']))).toMatchObject({ code: 'ssh-unreachable' });
  });
});

describe('~/.ssh/config', () => {
  it('resolves a Host alias (HostName, User, Port, IdentityFile) and connects through it', async () => {
    const alias = fx.machines[0]!;
    const canary = join(work, 'match-exec-canary');
    const home = await mkdtemp(join(work, 'home-'));
    const configPath = join(home, 'ssh_config');
    await writeFile(
      configPath,
      [
        'Host site-one',
        `  HostName ${alias.host}`,
        `  User ${alias.user}`,
        `  Port ${alias.port}`,
        `  IdentityFile ${fx.clientKeyPath}`,
        `Match exec "touch ${canary}"`,
        '  User wrong',
        '',
      ].join('\n'),
    );
    const ssh = await resolveSsh({ host: 'site-one' }, { sshConfigPath: configPath, homeDir: home });
    expect(ssh).toMatchObject({ alias: 'site-one', host: alias.host, port: alias.port, user: alias.user, identityFiles: [fx.clientKeyPath] });
    const machine = createMachine({ kind: 'remote', ssh }, { knownHostsFiles: [fx.knownHostsPath], agentSocket: null });
    expect((await machine.exec(['id', '-un'])).stdout).toBe(`${alias.user}\n`);
    await machine.close();
    // `Match exec` is never evaluated inside the app.
    expect(existsSync(canary)).toBe(false);
  });
});
