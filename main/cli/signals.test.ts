import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMachines, type MachinesFixture } from '../../test/support/sshd';
import { createDemoCluster, demoConfigYaml } from '../clusters/service';
import { generateKits } from '../federations/kits/example-kits';
import { StateStore } from '../state';
import { resolveWorkspace } from './common';

// SIGTERM during a real CLI operation (a child process): it exits within a bounded time with 128 + 15, the state file
// it was writing loads, and no lock is left behind. This file owns 127.0.33.x.
const ROOT = join(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Generous: the bound is about hanging forever (SIGTERM ignored), not about speed; a loaded machine is slow. */
const EXIT_BOUND_MS = 60_000;

let fx: MachinesFixture;
let dir = '';
let dataDir = '';

beforeAll(async () => {
  fx = await startMachines(2, { base: '127.0.33', port: 'auto' });
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-signals-'));
  dataDir = join(dir, 'data');
});

afterAll(async () => {
  await fx?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Interrupted {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly afterSignalMs: number;
}

/** Runs the CLI, sends SIGTERM once stderr shows `trigger`, and waits for the exit (SIGKILL after the bound). */
function interruptCli(args: readonly string[], trigger: RegExp, cwd: string): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', TSX, join(ROOT, 'main', 'entry', 'cli.ts'), '--data-dir', dataDir, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sentAt = 0;
    let killer: NodeJS.Timeout | undefined;
    child.stdout!.resume();
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!sentAt && trigger.test(stderr)) {
        sentAt = performance.now();
        child.kill('SIGTERM');
        killer = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      if (!sentAt) return reject(new Error(`the command ended before it could be interrupted (exit ${String(code)}):\n${stderr}`));
      resolve({ code, signal, stderr, afterSignalMs: performance.now() - sentAt });
    });
  });
}

async function expectConsistent(path: string): Promise<void> {
  const ws = await resolveWorkspace(path);
  const store = new StateStore({ historyLimit: 10, lockTimeoutMs: 1_000 });
  await expect(store.load(ws.target)).resolves.toBeDefined(); // parses and validates, or throws a typed error
  expect(await store.lockInfo(ws.target)).toBeNull();
}

describe('SIGTERM stops a busy CLI promptly and leaves the state consistent', { timeout: 300_000 }, () => {
  it('during hpc start (libvirt test driver)', async () => {
    const demo = await createDemoCluster(dataDir, join(dir, 'demo'));
    // Enough VMs that the start is surely still running when the first VM is being created.
    await writeFile(demo.configFile, demoConfigYaml(demo.clusterName, demo.uri, 200));
    const r = await interruptCli(['--json', 'hpc', 'start', demo.configFile], /"step":"(define|create|volume)/, dir);
    expect(r.signal, r.stderr).toBeNull(); // it exited by itself, not by the SIGKILL after the bound
    expect(r.code, r.stderr).toBe(143);
    expect(r.afterSignalMs).toBeLessThan(EXIT_BOUND_MS);
    expect(r.stderr).toContain('cancelling');
    await expectConsistent(demo.configFile);
  });

  it('during fed start (real sshd machines)', async () => {
    const folder = join(dir, 'fed');
    await mkdir(folder, { recursive: true });
    const participants = [
      { name: 'server.localhost', type: 'server' as const },
      ...fx.machines.map((_, i) => ({ name: `site-${i + 1}`, type: 'client' as const })),
    ];
    await writeFile(
      join(folder, 'project.yml'),
      stringify({ api_version: 3, name: 'sig', participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }),
    );
    const machines: Record<string, unknown> = { 'server.localhost': { type: 'local' } };
    fx.machines.forEach((m, i) => (machines[`site-${i + 1}`] = { type: 'remote', ip: m.host, port: m.port, user: m.user, identity: fx.clientKeyPath }));
    await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' }, machines }));
    await generateKits(participants, join(folder, 'kits'));

    const r = await interruptCli(['--json', 'fed', 'start', '--accept-new'], /"step":"connect"/, folder);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expect(r.afterSignalMs).toBeLessThan(EXIT_BOUND_MS);
    await expectConsistent(folder);
  });
});
