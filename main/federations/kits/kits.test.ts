import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { type MachinesFixture, pidAlive, startMachines } from '../../../test/support/sshd';
import { loadFederationConfig } from '../config/federation-config';
import { createMachine, type Machine, resolveSsh } from '../machines/index';
import { generateKits } from './example-kits';
import { findOnPath, prepareKits } from './provision';

// The example project shipped in examples/federation (read as data: examples/ is outside the TS project).
const EXAMPLE_PROJECT = fileURLToPath(new URL('../../../examples/federation/project.yml', import.meta.url));

// This file owns 127.0.12.x.
const BASE = '127.0.12';

let work: string;
let fx: MachinesFixture;
const machines: Record<'local' | 'ssh', Machine> = {} as never;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cd-kits-'));
  fx = await startMachines(1, { base: BASE, port: 'auto' });
  const m = fx.machines[0]!;
  machines.local = createMachine({ kind: 'local' });
  machines.ssh = createMachine(
    { kind: 'remote', ssh: await resolveSsh({ host: m.host, port: m.port, user: m.user, identity: fx.clientKeyPath }, { sshConfigPath: null }) },
    { knownHostsFiles: [fx.knownHostsPath], agentSocket: null },
  );
});

afterAll(async () => {
  await machines.ssh?.close();
  await fx?.stop();
  await rm(work, { recursive: true, force: true });
});

