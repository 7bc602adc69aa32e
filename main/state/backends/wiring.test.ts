/**
 * A workspace whose config names a PostgreSQL backend (`clusterdesk: { backend: postgres://… }`): the StateStore
 * routes it there, and the CLI (`hpc`, `fed`, `state`) and the app's services honour it alike. Real PostgreSQL
 * (test/support/postgres.ts), real libvirt test driver, real CLI processes; nothing is written to the local file.
 */
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type PostgresFixture } from '../../../test/support/postgres';
import { rejection } from '../../../test/support/rejection';
import { runCli } from '../../../test/support/run-cli';
import { sampleCluster } from '../../../test/support/state/samples';
import { createDemoCluster } from '../../clusters/service';
import { validateFederationConfig } from '../../federations/config/federation-config';
import { generateKits } from '../../federations/kits/example-kits';
import { detectWorkspace } from '../../workspaces/detect';
import { StateStore } from '../store';
import { readBackendSetting } from './backend-config';
import { PgStateBackend } from './postgres';
import { bindStateBackend } from './route';

const why = postgresUnavailable();
if (why) console.log(`[postgres wiring tests skipped] ${why}`);
const d = why ? describe.skip : describe;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

d('a workspace on a PostgreSQL backend (real server)', { timeout: 300_000 }, () => {
  let pgf: PostgresFixture;
  let dir = '';
  let env: NodeJS.ProcessEnv;
  let reader: PgStateBackend;

  beforeAll(async () => {
    pgf = await startPostgres();
    process.env.PGPASSFILE = pgf.passfile;
    env = { PGPASSFILE: pgf.passfile };
    dir = await mkdtemp(join(tmpdir(), 'cd-pg-wiring-'));
    reader = PgStateBackend.create(pgf.url);
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await pgf?.stop();
    await rm(dir, { recursive: true, force: true });
    delete process.env.PGPASSFILE;
  });

  it('the store routes a bound target to the database: load, transaction, history, lock holder; no local file', async () => {
    const store = new StateStore({ lockTimeoutMs: 300 });
    const file = join(dir, 'routed', 'state.json');
    const target = { kind: 'cluster' as const, file };
    bindStateBackend(file, { url: `${pgf.url}?schema=wiring`, key: 'routed' });
    try {
      const w1 = await store.update(target, 'test', () => sampleCluster(2, 'routed'));
      const w2 = await store.update(target, 'test', (cur) => ({ ...cur!, status: 'stopped' }));
      expect(w2.serial).toBe(w1.serial + 1);
      expect(await exists(file)).toBe(false);
      expect(await store.load(target)).toMatchObject({ cluster_name: 'routed', status: 'stopped', serial: w2.serial });
      expect((await store.backups(target)).map((b) => b.serial)).toEqual([w2.serial, w1.serial]);
      expect(await store.placeOf(target)).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/clusterdesk\?schema=wiring#routed$/);

      let release = () => undefined as void;
      const held = new Promise<void>((r) => (release = r));
      let inside = () => undefined as void;
      const entered = new Promise<void>((r) => (inside = r));
      const tx = store.transaction(target, 'cluster:stop', async () => {
        inside();
        await held;
      });
      await entered;
      const holder = await store.lockInfo(target);
      // Another desk (another store, outside this transaction) waits, then gets state-locked naming the holder.
      const other = new StateStore({ lockTimeoutMs: 200 });
      const locked = await rejection(other.update(target, 'cluster:start', (c) => c!));
      release();
      await tx;
      await other.close();
      expect(holder).toMatchObject({ operation: 'cluster:stop', pid: process.pid });
      expect(locked.toData()).toMatchObject({ code: 'state-locked', details: { holder: { operation: 'cluster:stop' } } });
      expect(await store.lockInfo(target)).toBeNull();
      expect(await rejection(store.forceUnlock(target, 'x'))).toMatchObject({ code: 'unsupported' });
      // Explicitly the file (push's source): the route does not apply.
      expect(await store.load({ ...target, backend: null })).toBeNull();
    } finally {
      bindStateBackend(file, null);
      await store.close();
    }
  });

  it('a password in the backend URL is refused with the libpq hint, in both configs, never echoed', async () => {
    const withPw = pgf.url.replace('clusterdesk@', 'clusterdesk:hunter2@');
    const err = await rejection(Promise.resolve().then(() => readBackendSetting(withPw, 'x')));
    expect(err.code).toBe('config-invalid');
    expect(err.message).not.toContain('hunter2');
    expect(err.hint).toMatch(/pgpass/);
    expect(await rejection(Promise.resolve().then(() => readBackendSetting('mysql://db/x', 'x')))).toMatchObject({ code: 'config-invalid' });

    const demo = await createDemoCluster(join(dir, 'data-pw'), join(dir, 'pw-cluster'));
    await writeFile(demo.configFile, (await readFile(demo.configFile, 'utf8')).replace('  pool_path: "pool"', `  pool_path: "pool"\n  backend: "${withPw}"`));
    const detected = await rejection(detectWorkspace(demo.configFile));
    expect(detected.toData()).toMatchObject({ code: 'config-invalid', path: demo.configFile, field: 'clusterdesk.backend' });
    expect(detected.message).not.toContain('hunter2');
    const cli = await runCli(['--json', 'hpc', 'status', demo.configFile], { dataDir: join(dir, 'data-pw'), env });
    expect(cli.code).not.toBe(0);
    expect(cli.stdout).not.toContain('hunter2');
    expect(cli.json<{ error: { code: string; hint: string } }>().error).toMatchObject({ code: 'config-invalid' });

    const fed = join(dir, 'pw-fed');
    await mkdir(fed, { recursive: true });
    await writeFile(join(fed, 'project.yml'), stringify({ api_version: 3, name: 'pw', participants: [{ name: 'server.localhost', type: 'server' }] }));
    await writeFile(
      join(fed, 'refedez.yaml'),
      stringify({ refedez: { capabilities: './project.yml' }, machines: { 'server.localhost': { type: 'local' } }, clusterdesk: { backend: withPw } }),
    );
    const v = await validateFederationConfig(join(fed, 'refedez.yaml'));
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.errors[0]).toMatchObject({ field: 'clusterdesk.backend', line: expect.any(Number) });
      expect(v.errors[0]!.hint).toMatch(/pgpass/);
    }
  });

  it('CLI: hpc start and status on a cluster whose cluster.yaml names the backend (test driver)', async () => {
    const dataDir = join(dir, 'data-hpc');
    const demo = await createDemoCluster(dataDir, join(dir, 'hpc'));
    const url = `${pgf.url}?schema=team&workspace=lab-demo`;
    await writeFile(demo.configFile, (await readFile(demo.configFile, 'utf8')).replace('  pool_path: "pool"', `  pool_path: "pool"\n  backend: "${url}"`));

    const start = await runCli(['--json', 'hpc', 'start', demo.configFile], { dataDir, env });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.json()).toMatchObject({ status: 'running' });
    expect(await exists(join(dir, 'hpc', 'output', 'state.json'))).toBe(false);

    const inDb = await PgStateBackend.create(url).load({ kind: 'cluster', key: 'lab-demo' });
    expect(inDb).toMatchObject({ cluster_name: 'demo', status: 'running' });

    const status = await runCli(['hpc', 'status', demo.configFile], { dataDir, env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/demo-controller\s+RUNNING/);
    const backups = await runCli(['--json', 'state', 'backups', demo.configFile], { dataDir, env });
    expect(backups.code, backups.stderr).toBe(0);
    expect(backups.stdout).toContain('#lab-demo');
  });

  it('CLI: fed start, status, stop and clean on a federation whose refedez.yaml names the backend (local machines)', async () => {
    const dataDir = join(dir, 'data-fed');
    const folder = join(dir, 'fedpg');
    await mkdir(folder, { recursive: true });
    const participants = [
      { name: 'server.localhost', type: 'server' as const },
      { name: 'site-1', type: 'client' as const },
    ];
    await writeFile(
      join(folder, 'project.yml'),
      stringify({ api_version: 3, name: 'fedpg', participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }),
    );
    await writeFile(
      join(folder, 'refedez.yaml'),
      stringify({
        refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' },
        machines: { 'server.localhost': { type: 'local' }, 'site-1': { type: 'local' } },
        clusterdesk: { backend: `${pgf.url}?schema=team` },
      }),
    );
    await generateKits(participants, join(folder, 'kits'));

    const start = await runCli(['--json', 'fed', 'start'], { dataDir, cwd: folder, env, timeoutMs: 120_000 });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.json()).toMatchObject({ status: 'running' });
    expect(await exists(join(folder, '.refedez', 'state.json'))).toBe(false);
    // The key defaults to the workspace's name (the folder's name).
    expect(await PgStateBackend.create(`${pgf.url}?schema=team`).load({ kind: 'federation', key: 'fedpg' })).toMatchObject({ type: 'running' });

    const status = await runCli(['fed', 'status'], { dataDir, cwd: folder, env });
    expect(status.stdout).toContain('status: running');
    const stop = await runCli(['--json', 'fed', 'stop'], { dataDir, cwd: folder, env });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.json()).toMatchObject({ status: 'dirty' });
    const clean = await runCli(['--json', 'fed', 'clean'], { dataDir, cwd: folder, env, timeoutMs: 120_000 });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.json()).toMatchObject({ status: 'clean' });
    expect(await exists(join(folder, '.refedez', 'state.json'))).toBe(false);
  });
});
