/**
 * The PostgreSQL backend against a real PostgreSQL server started by the test (test/support/postgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type PostgresFixture } from '../../../test/support/postgres';
import { AppError } from '../../errors';
import { rejection } from '../../../test/support/rejection';
import { StateStore } from '../store';
import { sampleCluster, tempDir } from '../../../test/support/state/samples';
import { libpqPassword, parsePgUrl } from './pg-connect';
import { PgStateBackend, type PgChange, type PgTarget } from './postgres';
import { pullToFile, pushToBackend } from './migrate';
import { runCli } from '../../../test/support/run-cli';
import { mkdir } from 'node:fs/promises';

const why = postgresUnavailable();
if (why) console.log(`[postgres tests skipped] ${why}`);
const d = why ? describe.skip : describe;

const child = fileURLToPath(new URL('./pg-child.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

class Kid {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  constructor(config: Record<string, unknown>, env: NodeJS.ProcessEnv) {
    // Its own process group: tsx runs the script in a child node process, and SIGKILL must reach that one.
    this.proc = spawn(tsx, [child, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    let buf = '';
    this.proc.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    this.proc.stderr!.on('data', () => undefined);
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }
  async waitFor(prefix: string, ms = 120_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => l.startsWith(prefix));
      if (hit) return hit;
      const err = this.lines.find((l) => l.startsWith('error'));
      if (err) throw new Error(err);
      if (Date.now() > end) throw new Error(`child never said ${prefix}: ${this.lines.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

d('PostgreSQL state backend (real server)', () => {
  let pgf: PostgresFixture;
  let env: NodeJS.ProcessEnv;
  const backends: PgStateBackend[] = [];
  const open = (opts: Parameters<typeof PgStateBackend.create>[1] = {}) => {
    const b = PgStateBackend.create(pgf.url, opts);
    backends.push(b);
    return b;
  };
  let n = 0;
  const key = () => `ws-${process.pid}-${++n}`;

  beforeAll(async () => {
    pgf = await startPostgres();
    process.env.PGPASSFILE = pgf.passfile;
    env = { ...process.env, PGPASSFILE: pgf.passfile };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await pgf?.stop();
    delete process.env.PGPASSFILE;
  });

  it('refuses a password in the URL and reads it the libpq way (.pgpass, PGPASSWORD)', async () => {
    const withPw = pgf.url.replace('clusterdesk@', 'clusterdesk:hunter2@');
    const err = await rejection(Promise.resolve().then(() => PgStateBackend.create(withPw)));
    expect(err.code).toBe('config-invalid');
    expect(err.message).not.toContain('hunter2');
    expect(err.hint).toMatch(/pgpass/);
    const loc = parsePgUrl(`${pgf.url}?schema=team_a&sslmode=disable`);
    expect(loc.schema).toBe('team_a');
    expect(loc.connectionString).not.toContain('schema=');
    expect(await libpqPassword(loc, { PGPASSFILE: pgf.passfile })).toBe(pgf.password);
    expect(await libpqPassword(loc, { PGPASSWORD: 'x', PGPASSFILE: pgf.passfile })).toBe('x');
    // A world-readable password file is ignored, as libpq does.
    const loose = join(pgf.dir, 'loose-pgpass');
    await writeFile(loose, `*:*:*:*:${pgf.password}\n`, { mode: 0o644 });
    expect(await libpqPassword(loc, { PGPASSFILE: loose })).toBeUndefined();
  });

  it('a wrong password is a typed refusal, not a crash', async () => {
    const bad = join(pgf.dir, 'bad-pgpass');
    await writeFile(bad, `*:*:*:*:wrong\n`, { mode: 0o600 });
    process.env.PGPASSFILE = bad;
    try {
      const err = await rejection(open().load({ kind: 'cluster', key: key() }));
      expect(err.code).toBe('state-permission');
      expect(err.host).toBe(`127.0.0.1:${pgf.port}`);
    } finally {
      process.env.PGPASSFILE = pgf.passfile;
    }
  });

  it('creates and versions its schema; several workspaces share the database by key', async () => {
    const a = open();
    const b = open();
    await Promise.all([a.migrate(), b.migrate()]);
    const ka = key();
    const kb = key();
    const wa = await a.update({ kind: 'cluster', key: ka }, 'test', () => sampleCluster(3, 'alpha'));
    const wb = await b.update({ kind: 'cluster', key: kb }, 'test', () => sampleCluster(2, 'beta'));
    expect(wa.serial).toBe(1);
    expect(wb.serial).toBe(1);
    expect(wa.lineage).not.toBe(wb.lineage);
    expect((await b.load({ kind: 'cluster', key: ka }))?.cluster_name).toBe('alpha');
    expect((await a.load({ kind: 'cluster', key: kb }))?.vms).toHaveLength(2);
    const err = await rejection(a.load({ kind: 'federation', key: ka }));
    expect(err.code).toBe('state-mismatch');
  });

  it('serials move on, lineage is kept, stale and foreign writes are refused, secrets never stored', async () => {
    const b = open({ historyLimit: 3 });
    const k = key();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: k };
    const w1 = await b.update(t, 'test', () => ({ ...sampleCluster(1, 'gamma'), password: 'pa55' }) as never);
    for (let i = 0; i < 4; i++) await b.update(t, 'test', (cur) => ({ ...cur!, counter: i }));
    const cur = await b.load(t);
    expect(cur?.serial).toBe(5);
    expect(cur?.lineage).toBe(w1.lineage);
    expect(JSON.stringify(await b.history(k))).not.toContain('pa55');
    expect((await b.history(k)).map((g) => g.serial)).toEqual([5, 4, 3]);
    expect((await rejection(b.update(t, 'test', (c) => c!, { baseSerial: 2 }))).code).toBe('state-stale');
    expect((await rejection(b.load({ ...t, lineage: 'another' }))).code).toBe('state-foreign');
    expect((await rejection(b.update({ ...t, clusterName: 'delta' }, 'test', (c) => c!))).code).toBe('state-mismatch');
  });

  it('restore writes an old generation as a new one; backups list every generation checked', async () => {
    const b = open();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: key() };
    await b.update(t, 'test', () => ({ ...sampleCluster(1, 'eps'), counter: 1 }));
    await b.update(t, 'test', (c) => ({ ...c!, counter: 2 }));
    const list = await b.backups(t);
    expect(list.map((e) => [e.id, e.valid, e.serial])).toEqual([
      ['history:2', true, 2],
      ['history:1', true, 1],
    ]);
    const r = await b.restore(t, 'history:1');
    expect(r.serial).toBe(3);
    expect((await b.load(t))?.counter).toBe(1);
    expect((await rejection(b.restore(t, 'history:99'))).code).toBe('not-found');
  });

  it('a lock is visible to another desk with its holder; a second writer gets state-locked; a wait can be cancelled', async () => {
    const a = open();
    const b = open({ lockTimeoutMs: 300 });
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: key() };
    await a.update(t, 'seed', () => sampleCluster(1, 'zeta'));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const running = a.transaction(t, 'stop', async () => {
      locked();
      await held;
    });
    await isLocked;
    const holder = await b.lockInfo(t);
    expect(holder?.operation).toBe('stop');
    expect(holder?.pid).toBe(process.pid);
    expect(holder?.stale).toBe(false);
    const err = await rejection(b.update(t, 'start', (c) => c!));
    expect(err.code).toBe('state-locked');
    expect(err.message).toContain('stop');
    const ac = new AbortController();
    const waiting = b.transaction(t, 'start', async () => undefined, { signal: ac.signal, timeoutMs: 60_000 });
    setTimeout(() => ac.abort(), 100);
    expect((await rejection(waiting)).code).toBe('cancelled');
    release();
    await running;
    expect(await b.lockInfo(t)).toBeNull();
  });

  it('the server ending a session while a client is checked out is a typed error, never an uncaught exception', async () => {
    const a = open();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: key() };
    await a.update(t, 'seed', () => sampleCluster(1, 'theta'));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const running = a.update(t, 'stop', async (c) => {
      locked();
      await held;
      return { ...c!, counter: 9 };
    });
    await isLocked;
    // What a database restart or an administrator does: every Clusterdesk session is terminated (57P01) while the
    // holder's client sits between two queries. Without a listener on the checked-out client, that 'error' event
    // would be an uncaught exception (vitest fails the run on one).
    const admin = new pg.Client({ host: pgf.dir, port: pgf.port, user: pgf.user, database: pgf.database });
    await admin.connect();
    try {
      const r = await admin.query<{ n: string }>(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = 'clusterdesk' AND pid <> pg_backend_pid()",
      );
      expect(Number(r.rows[0]!.n)).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    release();
    const err = await rejection(running);
    expect(err.code).toBe('backend-unreachable');
    // The pool recovers by itself: the next write succeeds on a new connection.
    const w = await a.update(t, 'after', (c) => ({ ...c!, counter: 1 }));
    expect(w.counter).toBe(1);
  });

  it('SIGKILL of the holder mid-operation frees the lock at once; the state is the last committed generation', async () => {
    const b = open({ lockTimeoutMs: 30_000 });
    const k = key();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: k };
    await b.update(t, 'seed', () => ({ ...sampleCluster(1, 'eta'), counter: 0 }));
    const kid = new Kid({ mode: 'hold', url: pgf.url, key: k }, env);
    await kid.waitFor('locked');
    expect((await b.lockInfo(t))?.operation).toBe('hold-test');
    process.kill(-kid.proc.pid!, 'SIGKILL');
    await kid.exited;
    const w = await b.update(t, 'after', (c) => ({ ...c!, counter: (c!.counter as number) + 10 }));
    // The holder committed one update (counter 1) before it was killed; nothing of it was lost or half-written.
    expect(w.counter).toBe(11);
    expect(w.serial).toBe(3);
  }, 120_000);

  it('two processes × 300 updates lose nothing; a reader never sees a torn state', async () => {
    const b = open();
    const k = key();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: k };
    await b.update(t, 'seed', () => ({ ...sampleCluster(1, 'race'), counter: 0 }));
    const kids = [0, 1].map(() => new Kid({ mode: 'race', url: pgf.url, key: k, count: 300 }, env));
    await Promise.all(kids.map((c) => c.waitFor('done', 300_000)));
    const s = await b.load(t);
    expect(s?.counter).toBe(600);
    expect(s?.serial).toBe(601);

    const rk = key();
    const rt: PgTarget<'cluster'> = { kind: 'cluster', key: rk };
    const saver = new Kid({ mode: 'saver', url: pgf.url, key: rk, count: 60, vms: 2000 }, env);
    await saver.waitFor('ready');
    let reads = 0;
    let finished = false;
    void saver.waitFor('done', 300_000).then(() => (finished = true));
    while (!finished) {
      const s2 = await b.load(rt);
      if (s2) {
        const gens = new Set(s2.vms.map((vm) => (vm as { gen?: number }).gen));
        expect(gens.size).toBe(1);
        expect([...gens][0]).toBe(s2.counter);
        reads++;
      }
      if (saver.lines.some((l) => l.startsWith('error'))) throw new Error(saver.lines.join(' | '));
    }
    expect(reads).toBeGreaterThan(0);
    expect((await b.load(rt))?.counter).toBe(60);
  }, 600_000);

  it('push a local workspace with its history, pull it back: byte-equal state, same history', async () => {
    const { dir, cleanup } = await tempDir('cd-pg-push-');
    const store = new StateStore({ historyLimit: 10 });
    const file = join(dir, 'output', 'state.json');
    for (let i = 0; i < 4; i++) await store.update({ kind: 'cluster', file }, 'test', (c) => ({ ...(c ?? sampleCluster(2, 'theta')), counter: i }));
    const b = open();
    const k = key();
    const pushed = await pushToBackend(store, { kind: 'cluster', file }, b, { kind: 'cluster', key: k });
    expect(pushed.generations).toBe(4);
    expect(await b.currentText(k)).toBe(await readFile(file, 'utf8'));
    // Another lineage at the target is refused unless adopted.
    const other = join(dir, 'other', 'state.json');
    await store.update({ kind: 'cluster', file: other }, 'test', () => sampleCluster(1, 'theta'));
    expect((await rejection(pushToBackend(store, { kind: 'cluster', file: other }, b, { kind: 'cluster', key: k }))).code).toBe('state-foreign');

    const back = join(dir, 'back', 'state.json');
    const pulled = await pullToFile(b, { kind: 'cluster', key: k }, store, { kind: 'cluster', file: back });
    expect(pulled.generations).toBe(4);
    expect(await readFile(back, 'utf8')).toBe(await readFile(file, 'utf8'));
    const names = async (f: string) => (await readdir(`${f}.history`)).sort();
    expect(await names(back)).toEqual(await names(file));
    for (const n2 of await names(file)) expect(await readFile(join(`${back}.history`, n2), 'utf8')).toBe(await readFile(join(`${file}.history`, n2), 'utf8'));
    // The pulled file is a normal state: the next write continues the serials.
    expect((await store.update({ kind: 'cluster', file: back }, 'test', (c) => c!)).serial).toBe(5);
    await cleanup();
  });

  it('NOTIFY reaches another listener; PostgreSQL stopped → backend-unreachable naming host:port; restarted → it resumes listening', async () => {
    const a = open({ connectTimeoutMs: 2000 });
    const b = open();
    const k = key();
    const t: PgTarget<'cluster'> = { kind: 'cluster', key: k };
    const seen: PgChange[] = [];
    const statuses: boolean[] = [];
    const stop = b.watch(
      (c) => seen.push(c),
      (s) => statuses.push(s.connected),
    );
    const until = async (cond: () => boolean, ms = 30_000) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await until(() => statuses.includes(true));
      const w = await a.update(t, 'test', () => sampleCluster(1, 'iota'));
      await until(() => seen.some((c) => c.key === k && c.serial === w.serial));
      await pgf.halt();
      const err = await rejection(a.update(t, 'test', (c) => c!));
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe('backend-unreachable');
      expect(err.host).toBe(`127.0.0.1:${pgf.port}`);
      await until(() => statuses.includes(false));
      await pgf.start();
      await until(() => statuses.lastIndexOf(true) > statuses.indexOf(false), 60_000);
      await until(() => seen.some((c) => c.key === '*'));
      const w2 = await a.update(t, 'test', (c) => c!);
      expect(w2.serial).toBe(w.serial + 1);
      await until(() => seen.some((c) => c.key === k && c.serial === w2.serial));
    } finally {
      stop();
    }
  }, 180_000);

  it('the CLI pushes a workspace to PostgreSQL and pulls it back; a password in the URL is refused without echoing it', async () => {
    const { dir, cleanup } = await tempDir('cd-pg-cli-');
    const fed = join(dir, 'fed');
    await mkdir(fed);
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const store = new StateStore();
    const file = join(fed, '.refedez', 'state.json');
    const machine = {
      name: 'site-1',
      kind: 'local' as const,
      host: 'localhost',
      port: 22,
      user: 'root',
      tmp_dir: '/tmp/clusterdesk-00000000-x',
      started_at: new Date().toISOString(),
    };
    await store.update({ kind: 'federation', file }, 'seed', () => ({ type: 'running', data: { deployed_files_path: fed, machines: [machine] } }) as never);
    await store.update({ kind: 'federation', file }, 'seed', () => ({ type: 'dirty', data: { deployed_files_path: fed, machines: [machine] } }) as never);
    const dataDir = join(dir, 'data');
    const cliEnv = { PGPASSFILE: pgf.passfile };
    const k = key();
    const push = await runCli(['--json', 'state', 'push', fed, '--to', pgf.url, '--key', k], { dataDir, env: cliEnv, timeoutMs: 120_000 });
    expect(push.code, push.stderr).toBe(0);
    expect(push.json()).toMatchObject({ ok: true, key: k, generations: 2, serial: 2 });
    const out = join(dir, 'pulled', 'state.json');
    const pull = await runCli(['--json', 'state', 'pull', fed, '--from', pgf.url, '--key', k, '--to-file', out], { dataDir, env: cliEnv, timeoutMs: 120_000 });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await readFile(file, 'utf8'));
    const bad = await runCli(['state', 'push', fed, '--to', pgf.url.replace('clusterdesk@', 'clusterdesk:s3cr3t-pw@'), '--key', k], {
      dataDir,
      env: cliEnv,
      timeoutMs: 120_000,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('config-invalid');
    expect(bad.stderr).toContain('.pgpass');
    expect(bad.stdout + bad.stderr).not.toContain('s3cr3t-pw');
    await cleanup();
  }, 300_000);
});