async function waitFor<T>(probe: () => Promise<T | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readPid(m: Machine, file: string): Promise<number | null> {
  if (!(await m.exists(file))) return null;
  const [line] = await m.readTail(file, 1);
  const pid = Number(line);
  return Number.isSafeInteger(pid) && pid > 1 ? pid : null;
}

describe('generated kits', () => {
  it('one kit per non-admin participant, scripts executable, payload as asked', async () => {
    const out = join(work, 'gen');
    const kits = await generateKits(EXAMPLE_PROJECT, out, { extraFiles: 10, bytes: 100_000 });
    expect(kits.map((k) => [k.name, k.type])).toEqual([
      ['server1', 'server'],
      ['site-1', 'client'],
      ['site-2', 'client'],
    ]);
    for (const f of ['start.sh', 'sub_start.sh', 'fl_process.sh']) expect((await stat(join(out, 'site-1', 'startup', f))).mode & 0o111).toBe(0o111);
    const parts = await readdir(join(out, 'site-1', 'custom'));
    expect(parts).toHaveLength(10);
    let total = 0;
    for (const p of parts) total += (await stat(join(out, 'site-1', 'custom', p))).size;
    expect(total).toBe(100_000);
    await expect(generateKits([{ name: '../x', type: 'client' }], out)).rejects.toThrow(/invalid participant/);
  });

  describe.each(['local', 'ssh'] as const)('on a %s machine', (kind) => {
    it('starts in the background, heartbeats, and exits removing its markers after shutdown.fl', async () => {
      const m = machines[kind];
      const [kit] = await generateKits([{ name: 'site-1', type: 'client' }], join(work, `run-${kind}`));
      const dir = await m.mkTempDir('cd-kit-');
      await m.upload(kit!.path, dir);
      const launched = await m.launchDetached([join(dir, 'startup', 'start.sh')], { cwd: dir, logFile: join(dir, 'launch.log') });
      expect(launched).toBeGreaterThan(1);

      const daemon = await waitFor(() => readPid(m, join(dir, 'daemon_pid.fl')));
      const proc = await waitFor(() => readPid(m, join(dir, 'pid.fl')));
      expect(await m.isAlive(daemon)).toBe(true);
      expect(await m.isAlive(proc)).toBe(true);
      // Two heartbeats: the process keeps running after start.sh returned.
      await waitFor(async () => (await m.readTail(join(dir, 'log.txt'), 50)).some((l) => l.endsWith('heartbeat 2')));

      await m.touch(join(dir, 'shutdown.fl'));
      await waitFor(async () => !(await m.isAlive(daemon)) && !(await m.isAlive(proc)));
      expect(pidAlive(daemon)).toBe(false);
      for (const marker of ['pid.fl', 'daemon_pid.fl', 'shutdown.fl']) expect(await m.exists(join(dir, marker))).toBe(false);
      const log = await m.readTail(join(dir, 'log.txt'), 3);
      expect(log.at(-1)).toMatch(/shutdown requested: stopped$/);
      await m.removeDir(dir);
    });
  });

  it('gives up after 5 crashes within 300 s and removes its markers', async () => {
    const m = machines.local;
    const [kit] = await generateKits([{ name: 'server1', type: 'server' }], join(work, 'crash'), { restartDelaySec: 0 });
    const dir = await m.mkTempDir('cd-kit-');
    await m.upload(kit!.path, dir);
    await writeFile(join(dir, 'crash.fl'), '');
    await m.launchDetached([join(dir, 'startup', 'start.sh')], { cwd: dir, logFile: join(dir, 'launch.log') });
    const log = await waitFor(async () => {
      const lines = await m.readTail(join(dir, 'log.txt'), 100).catch(() => []);
      return lines.some((l) => l.endsWith('giving up')) ? lines : null;
    });
    expect(log.filter((l) => /exited with code 3/.test(l))).toHaveLength(5);
    expect(log.filter((l) => /simulated crash/.test(l))).toHaveLength(5);
    await waitFor(async () => !(await m.exists(join(dir, 'daemon_pid.fl'))));
    expect(await m.exists(join(dir, 'pid.fl'))).toBe(false);
    await m.removeDir(dir);
  });
});

describe('prepareKits', () => {
  let cfgDir: string;
  beforeAll(async () => {
    cfgDir = join(work, 'cfg');
    await mkdir(cfgDir, { recursive: true });
    await writeFile(
      join(cfgDir, 'project.yml'),
      'name: proj\nparticipants:\n  - {name: server1, type: server}\n  - {name: site-1, type: client}\n  - {name: admin@x.org, type: admin}\n',
    );
  });

  async function config(extra: string) {
    const p = join(cfgDir, `refedez-${Math.random()}.yaml`);
    await writeFile(p, `refedez:\n  capabilities: ./project.yml\n${extra}machines:\n  server1: {type: local}\n  site-1: {type: local}\n`);
    return loadFederationConfig(p, { sshConfigPath: null });
  }

  it('the shipped example federation validates and finds its generated kits', async () => {
    const ex = join(work, 'example');
    await mkdir(ex, { recursive: true });
    for (const f of ['refedez.yaml', 'project.yml']) {
      await writeFile(join(ex, f), await readFile(fileURLToPath(new URL(`../../../examples/federation/${f}`, import.meta.url))));
    }
    await generateKits(join(ex, 'project.yml'), join(ex, 'kits'));
    const cfg = await loadFederationConfig(join(ex, 'refedez.yaml'), { sshConfigPath: null });
    expect(cfg.warnings).toEqual([]);
    expect(cfg.machines.map((m) => m.kind)).toEqual(['local', 'local', 'local']);
    const set = await prepareKits(cfg, { nvflare: null });
    expect([...set.kits.keys()]).toEqual(['server1', 'site-1', 'site-2']);
  });

  it('takes kits from the configured folder, even when nvflare is installed', async () => {
    await generateKits(join(cfgDir, 'project.yml'), join(cfgDir, 'kits'));
    const set = await prepareKits(await config('  kits: ./kits\n'), { nvflare: '/bin/false' });
    expect(set.source).toBe('folder');
    expect([...set.kits]).toEqual([
      ['server1', join(cfgDir, 'kits', 'server1')],
      ['site-1', join(cfgDir, 'kits', 'site-1')],
    ]);
  });

  it('accepts a FLARE workspace as kits folder and picks the newest prod_NN', async () => {
    const ws = join(cfgDir, 'flare-ws');
    for (const prod of ['prod_00', 'prod_02', 'prod_10']) await generateKits(join(cfgDir, 'project.yml'), join(ws, 'proj', prod));
    const set = await prepareKits(await config('  kits: ./flare-ws\n'), { nvflare: null });
    expect(set.kits.get('site-1')).toBe(join(ws, 'proj', 'prod_10', 'site-1'));
  });

  it('names the participant whose kit is missing', async () => {
    await generateKits([{ name: 'server1', type: 'server' }], join(cfgDir, 'partial'));
    await expect(prepareKits(await config('  kits: ./partial\n'), { nvflare: null })).rejects.toMatchObject({
      code: 'provision-failed',
      message: expect.stringContaining('site-1'),
    });
  });

  it('without nvflare and without kits: provision-failed with what to do', async () => {
    await expect(prepareKits(await config(''), { path: join(work, 'empty-path') })).rejects.toMatchObject({
      code: 'provision-failed',
      fields: { field: 'refedez.kits', hint: expect.stringContaining('nvflare') },
    });
  });

  it('runs nvflare provision from PATH and takes the newest prod_NN', async () => {
    const bin = join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const kitsSrc = join(work, 'fake-src');
    await generateKits(join(cfgDir, 'project.yml'), kitsSrc);
    // A stand-in for the nvflare CLI: checks its arguments and lays out a FLARE workspace.
    await writeFile(
      join(bin, 'nvflare'),
      `#!/bin/sh\n[ "$1" = provision ] && [ "$2" = -p ] && [ -f "$3" ] && [ "$4" = -w ] || { echo "bad args: $*" >&2; exit 2; }\n` +
        `mkdir -p "$5/proj/prod_00" "$5/proj/prod_01" && cp -r ${kitsSrc}/. "$5/proj/prod_01/" && echo "Project yaml was provisioned"\n`,
    );
    await chmod(join(bin, 'nvflare'), 0o755);
    expect(await findOnPath('nvflare', `${join(work, 'empty-path')}:${bin}`)).toBe(join(bin, 'nvflare'));
    const cfg = await config('  folder: ./.state\n');
    const set = await prepareKits(cfg, { path: bin });
    expect(set.source).toBe('nvflare');
    expect(set.root).toBe(join(cfgDir, '.state', 'workspace', 'proj', 'prod_01'));
    expect(set.kits.get('server1')).toBe(join(set.root, 'server1'));
    expect(set.log).toContain('provisioned');
  });

  it('a failing nvflare → provision-failed carrying its output', async () => {
    const bin = join(work, 'bin-fail');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'nvflare'), '#!/bin/sh\necho "ERROR: project.yml invalid" >&2\nexit 1\n');
    await chmod(join(bin, 'nvflare'), 0o755);
    await expect(prepareKits(await config(''), { path: bin })).rejects.toMatchObject({
      code: 'provision-failed',
      message: expect.stringContaining('project.yml invalid'),
    });
  });
});
