/**
 * Truthful results and exit codes (docs/cli.md "Exit codes"), through the real CLI in its own process: the libvirt
 * test driver for clusters, real sshd machines on loopback for federations.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMachines, type MachinesFixture } from '../../test/support/sshd';
import { clusterFixture, type ClusterFixture } from '../../test/support/clusters';
import { generateKits } from '../federations/kits/example-kits';
import { runCli } from '../../test/support/run-cli';

const run = promisify(execFile);
// This file owns 127.0.32.x.
const BASE = '127.0.32';

let dir = '';
let dataDir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-exit-'));
  dataDir = join(dir, 'data');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('clusterdesk hpc: exit codes and result words', () => {
  let fx: ClusterFixture | null = null;
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('validate answers a YAML syntax error with {valid:false, errors:[…]} (exit 1), not a thrown error', async () => {
    const folder = join(dir, 'broken');
    await mkdir(folder);
    const file = join(folder, 'cluster.yaml');
    await writeFile(file, 'version: "1.0"\nclusters:\n  hpc: [unclosed\n    name: x\n');
    const r = await runCli(['--json', 'hpc', 'validate', file], { dataDir });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = r.json<{ ok: boolean; valid: boolean; errors: { code: string; path: string; line: number }[]; plan: unknown[] }>();
    expect(out).toMatchObject({ ok: true, valid: false, plan: [] });
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ code: 'config-invalid', path: file });
    expect(out.errors[0]!.line).toBeGreaterThan(0);
    const human = await runCli(['hpc', 'validate', file], { dataDir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^Invalid:/);
  });

  it('a start refused before creating anything: libvirt-conflict, exit 1, no state file, a hint naming the CLI command', async () => {
    fx = await clusterFixture({ computeNodes: 1, seed: { networks: [{ name: 'hpc-network', octet: 8 }] } });
    const r = await runCli(['--json', 'hpc', 'start', fx.ws.configFile], { dataDir });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = r.json<{ ok: boolean; error: { code: string; hint: string } }>();
    expect(out).toMatchObject({ ok: false, error: { code: 'libvirt-conflict' } });
    expect(out.error.hint).toContain('clusterdesk hpc start');
    expect(out.error.hint).not.toMatch(/click/i);
    expect(await exists(fx.ws.statePath)).toBe(false);
    expect(JSON.parse(r.stdout) as unknown).not.toHaveProperty('error.fields');
  });

  it('stop of VMs that were already off says already-off (exit 0); a corrupt state names `clusterdesk state restore ID`', { timeout: 300_000 }, async () => {
    await fx?.cleanup();
    fx = await clusterFixture({ computeNodes: 1 });
    expect((await runCli(['hpc', 'start', fx.ws.configFile], { dataDir })).code).toBe(0);
    const first = await runCli(['--json', 'hpc', 'stop', '--timeout', '0', fx.ws.configFile], { dataDir });
    expect(first.code, first.stdout).toBe(0);
    expect(
      first
        .json<{ outcomes: { result: string }[] }>()
        .outcomes.map((o) => o.result)
        .every((x) => x === 'stopped' || x === 'forced'),
    ).toBe(true);
    const again = await runCli(['--json', 'hpc', 'stop', fx.ws.configFile], { dataDir });
    expect(again.code).toBe(0);
    expect(again.json<{ status: string; outcomes: { result: string }[] }>()).toMatchObject({
      status: 'stopped',
      outcomes: [{ result: 'already-off' }, { result: 'already-off' }],
    });

    await writeFile(fx.ws.statePath, '{ not json');
    const corrupt = await runCli(['--json', 'hpc', 'stop', fx.ws.configFile], { dataDir });
    expect(corrupt.code).toBe(3);
    const err = corrupt.json<{ error: { code: string; hint: string } }>().error;
    expect(err.code).toBe('state-corrupt');
    expect(err.hint).toContain('clusterdesk state restore ID');
    expect(err.hint).not.toMatch(/click/i);
  });
});

describe('clusterdesk fed stop: exit codes and outcomes (real sshd machines)', () => {
  let machines: MachinesFixture;
  let folder = '';

  beforeAll(async () => {
    machines = await startMachines(2, { base: BASE, port: 'auto' });
    folder = join(dir, 'fed');
    await mkdir(folder, { recursive: true });
    const participants = [
      { name: 'server.localhost', type: 'server' as const },
      ...machines.machines.map((_, i) => ({ name: `site-${i + 1}`, type: 'client' as const })),
    ];
    await writeFile(
      join(folder, 'project.yml'),
      stringify({ api_version: 3, name: 'exits', participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }),
    );
    const m: Record<string, unknown> = { 'server.localhost': { type: 'local' } };
    machines.machines.forEach((x, i) => (m[`site-${i + 1}`] = { type: 'remote', ip: x.host, port: x.port, user: x.user, identity: machines.clientKeyPath }));
    await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' }, machines: m }));
    await generateKits(participants, join(folder, 'kits'));
  });

  afterAll(async () => {
    await runCli(['fed', 'clean', '--force', folder], { dataDir, timeoutMs: 120_000 }).catch(() => undefined);
    await machines?.stop();
  });

  type Out = { ok: boolean; status: string; outcomes: { target: string; result: string; error?: Record<string, unknown> }[] };

  it('ssh-auth is `failed` with exit 1; stop again on the dirty federation lists every machine; an unreachable machine is exit 4 with ok:true', async () => {
    const start = await runCli(['--json', 'fed', 'start', '--accept-new', folder], { dataDir, timeoutMs: 120_000 });
    expect(start.code, start.stdout + start.stderr).toBe(0);

    // site-1 now offers a key its server does not accept.
    const config = join(folder, 'refedez.yaml');
    const original = await readFile(config, 'utf8');
    const otherKey = join(dir, 'other_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const doc = parse(original) as { machines: Record<string, { identity?: string }> };
    doc.machines['site-1']!.identity = otherKey;
    await writeFile(config, stringify(doc));
    const stop = await runCli(['--json', 'fed', 'stop', folder], { dataDir, timeoutMs: 120_000 });
    expect(stop.code, stop.stdout + stop.stderr).toBe(1);
    const stopped = stop.json<Out>();
    expect(stopped).toMatchObject({ ok: true, status: 'dirty' });
    const site1 = stopped.outcomes.find((o) => o.target === 'site-1')!;
    expect(site1).toMatchObject({ result: 'failed', error: { code: 'ssh-auth' } });
    // A plain error object: documented keys only, never a serialized AppError.
    expect(Object.keys(site1.error!).every((k) => ['code', 'message', 'hint', 'path', 'host', 'line', 'field', 'details'].includes(k))).toBe(true);
    expect(stopped.outcomes.find((o) => o.target === 'site-2')).toMatchObject({ result: 'signalled' });

    const again = await runCli(['--json', 'fed', 'stop', folder], { dataDir, timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(
      again
        .json<Out>()
        .outcomes.map((o) => [o.target, o.result])
        .sort(),
    ).toEqual([
      ['server.localhost', 'already stopped'],
      ['site-1', 'already stopped'],
      ['site-2', 'already stopped'],
    ]);

    // Clean with the right key again (site-1's participant is asked to stop first), then a fresh start.
    await writeFile(config, original);
    const clean = await runCli(['--json', 'fed', 'clean', folder], { dataDir, timeoutMs: 120_000 });
    expect(clean.code, clean.stdout).toBe(0);
    expect((await runCli(['fed', 'start', folder], { dataDir, timeoutMs: 120_000 })).code).toBe(0);

    // site-2's SSH server goes away: the stop still completes (ok:true, dirty), and says so with exit 4.
    await machines.killOne(1);
    const partial = await runCli(['--json', 'fed', 'stop', folder], { dataDir, timeoutMs: 120_000 });
    expect(partial.code, partial.stdout).toBe(4);
    const p = partial.json<Out>();
    expect(p).toMatchObject({ ok: true, status: 'dirty' });
    expect(p.outcomes.find((o) => o.target === 'site-2')).toMatchObject({ result: 'unreachable', error: { code: 'ssh-unreachable' } });
    expect(p.outcomes.find((o) => o.target === 'site-1')).toMatchObject({ result: 'signalled' });
  }, 600_000);
});
