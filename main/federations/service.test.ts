import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MachinesFixture, refusedAddress, startMachines, startSilentListener, type SilentListener } from '../../test/support/sshd';
import type { ErrorData, MachineProbe } from '../../preload/contract';
import { simpleContext, type ProgressUpdate } from '../operations/types';
import { StateStore, type FederationState, type MachineRecord } from '../state';
import type { FederationEnv, FederationWorkspace } from './env';
import { federationLogs, probeFederation, trustHostKey } from './inspect';
import { generateKits } from './kits/example-kits';
import { createMachine, resolveSsh } from './machines/index';
import { OUR_TMP_NAME, tmpPrefixFor } from './paths';
import { adoptFederation } from './adopt';
import { cleanFederation, startFederation, stopFederation } from './service';
import { rejection } from '../../test/support/rejection';

// This file owns 127.0.13.x (fixture A: .2–.4, fixture B: .20–.21, refused/silent addresses: .50+).
const BASE = '127.0.13';
const CONNECT_MS = 3000;

let fx: MachinesFixture;
let fxB: MachinesFixture;
let work: string;
let home: string;
let silent: SilentListener;
const store = new StateStore();
const lineages: string[] = [];
const canary = `/tmp/cd-canary-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  [fx, fxB] = await Promise.all([startMachines(3, { base: BASE, port: 'auto' }), startMachines(2, { base: BASE, first: 20, port: 'auto' })]);
  work = await mkdtemp(join(tmpdir(), 'cd-fed-'));
  home = join(work, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  // Records without a config machine log in with the default identity, as OpenSSH would.
  await copyFile(fx.clientKeyPath, join(home, '.ssh', 'id_ed25519'));
  silent = await startSilentListener(`${BASE}.51`);
});

afterAll(async () => {
  await silent?.close();
  // Local kits run as root: ask them to stop, and let them, before their folders go (a kit whose folder vanishes
  // never sees shutdown.fl and runs forever).
  const left = (await readdir('/tmp').catch(() => [] as string[]))
    .filter((n) => lineages.some((l) => n.startsWith(tmpPrefixFor(l))))
    .map((n) => join('/tmp', n));
  for (const d of left) await writeFile(join(d, 'shutdown.fl'), '').catch(() => undefined);
  await waitFor('kits stopped', async () => left.every((d) => !existsSync(join(d, 'pid.fl')) && !existsSync(join(d, 'daemon_pid.fl'))), 15_000).catch(
    () => undefined,
  );
  for (const d of left) await rm(d, { recursive: true, force: true });
  await Promise.all([fx?.stop(), fxB?.stop()]);
  await rm(work, { recursive: true, force: true });
  expect(existsSync(canary)).toBe(false);
});

// ---------------------------------------------------------------------------------------------------------------
// helpers

interface Spec {
  readonly name: string;
  readonly local?: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly identity?: string;
}

const remote = (name: string, f: MachinesFixture, i: number, extra: Partial<Spec> = {}): Spec => ({
  name,
  host: f.machines[i]!.host,
  port: f.machines[i]!.port,
  user: f.machines[i]!.user,
  identity: f.clientKeyPath,
  ...extra,
});

let projects = 0;

/** A project folder with refedez.yaml, project.yml and generated kits; its lineage is fixed so its temp dirs are known. */
async function project(specs: readonly Spec[], opts: { folder?: string; files?: number; bytes?: number } = {}): Promise<FederationWorkspace> {
  const folder = opts.folder ?? join(work, `p${++projects}`);
  await mkdir(folder, { recursive: true });
  const participants = specs.map((s, i) => ({ name: s.name, type: (i === 0 ? 'server' : 'client') as 'server' | 'client' }));
  await writeFile(
    join(folder, 'project.yml'),
    stringify({ api_version: 3, name: 'p', participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }),
  );
  const machines = Object.fromEntries(
    specs.map((s) => [
      s.name,
      s.local
        ? { type: 'local' }
        : { type: 'remote', ip: s.host, port: s.port, ...(s.user ? { user: s.user } : {}), ...(s.identity ? { identity: s.identity } : {}) },
    ]),
  );
  await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' }, machines }));
  await generateKits(participants, join(folder, 'kits'), { extraFiles: opts.files ?? 0, bytes: opts.bytes ?? 0 });
  const lineage = randomUUID();
  lineages.push(lineage);
  return { folder, configFile: join(folder, 'refedez.yaml'), statePath: join(folder, '.refedez', 'state.json'), lineage };
}

function env(extra: Partial<FederationEnv> = {}): FederationEnv {
  return {
    store,
    parallelism: 8,
    connectTimeoutMs: CONNECT_MS,
    knownHostsFiles: [fx.knownHostsPath, fxB.knownHostsPath],
    sshConfigPath: null,
    homeDir: home,
    agentSocket: null,
    nvflare: null,
    // A kit notices shutdown.fl within seconds on an idle machine, but far later on a loaded CI machine: clean waits.
    stopGraceMs: 60_000,
    ...extra,
  };
}

const targetOf = (ws: FederationWorkspace) => ({ kind: 'federation' as const, file: ws.statePath, lineage: ws.lineage });

const ctx = (signal?: AbortSignal, sink?: (u: ProgressUpdate) => void) => simpleContext(signal, sink);

async function state(ws: FederationWorkspace): Promise<FederationState | null> {
  return store.loadFederation(ws.statePath);
}

const machinesIn = (s: FederationState | null): MachineRecord[] => (s && s.type !== 'clean' ? ((s.data as { machines?: MachineRecord[] }).machines ?? []) : []);

/** The state file never holds a password, a private key or the client key's material. */
async function expectNoSecrets(ws: FederationWorkspace): Promise<void> {
  const text = await readFile(ws.statePath, 'utf8').catch(() => '');
  expect(text).not.toMatch(/password|passphrase|private_?key|PRIVATE KEY|hunter2/i);
  const keyBody = (await readFile(fx.clientKeyPath, 'utf8')).split('\n').filter((l) => l && !l.startsWith('-----'));
  for (const line of keyBody) expect(text).not.toContain(line);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const byTarget = (outcomes: readonly { target: string; result: string; error?: ErrorData }[]) =>
  Object.fromEntries(outcomes.map((o) => [o.target, { result: o.result, code: o.error?.code }]));

const probesAll = (ws: FederationWorkspace, e: FederationEnv, want: (p: MachineProbe) => boolean) =>
  waitFor('probe', async () => {
    const probes = await probeFederation(e, ws, ctx());
    return probes.length > 0 && probes.every(want) ? probes : null;
  });

// ---------------------------------------------------------------------------------------------------------------

describe('federation lifecycle over SSH', () => {
  it('3 remote machines + 1 local: start → probe → logs → stop → stop again → clean', async () => {
    const ws = await project([remote('server1', fx, 0), remote('site-1', fx, 1), remote('site-2', fx, 2), { name: 'site-3', local: true }], {
      files: 20,
      bytes: 200_000,
    });
    const e = env();
    const progress: ProgressUpdate[] = [];
    const started = await startFederation(
      e,
      ws,
      ctx(undefined, (u) => progress.push(u)),
    );
    expect(started.status).toBe('running');
    expect(byTarget(started.outcomes)).toEqual({
      server1: { result: 'started', code: undefined },
      'site-1': { result: 'started', code: undefined },
      'site-2': { result: 'started', code: undefined },
      'site-3': { result: 'started', code: undefined },
    });
    // Per-machine progress carries bytes and files.
    const uploads = progress.filter((u) => u.target === 'site-1' && u.step === 'upload' && u.value === 1);
    expect(uploads.at(-1)?.message).toMatch(/(\d+)\/\1 files, [\d.]+ KiB of [\d.]+ KiB/);

    const s = await state(ws);
    expect(s?.type).toBe('running');
    expect(s?.lineage).toBe(ws.lineage);
    const recs = machinesIn(s);
    expect(recs.map((r) => [r.name, r.kind, r.host, r.user])).toEqual([
      ['server1', 'remote', fx.machines[0]!.host, fx.machines[0]!.user],
      ['site-1', 'remote', fx.machines[1]!.host, fx.machines[1]!.user],
      ['site-2', 'remote', fx.machines[2]!.host, fx.machines[2]!.user],
      ['site-3', 'local', 'localhost', 'root'],
    ]);
    for (const r of recs) {
      expect(r.tmp_dir.startsWith(`/tmp/${tmpPrefixFor(ws.lineage!)}`)).toBe(true);
      expect(OUR_TMP_NAME.test(r.tmp_dir.slice(5))).toBe(true);
      expect(r.started_at).not.toBeNull();
      expect(r.pid).toBeGreaterThan(1);
      expect((await stat(r.tmp_dir)).mode & 0o777).toBe(0o700);
    }
    expect(new Set(recs.map((r) => r.tmp_dir)).size).toBe(4);
    await expectNoSecrets(ws);

    // Starting again is refused.
    expect((await rejection(startFederation(e, ws, ctx()))).code).toBe('state-wrong-status');
    // Clean without force is refused while running.
    expect((await rejection(cleanFederation(e, ws, ctx()))).code).toBe('state-wrong-status');

    const alive = await probesAll(ws, e, (p) => p.reachable && p.processAlive === true && p.lastLogLine !== null);
    expect(alive.map((p) => p.shutdownRequested)).toEqual([false, false, false, false]);
    expect((await state(ws))?.serial).toBe(s?.serial); // probe never writes

    // The first heartbeat may come a moment after pid.fl (the supervisor logs its own start-up line too): wait for it.
    const logs = await waitFor('a heartbeat in site-1’s log', async () => {
      const l = await federationLogs(e, ws, ctx(), { lines: 5 });
      return /site-1 \(client\) heartbeat/.test(l[1]?.lines.join('\n') ?? '') ? l : null;
    });
    expect(logs.map((l) => l.machine)).toEqual(['server1', 'site-1', 'site-2', 'site-3']);
    for (const l of logs) {
      expect(l.error).toBeUndefined();
      expect(l.lines.length).toBeGreaterThan(0);
      expect(l.lines.length).toBeLessThanOrEqual(5);
    }
    expect(logs[1]!.lines.join('\n')).toMatch(/site-1 \(client\) heartbeat/);

    const stopped = await stopFederation(e, ws, ctx());
    expect(stopped.status).toBe('dirty');
    expect(stopped.outcomes.map((o) => o.result)).toEqual(['signalled', 'signalled', 'signalled', 'signalled']);
    const dirty = await state(ws);
    expect(dirty?.type).toBe('dirty');
    expect(machinesIn(dirty).map((r) => r.tmp_dir)).toEqual(recs.map((r) => r.tmp_dir));
    await probesAll(ws, e, (p) => p.processAlive === false);

    // Stop twice: every recorded machine listed "already stopped", nothing written.
    const again = await stopFederation(e, ws, ctx());
    expect(again.outcomes.map((o) => [o.target, o.result])).toEqual(recs.map((r) => [r.name, 'already stopped']));
    expect((await state(ws))?.serial).toBe(dirty?.serial);
    await expectNoSecrets(ws);

    const cleaned = await cleanFederation(e, ws, ctx());
    expect(cleaned.status).toBe('clean');
    expect(cleaned.outcomes.map((o) => o.result)).toEqual(['removed', 'removed', 'removed', 'removed']);
    for (const r of recs) expect(existsSync(r.tmp_dir)).toBe(false);
    expect(existsSync(join(ws.folder, '.refedez'))).toBe(false);
    expect(existsSync(ws.configFile)).toBe(true);
    expect(await state(ws)).toBeNull();
    const again2 = await cleanFederation(e, ws, ctx());
    expect(again2.outcomes.map((o) => o.result)).toEqual(['already clean']);
  });

  it('clean with force stops first', async () => {
    const ws = await project([remote('server1', fx, 0), { name: 'site-1', local: true }]);
    const e = env();
    await startFederation(e, ws, ctx());
    const recs = machinesIn(await state(ws));
    const res = await cleanFederation(e, ws, ctx(), { force: true });
    expect(res.status).toBe('clean');
    expect(res.outcomes.map((o) => o.result)).toEqual(['signalled', 'signalled', 'removed', 'removed']);
    for (const r of recs) expect(existsSync(r.tmp_dir)).toBe(false);
  });
});

describe('clean and participants that still run', () => {
  it('signals a participant stop never reached and waits for it; past the grace period the folder is kept', async () => {
    const ws = await project([{ name: 'server1', local: true }, remote('site-1', fx, 2)]);
    const e = env();
    await startFederation(e, ws, ctx());
    await probesAll(ws, e, (p) => p.processAlive === true);
    // As if stop had not reached them: dirty, but the participants run.
    const recs = machinesIn(await state(ws));
    await store.update(targetOf(ws), 'test', () => ({ type: 'dirty', data: { machines: recs } }));

    const kept = await cleanFederation(env({ stopGraceMs: 0 }), ws, ctx());
    expect(kept.status).toBe('dirty');
    expect(byTarget(kept.outcomes)).toEqual({ server1: { result: 'still running', code: 'busy' }, 'site-1': { result: 'still running', code: 'busy' } });
    for (const r of recs) expect(existsSync(join(r.tmp_dir, 'shutdown.fl')) || !existsSync(join(r.tmp_dir, 'pid.fl'))).toBe(true);

    const cleaned = await cleanFederation(e, ws, ctx());
    expect(cleaned.status).toBe('clean');
    expect(cleaned.outcomes.map((o) => o.result)).toEqual(['removed', 'removed']);
    for (const r of recs) expect(existsSync(r.tmp_dir)).toBe(false);
  });
});

describe('unreachable machines, wrong keys', () => {
  it('start records what runs and reports refused, silent and wrong-key machines with reasons', async () => {
    const refused = await refusedAddress(`${BASE}.50`);
    const wrongKey = join(work, 'wrong_key');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const ws = await project([
      remote('server1', fx, 0),
      remote('site-1', fx, 1),
      { name: 'site-refused', host: refused.host, port: refused.port, user: 'nobody', identity: fx.clientKeyPath },
      { name: 'site-silent', host: silent.host, port: silent.port, user: 'nobody', identity: fx.clientKeyPath },
      remote('site-wrongkey', fx, 2, { identity: wrongKey }),
    ]);
    const e = env();
    const res = await startFederation(e, ws, ctx());
    expect(res.status).toBe('running');
    expect(byTarget(res.outcomes)).toEqual({
      server1: { result: 'started', code: undefined },
      'site-1': { result: 'started', code: undefined },
      'site-refused': { result: 'failed', code: 'ssh-unreachable' },
      'site-silent': { result: 'failed', code: 'ssh-timeout' },
      'site-wrongkey': { result: 'failed', code: 'ssh-auth' },
    });
    for (const o of res.outcomes.filter((x) => x.result === 'failed')) expect(o.message).toBeTruthy();
    expect(machinesIn(await state(ws)).map((r) => r.name)).toEqual(['server1', 'site-1']);
    const cleaned = await cleanFederation(e, ws, ctx(), { force: true });
    expect(cleaned.status).toBe('clean');
  });

  it('stop and clean tolerate refused and silent machines; they stay listed and clean can be retried', async () => {
    const refused = await refusedAddress(`${BASE}.52`);
    const ws = await project([remote('server1', fx, 0), { name: 'site-1', local: true }]);
    const e = env();
    await startFederation(e, ws, ctx());
    const prefix = `/tmp/${tmpPrefixFor(ws.lineage!)}`;
    // Two more machines were recorded, which have since become unreachable.
    await store.update(targetOf(ws), 'test', (cur) => {
      const recs = machinesIn(cur);
      return {
        type: 'running',
        data: {
          deployed_files_path: '/x',
          machines: [
            ...recs,
            { name: 'gone-refused', kind: 'remote', host: refused.host, port: refused.port, user: 'u', tmp_dir: `${prefix}aaaaaaaa`, started_at: null },
            { name: 'gone-silent', kind: 'remote', host: silent.host, port: silent.port, user: 'u', tmp_dir: `${prefix}bbbbbbbb`, started_at: null },
          ],
        },
      };
    });
    const stopped = await stopFederation(e, ws, ctx());
    expect(stopped.status).toBe('dirty');
    expect(byTarget(stopped.outcomes)).toEqual({
      server1: { result: 'signalled', code: undefined },
      'site-1': { result: 'signalled', code: undefined },
      'gone-refused': { result: 'unreachable', code: 'ssh-unreachable' },
      'gone-silent': { result: 'unreachable', code: 'ssh-timeout' },
    });
    expect(machinesIn(await state(ws))).toHaveLength(4);

    const cleaned = await cleanFederation(e, ws, ctx());
    expect(cleaned.status).toBe('dirty');
    expect(byTarget(cleaned.outcomes)).toEqual({
      server1: { result: 'removed', code: undefined },
      'site-1': { result: 'removed', code: undefined },
      'gone-refused': { result: 'unreachable', code: 'ssh-unreachable' },
      'gone-silent': { result: 'unreachable', code: 'ssh-timeout' },
    });
    expect(machinesIn(await state(ws)).map((r) => r.name)).toEqual(['gone-refused', 'gone-silent']);
    const retried = await cleanFederation(e, ws, ctx());
    expect(retried.status).toBe('dirty');
    expect(machinesIn(await state(ws)).map((r) => r.name)).toEqual(['gone-refused', 'gone-silent']);
  });

  it('an unknown host key fails start before anything is deployed; trusting the fingerprint lets it through', async () => {
    const ws = await project([remote('server1', fx, 0)]);
    const e = env({ knownHostsFiles: [] });
    const err = await rejection(startFederation(e, ws, ctx()));
    expect(err.code).toBe('ssh-hostkey-unknown');
    const m = fx.machines[0]!;
    expect(err.fields.details?.['fingerprint']).toBe(m.hostKeyFingerprint);
    expect(err.fields.details?.['port']).toBe(m.port);
    expect(err.host).toBe(m.host);
    expect(await state(ws)).toBeNull();
    expect((await readdir('/tmp')).some((n) => n.startsWith(tmpPrefixFor(ws.lineage!)))).toBe(false);

    // The wrong fingerprint is not trusted.
    const bad = await rejection(trustHostKey(e, ws, m.host, m.port, fx.machines[1]!.hostKeyFingerprint));
    expect(bad.code).toBe('ssh-hostkey-unknown');
    expect(existsSync(join(ws.folder, '.clusterdesk', 'known_hosts'))).toBe(false);

    expect(await trustHostKey(e, ws, m.host, m.port, m.hostKeyFingerprint)).toEqual({ trusted: true });
    expect(await readFile(join(ws.folder, '.clusterdesk', 'known_hosts'), 'utf8')).toContain(`[${m.host}]:${m.port} ssh-ed25519 `);
    const res = await startFederation(e, ws, ctx());
    expect(res.outcomes.map((o) => o.result)).toEqual(['started']);
    await cleanFederation(e, ws, ctx(), { force: true });
  });

  it('accept-new records a first-seen host key in the workspace known_hosts', async () => {
    const ws = await project([remote('server1', fx, 1)]);
    const e = env({ knownHostsFiles: [], acceptNewHostKeys: true });
    expect((await startFederation(e, ws, ctx())).status).toBe('running');
    expect(await readFile(join(ws.folder, '.clusterdesk', 'known_hosts'), 'utf8')).toContain(fx.machines[1]!.host);
    expect((await cleanFederation(e, ws, ctx(), { force: true })).status).toBe('clean');
  });
});

describe('paths: tampered states, injection', () => {
  it('clean refuses tampered tmp_dirs (/, /home/x, ../.., a symlink out) and deletes nothing', async () => {
    const victim = await mkdtemp(join(tmpdir(), 'cd-victim-'));
    await writeFile(join(victim, 'keep.txt'), 'keep');
    const ws = await project([{ name: 'server1', local: true }]);
    const e = env();
    await startFederation(e, ws, ctx());
    await stopFederation(e, ws, ctx());
    const [legit] = machinesIn(await state(ws));
    const prefix = `/tmp/${tmpPrefixFor(ws.lineage!)}`;
    const link = `${prefix}lnk${randomBytes(3).toString('hex')}`;
    await symlink(victim, link);
    const remoteLink = `${prefix}rlk${randomBytes(3).toString('hex')}`;
    await symlink(victim, remoteLink);
    const fm = fx.machines[0]!;

    const tampered: readonly Partial<MachineRecord>[] = [
      { tmp_dir: '/' },
      { tmp_dir: '/home/x' },
      { tmp_dir: '../..' },
      { tmp_dir: `${prefix}aaaaaa/../..` },
      { tmp_dir: '/tmp' },
      { tmp_dir: victim },
      { tmp_dir: link },
      { tmp_dir: remoteLink, kind: 'remote', host: fm.host, port: fm.port, user: fm.user },
    ];
    for (const t of tampered) {
      await store.update(targetOf(ws), 'test', () => ({
        type: 'dirty',
        data: { machines: [legit!, { name: 'evil', kind: 'local', host: 'localhost', port: 0, user: 'root', started_at: null, tmp_dir: '', ...t }] },
      }));
      const err = await rejection(cleanFederation(e, ws, ctx()));
      expect(err.code, `tmp_dir ${t.tmp_dir}`).toBe('path-refused');
      expect(err.message).toMatch(/Nothing was deleted/);
      expect(existsSync(legit!.tmp_dir)).toBe(true);
      expect(await readFile(join(victim, 'keep.txt'), 'utf8')).toBe('keep');
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect((await state(ws))?.type).toBe('dirty');
    }
    await rm(link);
    await rm(remoteLink);
    await store.update(targetOf(ws), 'test', () => ({ type: 'dirty', data: { machines: [legit!] } }));
    expect((await cleanFederation(e, ws, ctx())).status).toBe('clean');
    await rm(victim, { recursive: true });
  });

  it('names, users and paths with spaces, quotes and $(touch …) never reach a shell', async () => {
    const evil = `a b'c"d $(touch ${canary}) \`touch ${canary}\``;
    const ws = await project([remote('server1', fx, 0), { name: 'site-1', local: true }], { folder: join(work, evil, 'proj') });
    const e = env();
    expect((await startFederation(e, ws, ctx())).status).toBe('running');
    await probesAll(ws, e, (p) => p.processAlive === true);
    expect((await federationLogs(e, ws, ctx(), { lines: 3 })).every((l) => !l.error)).toBe(true);
    expect((await stopFederation(e, ws, ctx())).outcomes.map((o) => o.result)).toEqual(['signalled', 'signalled']);
    expect((await cleanFederation(e, ws, ctx())).status).toBe('clean');

    // Records edited by hand: every field that reaches a machine carries shell syntax.
    const fm = fx.machines[1]!;
    const weird: MachineRecord[] = [
      { name: evil, kind: 'local', host: 'localhost', port: 0, user: evil, tmp_dir: `/tmp/${evil}`, started_at: null },
      { name: evil, kind: 'remote', host: fm.host, port: fm.port, user: fm.user, tmp_dir: `/tmp/x ${evil}`, started_at: null },
      { name: 'u', kind: 'remote', host: fm.host, port: fm.port, user: `u$(touch ${canary})`, tmp_dir: `/tmp/y${evil}`, started_at: null },
    ];
    await store.update(targetOf(ws), 'test', () => ({ type: 'running', data: { deployed_files_path: evil, machines: weird } }));
    const probes = await probeFederation(e, ws, ctx());
    expect(probes.map((p) => [p.reachable, p.error?.code])).toEqual([
      [true, 'not-found'],
      [true, 'not-found'],
      [false, 'ssh-auth'],
    ]);
    const logs = await federationLogs(e, ws, ctx(), { lines: 2 });
    expect(logs.map((l) => l.error?.code)).toEqual(['not-found', 'not-found', 'ssh-auth']);
    const stopped = await stopFederation(e, ws, ctx());
    // Stop removes nothing, so clean's name rules do not apply: the folders are simply not there (data reaches the
    // machine only as arguments), and the user with shell syntax cannot log in (an authentication failure: `failed`).
    expect(stopped.outcomes.map((o) => [o.result, o.error?.code])).toEqual([
      ['already stopped', undefined],
      ['already stopped', undefined],
      ['failed', 'ssh-auth'],
    ]);
    expect((await rejection(cleanFederation(e, ws, ctx()))).code).toBe('path-refused');
    expect(existsSync(canary)).toBe(false);
  });
});

