/**
 * The same behaviour, checked on both Machine kinds: local (this process's user) and ssh (a real sshd on loopback
 * with a throwaway user).
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MachinesFixture, pidAlive, startMachines } from '../../../test/support/sshd';
import { createMachine } from './index';
import { resolveSsh } from './ssh-settings';
import type { Machine, UploadProgress } from './types';

// This file owns 127.0.10.x.
const BASE = '127.0.10';

let fx: MachinesFixture;
let src: string;
let loopSrc: string;
const machines: Record<'local' | 'ssh', Machine> = {} as never;

beforeAll(async () => {
  fx = await startMachines(1, { base: BASE, port: 'auto' });
  const m = fx.machines[0]!;
  const ssh = await resolveSsh({ host: m.host, port: m.port, user: m.user, identity: fx.clientKeyPath }, { sshConfigPath: null });
  machines.ssh = createMachine({ kind: 'remote', ssh }, { knownHostsFiles: [fx.knownHostsPath], agentSocket: null, connectTimeoutMs: 5000 });
  machines.local = createMachine({ kind: 'local' });

  // A small kit-like folder: an executable script, a plain file, a nested folder, an empty file.
  src = await mkdtemp(join(tmpdir(), 'cd-contract-src-'));
  await mkdir(join(src, 'startup'));
  await writeFile(join(src, 'startup', 'run.sh'), '#!/bin/sh\necho ran "$@"\n');
  await chmod(join(src, 'startup', 'run.sh'), 0o755);
  await writeFile(join(src, 'config.json'), JSON.stringify({ big: 'x'.repeat(300_000) }));
  await chmod(join(src, 'config.json'), 0o640);
  await writeFile(join(src, 'startup', 'empty'), '');

  loopSrc = await mkdtemp(join(tmpdir(), 'cd-contract-loop-'));
  await writeFile(join(loopSrc, 'loop.sh'), '#!/bin/sh\necho started\nwhile [ ! -f stop.fl ]; do sleep 0.1; done\necho stopping\n');
  await chmod(join(loopSrc, 'loop.sh'), 0o755);
});

afterAll(async () => {
  await machines.ssh?.close();
  await fx?.stop();
  for (const d of [src, loopSrc]) if (d) await rm(d, { recursive: true, force: true });
});

describe.each(['local', 'ssh'] as const)('%s machine', (kind) => {
  const m = () => machines[kind];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs)
      await m()
        .removeDir(d)
        .catch(() => undefined);
  });

  it('passes hostile argv through verbatim and never runs it', async () => {
    const canary = join('/tmp', `CANARY-${kind}-${process.pid}-${Date.now()}`);
    const hostile = ['two words', "it's", '"dq"', `$(touch ${canary})`, `\`touch ${canary}\``, `; touch ${canary}`, 'line\nbreak', 'ünï ✓', ''];
    const res = await m().exec(['printf', '%s\\n', ...hostile]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(hostile.map((a) => `${a}\n`).join(''));
    expect(existsSync(canary)).toBe(false);
  });

  it('reports non-zero exits and stderr as a result', async () => {
    const res = await m().exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(res).toEqual({ code: 3, stdout: '', stderr: 'oops\n' });
  });

  it('creates private temp folders under the temp root', async () => {
    const dir = await m().mkTempDir('cd-contract-');
    dirs.push(dir);
    expect(dir.startsWith('/tmp/cd-contract-')).toBe(true);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await expect(m().mkTempDir('../escape')).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('uploads a folder keeping exec bits, with progress', async () => {
    const dir = await m().mkTempDir('cd-contract-');
    dirs.push(dir);
    const progress: UploadProgress[] = [];
    const stats = await m().upload(src, join(dir, 'kit'), { onProgress: (p) => progress.push(p) });
    expect(stats).toEqual({ files: 3, bytes: expect.any(Number) });
    expect(progress.at(-1)).toMatchObject({ files: 3, totalFiles: 3, bytes: stats.bytes, totalBytes: stats.bytes });
    expect((await stat(join(dir, 'kit', 'startup', 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'kit', 'config.json'))).size).toBe((await stat(join(src, 'config.json'))).size);
    const ran = await m().exec([join(dir, 'kit', 'startup', 'run.sh'), 'a b']);
    expect(ran.stdout).toBe('ran a b\n');
  });

  it('launches detached, signals through files, tails the log and removes the folder', async () => {
    const dir = await m().mkTempDir('cd-contract-');
    await m().upload(loopSrc, dir);
    const pid = await m().launchDetached([join(dir, 'loop.sh')], { cwd: dir, logFile: join(dir, 'log.txt') });
    expect(pid).toBeGreaterThan(1);
    expect(await m().isAlive(pid!)).toBe(true);

    await m().touch(join(dir, 'stop.fl'));
    expect(await m().exists(join(dir, 'stop.fl'))).toBe(true);
    await waitFor(async () => !(await m().isAlive(pid!)));
    expect(pidAlive(pid!)).toBe(false);
    expect(await m().readTail(join(dir, 'log.txt'), 1)).toEqual(['stopping']);
    expect(await m().readTail(join(dir, 'log.txt'), 10)).toEqual(['started', 'stopping']);
    await expect(m().readTail(join(dir, 'missing.txt'), 5)).rejects.toMatchObject({ code: 'not-found' });

    await m().removeDir(dir);
    expect(await m().exists(dir)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('touch fails with a typed error when the folder is gone', async () => {
    await expect(m().touch('/tmp/cd-no-such-folder-xyz/shutdown.fl')).rejects.toMatchObject({ code: 'ssh-command', host: m().host });
  });

  it('refuses to remove dangerous paths', async () => {
    for (const p of ['/', '/tmp', '/home/someone', '/usr/lib', 'relative/path', '/tmp/x/../..', '/tmp/x/']) {
      await expect(m().removeDir(p)).rejects.toMatchObject({ code: 'path-refused' });
    }
  });

  it('honours cancellation', async () => {
    const ac = new AbortController();
    const run = m().exec(['sleep', '5'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('bounds a call by its timeout', async () => {
    await expect(m().exec(['sleep', '5'], { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ssh-timeout', host: m().host });
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
