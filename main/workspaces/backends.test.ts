/**
 * Two desks (two AppServices, two data dirs, each with its own copy of the project) on one PostgreSQL workspace:
 * live updates by LISTEN/NOTIFY (no polling), the lock holder in the other desk's snapshot, state-locked for a second
 * mutation, and the database going away (stale snapshot, backend-unreachable, nothing written locally) and coming
 * back (it reconnects and listens again by itself). Real PostgreSQL (test/support/postgres.ts).
 */
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceChange, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { postgresUnavailable, startPostgres, type PostgresFixture } from '../../test/support/postgres';
import { rejection } from '../../test/support/rejection';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';
import { tableCaller } from '../../test/support/ipc-call';
import { createHandlerTable } from '../ipc/table';
import { StateStore } from '../state';
import { targetOf } from './snapshot';

const why = postgresUnavailable();
if (why) console.log(`[postgres live-update tests skipped] ${why}`);
const d = why ? describe.skip : describe;

const machine = { name: 'm', kind: 'local' as const, host: 'localhost', port: 22, user: 'root', tmp_dir: '/tmp/clusterdesk-00000000-aaaaaa', started_at: '' };

d('two desks on one PostgreSQL workspace (real server)', { timeout: 240_000 }, () => {
  let pgf: PostgresFixture;
  let dir = '';
  const desks: { services: AppServices; entry: WorkspaceEntry; folder: string; seen: WorkspaceSnapshot[] }[] = [];

  beforeAll(async () => {
    pgf = await startPostgres();
    process.env.PGPASSFILE = pgf.passfile;
    dir = await mkdtemp(join(tmpdir(), 'cd-pg-desks-'));
    for (const name of ['desk-a', 'desk-b']) {
      const folder = join(dir, name, 'fed');
      await mkdir(folder, { recursive: true });
      await writeFile(
        join(folder, 'refedez.yaml'),
        stringify({ refedez: { folder: '.refedez' }, machines: {}, clusterdesk: { backend: `${pgf.url}?schema=team&workspace=shared-fed` } }),
      );
      const data = join(dir, name, 'data');
      const services = await composeServices({ dataDir: data, settingsBackend: confBackend(data), host: 'serve', warn: () => undefined });
      services.setSettings({ lockTimeoutMs: 500 });
      const entry = await services.addWorkspace(folder);
      const seen: WorkspaceSnapshot[] = [];
      services.events.subscribe((e, p) => {
        if (e === 'workspace:changed' && (p as WorkspaceChange).id === entry.id) seen.push((p as WorkspaceChange).snapshot!);
      });
      desks.push({ services, entry, folder, seen });
    }
  }, 120_000);

  afterAll(async () => {
    for (const desk of desks) desk.services.dispose();
    await pgf?.stop();
    await rm(dir, { recursive: true, force: true });
    delete process.env.PGPASSFILE;
  });

  it('a commit on one desk reaches the other by NOTIFY; the holder shows there; a second mutation is state-locked', async () => {
    const [a, b] = desks as [(typeof desks)[0], (typeof desks)[0]];
    // Both listen before anything happens (the LISTEN connection comes up in the background).
    await expect.poll(() => b.services.backends.connected(b.entry.id), { timeout: 30_000 }).toBe(true);
    const bLast = () => b.seen.at(-1);

    const t0 = performance.now();
    await a.services.operate(a.entry.id, 'start', () =>
      a.services.store.update(targetOf(a.entry), 'start', () => ({ type: 'running', data: { deployed_files_path: a.folder, machines: [machine] } }) as never),
    );
    await expect.poll(() => bLast()?.status, { timeout: 30_000 }).toBe('running');
    console.log(`[live update] commit on desk A → snapshot on desk B: ${(performance.now() - t0).toFixed(0)} ms (includes A's own publish)`);
    expect(bLast()).toMatchObject({ backend: { key: 'shared-fed', label: expect.stringContaining('#shared-fed') }, error: null });
    expect(bLast()!.stale).toBeUndefined();

    // A holds the lock (a running stop); B sees the holder, and B's own mutation gets state-locked naming it.
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    const running = a.services.operate(a.entry.id, 'stop', () => a.services.store.transaction(targetOf(a.entry), 'stop', () => held));
    await expect.poll(() => bLast()?.lock?.operation, { timeout: 30_000 }).toBe('stop');
    expect(bLast()!.lock!.host).toMatch(/@/);
    const locked = await rejection(b.services.operate(b.entry.id, 'clean', () => b.services.store.update(targetOf(b.entry), 'clean', (c) => c!)));
    expect(locked.code).toBe('state-locked');
    expect(locked.message).toContain('stop');
    release();
    await running;
    await expect.poll(() => bLast()?.lock ?? null, { timeout: 30_000 }).toBeNull();
    // Nothing was ever written to either desk's local state folder.
    for (const desk of desks) await expect(access(join(desk.folder, '.refedez', 'state.json'))).rejects.toThrow();
  });

  it('the workspace setting: a password in the URL is refused with the libpq hint; a URL wins over the config until cleared', async () => {
    const a = desks[0]!;
    const refused = await rejection(a.services.setBackend(a.entry.id, pgf.url.replace('clusterdesk@', 'clusterdesk:hunter2@')));
    expect(refused.code).toBe('config-invalid');
    expect(refused.hint).toMatch(/pgpass|PGPASSWORD/);
    expect(JSON.stringify(a.services.registry.get(a.entry.id))).not.toContain('hunter2');
    // Another key by setting: an empty workspace there; cleared: back to the config's shared one.
    await a.services.setBackend(a.entry.id, `${pgf.url}?schema=team&workspace=elsewhere`);
    expect(await a.services.snapshot(a.entry.id)).toMatchObject({ backend: { key: 'elsewhere' }, status: 'clean' });
    await a.services.setBackend(a.entry.id, null);
    expect(await a.services.snapshot(a.entry.id)).toMatchObject({ backend: { key: 'shared-fed' }, status: 'running' });
  });

  it('the State tab moves a local state to PostgreSQL and back (state:push / state:pull, through the handler table)', async () => {
    const a = desks[0]!;
    const folder = join(dir, 'desk-a', 'local-fed');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: '.refedez' }, machines: {} }));
    const entry = await a.services.addWorkspace(folder);
    const local = new StateStore();
    const target = { kind: 'federation' as const, file: entry.statePath };
    await local.update(target, 'cli', () => ({ type: 'running', data: { deployed_files_path: folder, machines: [machine] } }) as never);
    const written = await local.update(target, 'cli', () => ({ type: 'dirty', data: { deployed_files_path: folder, machines: [machine] } }) as never);
    const ipc = tableCaller(() => createHandlerTable(a.services));
    const url = `${pgf.url}?schema=team`;
    expect(await ipc.refusal('state:push', { workspaceId: entry.id, url: pgf.url.replace('clusterdesk@', 'clusterdesk:pw@') })).toMatchObject({
      code: 'config-invalid',
    });
    const pushed = await ipc.call('state:push', { workspaceId: entry.id, url, key: 'moved' });
    expect(pushed.outcomes[0]).toMatchObject({ result: 'pushed', target: expect.stringContaining('#moved') });
    // Using that backend now, the workspace shows the same generation.
    await a.services.setBackend(entry.id, `${url}&workspace=moved`);
    expect(await a.services.snapshot(entry.id)).toMatchObject({ status: 'dirty', serial: written.serial, lineage: written.lineage });
    // Pull writes it back into the local file (the file stays the file, whatever the backend).
    await rm(join(folder, '.refedez'), { recursive: true, force: true });
    const pulled = await ipc.call('state:pull', { workspaceId: entry.id, url: `${url}&workspace=moved` });
    expect(pulled.outcomes[0]).toMatchObject({ result: 'pulled' });
    expect(await local.load(target)).toMatchObject({ type: 'dirty', serial: written.serial, lineage: written.lineage });
    await local.close();
  });

  it('PostgreSQL stopped: the last state marked stale with backend-unreachable, writes refused, nothing local; restarted: it recovers by itself', async () => {
    const b = desks[1]!;
    const bLast = () => b.seen.at(-1);
    await expect.poll(() => b.services.backends.connected(b.entry.id), { timeout: 30_000 }).toBe(true);
    await pgf.halt();
    await expect.poll(() => bLast()?.stale?.error.code, { timeout: 30_000 }).toBe('backend-unreachable');
    expect(bLast()!.stale!.error.host).toBe(`127.0.0.1:${pgf.port}`);
    expect(bLast()!.status).toBe('running'); // the last state read, not an empty one
    const refused = await rejection(b.services.operate(b.entry.id, 'stop', () => b.services.store.update(targetOf(b.entry), 'stop', (c) => c!)));
    expect(refused.code).toBe('backend-unreachable');
    expect(refused.toData().host).toBe(`127.0.0.1:${pgf.port}`);
    await expect(access(join(b.folder, '.refedez', 'state.json'))).rejects.toThrow();

    await pgf.start();
    await expect.poll(() => b.services.backends.connected(b.entry.id), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => bLast()?.stale, { timeout: 30_000 }).toBeUndefined();
    expect(bLast()).toMatchObject({ status: 'running', error: null });
    // And it listens again: a commit from desk A arrives.
    const a = desks[0]!;
    await a.services.operate(a.entry.id, 'stop', () =>
      a.services.store.update(targetOf(a.entry), 'stop', () => ({ type: 'dirty', data: { deployed_files_path: a.folder, machines: [machine] } }) as never),
    );
    await expect.poll(() => bLast()?.status, { timeout: 30_000 }).toBe('dirty');
  });
});