describe('adopting a ReFedEz-written state', () => {
  it('stop and clean work on an adopted .refedez/state.json written by ReFedEz (password dropped, its /tmp/<uuid4> dirs accepted)', async () => {
    const ws = await project([{ name: 'server', local: true }, remote('site-1', fx, 2)]);
    const kitSrc = await mkdtemp(join(work, 'kits-'));
    const kits = await generateKits(
      [
        { name: 'server', type: 'server' },
        { name: 'site-1', type: 'client' },
      ],
      kitSrc,
    );
    // ReFedEz's start names each folder /tmp/<str(uuid.uuid4())>.
    const localTmp = `/tmp/${randomUUID()}`;
    const remoteTmp = `/tmp/${randomUUID()}`;
    const fm = fx.machines[2]!;
    // Deploy as ReFedEz would have: its own temp folder names, kits launched.
    const local = createMachine({ kind: 'local' });
    await mkdir(localTmp, { mode: 0o700 });
    await local.upload(kits[0]!.path, localTmp);
    await local.launchDetached([join(localTmp, 'startup', 'start.sh')], { cwd: localTmp, logFile: join(localTmp, 'log.txt') });
    const ssh = createMachine(
      { kind: 'remote', ssh: await resolveSsh({ host: fm.host, port: fm.port, user: fm.user, identity: fx.clientKeyPath }, { sshConfigPath: null }) },
      { knownHostsFiles: [fx.knownHostsPath], agentSocket: null },
    );
    await ssh.exec(['mkdir', '-m', '700', remoteTmp]);
    await ssh.upload(kits[1]!.path, remoteTmp);
    await ssh.launchDetached([join(remoteTmp, 'startup', 'start.sh')], { cwd: remoteTmp, logFile: join(remoteTmp, 'log.txt') });
    await ssh.close();

    const template = await readFile(join(import.meta.dirname, 'fixtures', 'refedez-running.json'), 'utf8');
    const text = template
      .replaceAll('@PROJECT@', ws.folder)
      .replace('@LOCAL_TMP@', localTmp)
      .replace('@REMOTE_TMP@', remoteTmp)
      .replace('@USER@', fm.user)
      .replace('@HOST@', fm.host)
      .replace('@PORT@', String(fm.port));
    await mkdir(join(ws.folder, '.refedez'), { recursive: true });
    await writeFile(ws.statePath, text);
    const adopted: FederationWorkspace = { ...ws, lineage: undefined };
    const e = env();
    expect((await rejection(stopFederation(e, adopted, ctx()))).code).toBe('state-foreign');
    await adoptFederation(e, adopted, ctx());

    await probesAll(adopted, e, (p) => p.processAlive === true);
    const stopped = await stopFederation(e, adopted, ctx());
    expect(stopped.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['server', 'signalled'],
      ['site-1', 'signalled'],
    ]);
    await expectNoSecrets(adopted);
    const dirty = await state(adopted);
    expect(dirty?.type).toBe('dirty');
    expect(machinesIn(dirty).map((r) => [r.name, r.kind, r.tmp_dir, (r as { origin?: string }).origin])).toEqual([
      ['server', 'local', localTmp, 'refedez'],
      ['site-1', 'remote', remoteTmp, 'refedez'],
    ]);
    await probesAll(adopted, e, (p) => p.processAlive === false);
    const cleaned = await cleanFederation(e, adopted, ctx());
    expect(cleaned.outcomes.map((o) => o.result)).toEqual(['removed', 'removed']);
    expect(cleaned.status).toBe('clean');
    expect(existsSync(localTmp)).toBe(false);
    expect(existsSync(remoteTmp)).toBe(false);
  });

  it('ReFedEz-style names are refused for records we wrote ourselves', async () => {
    const ws = await project([{ name: 'server1', local: true }]);
    const dir = `/tmp/${randomUUID()}`;
    await mkdir(dir);
    await store.update(targetOf(ws), 'test', () => ({
      type: 'dirty',
      data: { machines: [{ name: 'server1', kind: 'local', host: 'localhost', port: 0, user: 'root', tmp_dir: dir, started_at: null }] },
    }));
    expect((await rejection(cleanFederation(env(), ws, ctx()))).code).toBe('path-refused');
    expect(existsSync(dir)).toBe(true);
    await rm(dir, { recursive: true });
  });
});

