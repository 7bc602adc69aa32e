import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMachines, type MachinesFixture } from '../../test/support/sshd';
import { generateKits } from '../federations/kits/example-kits';
import { runCli } from '../../test/support/run-cli';

// This file owns 127.0.30.x.
let fx: MachinesFixture;
let dir = '';
let dataDir = '';

beforeAll(async () => {
  fx = await startMachines(2, { base: '127.0.30', port: 'auto' });
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-fed-'));
  dataDir = join(dir, 'data');
});

afterAll(async () => {
  await fx?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A project with one local server and the fixture's machines as clients. */
async function project(name: string): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const participants = [
    { name: 'server.localhost', type: 'server' as const },
    ...fx.machines.map((_, i) => ({ name: `site-${i + 1}`, type: 'client' as const })),
  ];
  await writeFile(join(folder, 'project.yml'), stringify({ api_version: 3, name, participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }));
  const machines: Record<string, unknown> = { 'server.localhost': { type: 'local' } };
  fx.machines.forEach((m, i) => (machines[`site-${i + 1}`] = { type: 'remote', ip: m.host, port: m.port, user: m.user, identity: fx.clientKeyPath }));
  await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' }, machines }));
  await generateKits(participants, join(folder, 'kits'));
  return folder;
}

// Each test runs several CLI processes through tsx: minutes on a loaded 2-core machine. Nothing here is timed.
describe('clusterdesk fed (real sshd machines and a local one)', { timeout: 300_000 }, () => {
  it('runs the whole lifecycle from the project folder, human and --json', async () => {
    const folder = await project('lifecycle');
    const start = await runCli(['--json', 'fed', 'start', '--accept-new'], { dataDir, cwd: folder, timeoutMs: 120_000 });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    const started = start.json<{ status: string; outcomes: { target: string; result: string }[] }>();
    expect(started.status).toBe('running');
    expect(started.outcomes.map((o) => o.result)).toEqual(['started', 'started', 'started']);

    const status = await runCli(['fed', 'status'], { dataDir, cwd: folder });
    expect(status.stdout).toContain('status: running');
    expect(status.stdout).toMatch(/site-2\s+remote\s+127\.0\.30\./);

    const logs = await runCli(['fed', 'logs', '-n', '5'], { dataDir, cwd: folder });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('== site-1 ==');

    const probe = await runCli(['--json', 'fed', 'probe'], { dataDir, cwd: folder });
    expect(probe.json<{ probes: { reachable: boolean }[] }>().probes.every((p) => p.reachable)).toBe(true);
    const probeHuman = await runCli(['fed', 'probe'], { dataDir, cwd: folder });
    expect(probeHuman.stdout).toMatch(/MACHINE\s+REACHABLE\s+ALIVE/);
    expect(probeHuman.stdout).toMatch(/site-1\s+yes/);
    const logsJson = (await runCli(['--json', 'fed', 'logs', '-n', '3'], { dataDir, cwd: folder })).json<{ logs: { machine: string; lines: string[] }[] }>();
    expect(logsJson.logs.map((l) => l.machine).sort()).toEqual(['server.localhost', 'site-1', 'site-2']);
    expect(logsJson.logs.every((l) => l.lines.length <= 3)).toBe(true);

    const stop = await runCli(['fed', 'stop'], { dataDir, cwd: folder });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('status: dirty');
    const again = await runCli(['--json', 'fed', 'stop'], { dataDir, cwd: folder });
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ status: 'dirty' });

    const clean = await runCli(['--json', 'fed', 'clean'], { dataDir, cwd: folder, timeoutMs: 120_000 });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.json()).toMatchObject({ status: 'clean' });
  });

  it('refuses unknown host keys without --accept-new before touching any machine, naming the fingerprint', async () => {
    const folder = await project('strict');
    const r = await runCli(['--json', 'fed', 'start', join(folder, 'refedez.yaml')], { dataDir, timeoutMs: 120_000 });
    expect(r.code, r.stdout).toBe(1);
    const out = r.json<{ ok: boolean; error: { code: string; host: string; details: { fingerprint: string } } }>();
    expect(out.error.code).toBe('ssh-hostkey-unknown');
    expect(out.error.details.fingerprint).toMatch(/^SHA256:/);
    expect(fx.machines.map((m) => m.host)).toContain(out.error.host);
    const status = await runCli(['--json', 'fed', 'status', folder], { dataDir });
    expect(status.json()).toMatchObject({ status: 'clean', machines: [] });

    // Human form of start and of a forced clean (which stops first).
    const start = await runCli(['fed', 'start', '--accept-new', folder], { dataDir, timeoutMs: 120_000 });
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/site-1\s+started/);
    expect(start.stdout).toContain('status: running');
    const clean = await runCli(['fed', 'clean', '--force', folder], { dataDir, timeoutMs: 120_000 });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('status: clean');
  });

  it('an exported running federation is stopped and cleaned from a colleague’s checkout', async () => {
    const mine = await project('shared');
    expect((await runCli(['fed', 'start', '--accept-new', mine], { dataDir, timeoutMs: 120_000 })).code).toBe(0);
    const bundle = join(dir, 'shared.cdstate');
    expect((await runCli(['state', 'export', bundle, mine], { dataDir })).code).toBe(0);

    // The colleague has the same refedez.yaml and project.yml (and the machines' keys), nothing else.
    const theirs = join(dir, 'colleague');
    await mkdir(theirs);
    for (const f of ['refedez.yaml', 'project.yml']) await copyFile(join(mine, f), join(theirs, f));
    const theirData = join(dir, 'colleague-data');
    expect((await runCli(['--json', 'state', 'import', bundle, theirs], { dataDir: theirData })).json()).toMatchObject({ written: true });
    const stop = await runCli(['--json', 'fed', 'stop', '--accept-new', theirs], { dataDir: theirData, timeoutMs: 120_000 });
    expect(stop.code, stop.stdout).toBe(0);
    const stopped = stop.json<{ status: string; outcomes: { target: string; result: string }[] }>();
    expect(stopped.status).toBe('dirty');
    expect(stopped.outcomes.map((o) => o.result)).toEqual(['signalled', 'signalled', 'signalled']);
    const clean = await runCli(['--json', 'fed', 'clean', '--accept-new', theirs], { dataDir: theirData, timeoutMs: 120_000 });
    expect(clean.code, clean.stdout).toBe(0);
    expect(clean.json()).toMatchObject({ status: 'clean' });

    // My own record still says running; stopping and cleaning it now finds nothing left to do, and succeeds.
    expect((await runCli(['fed', 'stop', mine], { dataDir, timeoutMs: 120_000 })).code).toBe(0);
    const mineClean = await runCli(['--json', 'fed', 'clean', mine], { dataDir, timeoutMs: 120_000 });
    expect(mineClean.code, mineClean.stdout).toBe(0);
    expect(mineClean.json()).toMatchObject({ status: 'clean' });
  });
});