describe('path rules of stop and clean', () => {
  it('clean refuses a temp folder whose name carries another lineage, and deletes nothing', async () => {
    const ws = await project([{ name: 'server1', local: true }]);
    const other = tmpPrefixFor(ws.lineage!).startsWith('clusterdesk-deadbeef') ? 'feedface' : 'deadbeef';
    const dir = `/tmp/clusterdesk-${other}-${randomBytes(4).toString('hex')}`;
    await mkdir(dir);
    await store.update(targetOf(ws), 'test', () => ({
      type: 'dirty',
      data: { machines: [{ name: 'server1', kind: 'local', host: 'localhost', port: 0, user: 'root', tmp_dir: dir, started_at: null }] },
    }));
    const err = await rejection(cleanFederation(env(), ws, ctx()));
    expect(err.code).toBe('path-refused');
    expect(err.message).toContain('another deployment');
    expect(existsSync(dir)).toBe(true);
    await rm(dir, { recursive: true });
  });

  it('stop signals any recorded folder, but never a symbolic link or the temp root', async () => {
    const ws = await project([
      { name: 'a', local: true },
      { name: 'b', local: true },
      { name: 'c', local: true },
    ]);
    const real = await mkdtemp(join(work, 'real-'));
    const plain = `/tmp/${randomUUID()}`;
    const link = `/tmp/${randomUUID()}`;
    await mkdir(plain);
    await symlink(real, link);
    const rec = (name: string, tmp: string) => ({ name, kind: 'local' as const, host: 'localhost', port: 0, user: 'root', tmp_dir: tmp, started_at: null });
    await store.update(targetOf(ws), 'test', () => ({
      type: 'running',
      data: { deployed_files_path: ws.folder, machines: [rec('a', plain), rec('b', link), rec('c', '/tmp')] },
    }));
    const stopped = await stopFederation(env(), ws, ctx());
    expect(byTarget(stopped.outcomes)).toEqual({
      a: { result: 'already stopped', code: undefined },
      b: { result: 'refused', code: 'path-refused' },
      c: { result: 'refused', code: 'path-refused' },
    });
    expect(existsSync(join(plain, 'shutdown.fl'))).toBe(true);
    expect(existsSync(join(real, 'shutdown.fl'))).toBe(false);
    expect(existsSync('/tmp/shutdown.fl')).toBe(false);
    await rm(plain, { recursive: true });
    await rm(link);
  });
});

describe('failures mid-operation', () => {
  it('cancellation mid-start records the machine that launched and removes the interrupted upload', async () => {
    const ws = await project([{ name: 'server1', local: true }, remote('site-1', fx, 1)], { files: 40, bytes: 40_000_000 });
    const e = env();
    const ac = new AbortController();
    let localStarted = false;
    const err = await rejection(
      startFederation(
        e,
        ws,
        ctx(ac.signal, (u) => {
          if (u.target === 'server1' && u.step === 'started') localStarted = true;
          if (u.target === 'site-1' && u.step === 'upload' && (u.value ?? 0) > 0 && localStarted) ac.abort();
        }),
      ),
    );
    expect(ac.signal.aborted).toBe(true);
    expect(err.code).toBe('cancelled');
    const s = await state(ws);
    expect(s?.type).toBe('running');
    const recs = machinesIn(s);
    expect(recs.map((r) => r.name)).toEqual(['server1']);
    const ours = (await readdir('/tmp')).filter((n) => n.startsWith(tmpPrefixFor(ws.lineage!))).map((n) => `/tmp/${n}`);
    expect(ours).toEqual([recs[0]!.tmp_dir]);
    expect((await cleanFederation(e, ws, ctx(), { force: true })).status).toBe('clean');
  });

  it('sshd killed mid-upload: the machine fails, its folder stays recorded for clean', async () => {
    const ws = await project([remote('server1', fxB, 0)], { files: 40, bytes: 40_000_000 });
    const e = env();
    let killing: Promise<void> | null = null;
    const err = await rejection(
      startFederation(
        e,
        ws,
        ctx(undefined, (u) => {
          if (u.step === 'upload' && (u.value ?? 0) > 0 && !killing) killing = fxB.killOne(0);
        }),
      ),
    );
    await killing;
    expect(killing).not.toBeNull();
    expect(err.code).toBe('ssh-unreachable');
    const s = await state(ws);
    expect(s?.type).toBe('dirty');
    const [rec] = machinesIn(s);
    expect(rec?.started_at).toBeNull();
    expect(rec?.tmp_dir.startsWith(`/tmp/${tmpPrefixFor(ws.lineage!)}`)).toBe(true);
    expect(existsSync(rec!.tmp_dir)).toBe(true);
    const cleaned = await cleanFederation(e, ws, ctx());
    expect(cleaned.status).toBe('dirty');
    expect(cleaned.outcomes.map((o) => [o.result, o.error?.code])).toEqual([['unreachable', 'ssh-unreachable']]);
  });

  it('a host key changed between start and stop: reported, never overridden, folder kept', async () => {
    const ws = await project([remote('server1', fxB, 1), { name: 'site-1', local: true }]);
    const e = env();
    await startFederation(e, ws, ctx());
    const known = await readFile(fxB.knownHostsPath, 'utf8');
    const restarted = await fxB.restartWithNewHostKey(1);
    const stopped = await stopFederation(e, ws, ctx());
    expect(byTarget(stopped.outcomes)).toEqual({
      // A trust problem, not an outage: `failed` (exit 1 in the CLI), never `unreachable`.
      server1: { result: 'failed', code: 'ssh-hostkey-changed' },
      'site-1': { result: 'signalled', code: undefined },
    });
    expect(stopped.outcomes[0]!.error?.details?.['fingerprint']).toBe(restarted.hostKeyFingerprint);
    expect((await state(ws))?.type).toBe('dirty');
    const err = await rejection(cleanFederation(e, ws, ctx()));
    expect(err.code).toBe('ssh-hostkey-changed');
    for (const r of machinesIn(await state(ws))) expect(existsSync(r.tmp_dir)).toBe(true);
    expect(await readFile(fxB.knownHostsPath, 'utf8')).toBe(known);
    expect(existsSync(join(ws.folder, '.clusterdesk', 'known_hosts'))).toBe(false);
  });
});
