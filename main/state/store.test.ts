import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { isoNow, StateStore, type ClusterState, type FederationState, type StateTarget } from './index';
import { sampleCluster, sampleFederation, tempDir } from '../../test/support/state/samples';

let dir: string;
let cleanup: () => Promise<void>;
let warnings: string[];
let store: StateStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  warnings = [];
  store = new StateStore({ onWarning: (m) => warnings.push(m), lockTimeoutMs: 2000 });
});
afterEach(async () => {
  await cleanup();
});

const clusterTarget = (extra: Partial<StateTarget<'cluster'>> = {}): StateTarget<'cluster'> => ({
  kind: 'cluster',
  file: join(dir, 'output', 'state.json'),
  ...extra,
});
const fedTarget = (extra: Partial<StateTarget<'federation'>> = {}): StateTarget<'federation'> => ({
  kind: 'federation',
  file: join(dir, '.refedez', 'state.json'),
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw new Error(`expected an AppError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

describe('writes', () => {
  it('fills the header, writes 0600 in a 0700 folder and records history and backup', async () => {
    const t = clusterTarget();
    const first = await store.update(t, 'start', () => sampleCluster(3));
    expect(first.serial).toBe(1);
    expect(first.version).toBe(1);
    expect(first.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.last_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    expect((await stat(t.file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'output'))).mode & 0o777).toBe(0o700);
    expect((await stat(`${t.file}.history`)).mode & 0o777).toBe(0o700);

    const second = await store.update(t, 'stop', (cur) => ({ ...cur!, status: 'stopped' }));
    expect(second.serial).toBe(2);
    expect(second.lineage).toBe(first.lineage);
    const backup = JSON.parse(await readFile(`${t.file}.backup`, 'utf8')) as ClusterState;
    expect(backup.serial).toBe(1);
    expect(backup.status).toBe('running');
    expect(await readdir(`${t.file}.history`)).toEqual(['000001.json', '000002.json']);
    expect(await store.load(t)).toEqual(second);
  });

  it('keeps unknown fields at every level on a round trip', async () => {
    const t = clusterTarget();
    const state = sampleCluster(2, 'hpc-test', { future_top: { a: [1, { b: 2 }] } });
    (state.vms[0] as Record<string, unknown>).future_vm = 'kept';
    (state.networks[0] as Record<string, unknown>).future_net = 42;
    await store.update(t, 'start', () => state);
    const again = await store.update(t, 'touch', (cur) => cur!);
    const loaded = (await store.load(t))!;
    expect(loaded).toEqual(again);
    expect(loaded.future_top).toEqual({ a: [1, { b: 2 }] });
    expect(loaded.vms[0]!.future_vm).toBe('kept');
    expect(loaded.networks[0]!.future_net).toBe(42);
  });

  it('drops secrets anywhere on write, warns, and leaves the caller’s objects alone', async () => {
    const t = fedTarget();
    const state = sampleFederation(2) as FederationState & { data: { machines: Record<string, unknown>[] } };
    state.data.machines[1]!.password = 'hunter2';
    state.data.machines[1]!.connection = { private_key: 'KEY', nested: [{ Pass_Phrase: 'x', token: 't', keep: 1 }] };
    const written = await store.update(t, 'start', () => state);
    const text = await readFile(t.file, 'utf8');
    for (const secret of ['hunter2', 'KEY', 'private_key', 'Pass_Phrase', '"token"']) expect(text).not.toContain(secret);
    expect(text).toContain('"keep": 1');
    expect(state.data.machines[1]!.password).toBe('hunter2');
    expect(written.type).toBe('running');
    expect(warnings.join('\n')).toMatch(/data\.machines\[1\]\.password/);
  });

  it('refuses to write an invalid state and keeps the file', async () => {
    const t = clusterTarget();
    await store.update(t, 'start', () => sampleCluster(1));
    const before = await readFile(t.file);
    const bad = { ...sampleCluster(1), status: 'exploded' } as unknown as ClusterState;
    const err = await rejection(store.update(t, 'bad', () => bad));
    expect(err.code).toBe('internal');
    expect(err.fields.field).toBe('status');
    expect(await readFile(t.file)).toEqual(before);
  });

  it('trims history to the configured number of generations', async () => {
    const small = new StateStore({ historyLimit: 3 });
    const t = clusterTarget();
    for (let i = 0; i < 7; i++) await small.update(t, 'w', (cur) => cur ?? sampleCluster(1));
    expect(await readdir(`${t.file}.history`)).toEqual(['000005.json', '000006.json', '000007.json']);
    const list = await small.backups(t);
    expect(list.map((b) => b.id)).toEqual(['history:000007', 'history:000006', 'backup', 'history:000005']);
    expect(list.every((b) => b.valid)).toBe(true);
  });

  it('refuses a nested transaction on the same file and a handle used after its transaction', async () => {
    const t = clusterTarget();
    let leaked: { read(): Promise<unknown> } | undefined;
    const err = await rejection(
      store.transaction(t, 'outer', async (tx) => {
        leaked = tx;
        await store.update(t, 'inner', () => sampleCluster(1));
      }),
    );
    expect(err.code).toBe('internal');
    expect(err.message).toMatch(/Nested transaction/);
    expect((await rejection(leaked!.read())).message).toMatch(/has ended/);
  });

  it('serializes concurrent updates of one process without losing any', async () => {
    const t = clusterTarget();
    // The point is that no update is lost, not how fast 40 queued writers get through: on a loaded machine the last
    // of them may wait far longer than the 2 s the other tests use, so this store waits as long as the test may run.
    store.configure({ lockTimeoutMs: 120_000 });
    await store.update(t, 'init', () => sampleCluster(1, 'hpc-test', { counter: 0 }));
    await Promise.all(Array.from({ length: 40 }, () => store.update(t, 'inc', (cur) => ({ ...cur!, counter: (cur!.counter as number) + 1 }))));
    const final = (await store.load(t))!;
    expect(final.counter).toBe(40);
    expect(final.serial).toBe(41);
  }, 150_000);
});

describe('typed errors', () => {
  it('state-corrupt with line and column for a file that is not JSON, never overwritten', async () => {
    const t = clusterTarget();
    await mkdir(join(dir, 'output'));
    const text = '{\n  "cluster_name": "x",\n  "vms": [,]\n}\n';
    await writeFile(t.file, text);
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.fields.line).toBe(3);
    expect(err.message).toMatch(/line 3, column 11/);
    expect(err.path).toBe(t.file);
    expect(err.hint).toMatch(/[Rr]estore/);
    const upd = await rejection(store.update(t, 'start', () => sampleCluster(1)));
    expect(upd.code).toBe('state-corrupt');
    expect(await readFile(t.file, 'utf8')).toBe(text);
  });

  it('state-corrupt with the field path for a schema error', async () => {
    const t = clusterTarget();
    await store.update(t, 'start', () => sampleCluster(3));
    const raw = JSON.parse(await readFile(t.file, 'utf8')) as { vms: { state: string }[] };
    raw.vms[2]!.state = 'FLYING';
    await writeFile(t.file, JSON.stringify(raw));
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.fields.field).toBe('vms[2].state');
  });

  it('state-corrupt for an empty file and for a file of the other kind', async () => {
    const t = clusterTarget();
    await mkdir(join(dir, 'output'));
    await writeFile(t.file, '');
    expect((await rejection(store.load(t))).message).toMatch(/empty/);
    await writeFile(t.file, JSON.stringify({ type: 'clean', data: {} }));
    expect((await rejection(store.load(t))).message).toMatch(/federation state file/);
  });

  it('state-foreign when the lineage differs from the workspace’s', async () => {
    const t = clusterTarget();
    const written = await store.update(t, 'start', () => sampleCluster(1));
    const other = clusterTarget({ lineage: '00000000-0000-4000-8000-000000000000' });
    const err = await rejection(store.load(other));
    expect(err.code).toBe('state-foreign');
    expect(err.message).toContain(written.lineage);
    expect((await rejection(store.update(other, 'stop', (c) => c!))).code).toBe('state-foreign');
    expect(await store.load(clusterTarget({ lineage: written.lineage }))).toEqual(written);
  });

  it('state-mismatch when two clusters share one state file', async () => {
    const t = clusterTarget({ clusterName: 'alpha' });
    await store.update(t, 'start', () => sampleCluster(1, 'alpha'));
    const beta = clusterTarget({ clusterName: 'beta' });
    const err = await rejection(store.load(beta));
    expect(err.code).toBe('state-mismatch');
    expect(err.message).toMatch(/multiple clusters using the same state file/);
    expect((await rejection(store.update(t, 'rename', () => sampleCluster(1, 'beta')))).code).toBe('state-mismatch');
  });

  it('state-stale when the file moved past the caller’s base serial', async () => {
    const t = clusterTarget();
    const first = await store.update(t, 'start', () => sampleCluster(1));
    await store.update(t, 'other window', (c) => ({ ...c!, status: 'stopped' }));
    const err = await rejection(store.update(t, 'late', (c) => c!, { baseSerial: first.serial }));
    expect(err.code).toBe('state-stale');
    expect(err.fields.details).toMatchObject({ baseSerial: 1, current: 2 });
    const ok = await store.update(t, 'fresh', (c) => c!, { baseSerial: 2 });
    expect(ok.serial).toBe(3);
  });

  it('state-permission with the fix in the hint when the folder is immutable (real EPERM, works as root)', async () => {
    const t = clusterTarget();
    await store.update(t, 'start', () => sampleCluster(1));
    const folder = join(dir, 'output');
    execFileSync('chattr', ['+i', folder]);
    try {
      const err = await rejection(store.update(t, 'stop', (c) => ({ ...c!, status: 'stopped' })));
      expect(err.code).toBe('state-permission');
      expect(err.hint).toMatch(/chmod 700/);
      expect(err.hint).toMatch(/chown/);
      expect(err.path).toBeTruthy();
    } finally {
      execFileSync('chattr', ['-i', folder]);
    }
    expect((await store.load(t))!.status).toBe('running');
  });

  it('state-io when a part of the path is a regular file', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    const t = clusterTarget({ file: join(dir, 'plain', 'state.json') });
    const err = await rejection(store.update(t, 'start', () => sampleCluster(1)));
    expect(err.code).toBe('state-io');
    expect(err.fields.details).toMatchObject({ errno: 'ENOTDIR' });
    expect((await rejection(store.load(t))).code).toBe('state-io');
  });

  it('refuses relative paths', async () => {
    const err = await rejection(store.load({ kind: 'cluster', file: 'output/state.json' }));
    expect(err.code).toBe('invalid-argument');
  });
});

describe('restore', () => {
  it('restores an older generation as a new one, keeping lineage and the pre-restore file', async () => {
    const t = clusterTarget();
    const g1 = await store.update(t, 'start', () => sampleCluster(2));
    await store.update(t, 'stop', (c) => ({ ...c!, status: 'stopped' }));
    const g3 = await store.update(t, 'partial', (c) => ({ ...c!, status: 'partial' }));
    const restored = await store.restore(t, 'history:000001');
    expect(restored.serial).toBe(4);
    expect(restored.lineage).toBe(g1.lineage);
    expect(restored.status).toBe('running');
    expect({ ...restored, serial: 0, last_modified: '' }).toEqual({ ...g1, serial: 0, last_modified: '' });
    const list = await store.backups(t);
    expect(list[0]).toMatchObject({ id: 'history:000004', serial: 4, status: 'running', count: 2, valid: true });
    expect(list.find((b) => b.id === 'history:000003')).toMatchObject({ serial: 3, status: 'partial' });
    expect(list.find((b) => b.id === 'backup')).toMatchObject({ serial: g3.serial, status: 'partial' });
  });

  it('restores the newest valid backup over a corrupt file and keeps the corrupt one in history', async () => {
    const t = clusterTarget();
    await store.update(t, 'start', () => sampleCluster(2));
    await store.update(t, 'stop', (c) => ({ ...c!, status: 'stopped' }));
    await writeFile(t.file, '{"cluster_name": "hpc-test", "vms": [ {"na');
    expect((await rejection(store.load(t))).code).toBe('state-corrupt');

    const list = await store.backups(t);
    const newestValid = list.find((b) => b.valid)!;
    expect(newestValid.id).toBe('history:000002');
    const restored = await store.restore(t, newestValid.id);
    expect(restored.serial).toBe(4);
    expect(restored.status).toBe('stopped');
    expect((await store.load(t))!.serial).toBe(4);

    const after = await store.backups(t);
    const archived = after.find((b) => b.id === 'history:000003')!;
    expect(archived.valid).toBe(false);
    expect(archived.error).toMatch(/not valid JSON/);
    expect(await readFile(archived.file, 'utf8')).toBe('{"cluster_name": "hpc-test", "vms": [ {"na');
  });

  it('needs adopt for a backup of another lineage, then writes it under the current lineage', async () => {
    const t = clusterTarget();
    const mine = await store.update(t, 'start', () => sampleCluster(1));
    const foreign = { ...sampleCluster(5), version: 1, serial: 90, lineage: '11111111-1111-4111-8111-111111111111' };
    await writeFile(`${t.file}.history/000099.json`, JSON.stringify(foreign));
    const err = await rejection(store.restore(t, 'history:000099'));
    expect(err.code).toBe('state-foreign');
    const adopted = await store.restore(t, 'history:000099', { adopt: true });
    expect(adopted.lineage).toBe(mine.lineage);
    expect(adopted.serial).toBe(100);
    expect(adopted.vms).toHaveLength(5);
  });

  it('rejects unknown ids and damaged backups with a typed error', async () => {
    const t = clusterTarget();
    await store.update(t, 'start', () => sampleCluster(1));
    expect((await rejection(store.restore(t, '../../etc/passwd'))).code).toBe('invalid-argument');
    expect((await rejection(store.restore(t, 'history:000777'))).code).toBe('not-found');
    await writeFile(`${t.file}.history/000005.json`, '[]');
    const err = await rejection(store.restore(t, 'history:000005'));
    expect(err.code).toBe('state-corrupt');
    expect(err.hint).toMatch(/another one/);
  });
});

describe('remove', () => {
  it('cluster destroy removes the file, history keeps the last generation, serials continue', async () => {
    const t = clusterTarget();
    const last = await store.update(t, 'start', () => sampleCluster(1));
    await store.transaction(t, 'destroy', (tx) => tx.remove());
    expect(await store.load(t)).toBeNull();
    const list = await store.backups(t);
    expect(list[0]).toMatchObject({ serial: last.serial, valid: true });
    const again = await store.update(t, 'start', (cur) => cur ?? sampleCluster(2));
    expect(again.serial).toBe(2);
    expect(again.lineage).toBe(last.lineage);
  });

  it('a write keeps the file’s lineage unless told to adopt the one of the state it writes', async () => {
    const t = clusterTarget();
    const first = await store.update(t, 'start', () => sampleCluster(1));
    const imported = { ...sampleCluster(2), lineage: '44444444-4444-4444-8444-444444444444' };
    const kept = await store.transaction(t, 'import', (tx) => tx.write(imported));
    expect(kept.lineage).toBe(first.lineage);
    const adopted = await store.transaction(t, 'import', (tx) => tx.write(imported, { adoptLineage: true }));
    expect(adopted.lineage).toBe('44444444-4444-4444-8444-444444444444');
    expect(adopted.serial).toBe(3);
    const ahead = await store.transaction(t, 'import', (tx) => tx.write(imported, { minSerial: 50 }));
    expect(ahead.serial).toBe(50);
    const behind = await store.transaction(t, 'import', (tx) => tx.write(imported, { minSerial: 10 }));
    expect(behind.serial).toBe(51);
  });

  it('a new file takes the workspace’s lineage when one is given', async () => {
    const t = clusterTarget({ lineage: '22222222-2222-4222-8222-222222222222' });
    const w = await store.update(t, 'start', () => sampleCluster(1));
    expect(w.lineage).toBe('22222222-2222-4222-8222-222222222222');
  });

  it('federation clean removes the whole state folder, and refuses a project folder', async () => {
    const t = fedTarget();
    await store.update(t, 'start', () => sampleFederation(2));
    await store.update(t, 'stop', (c) => ({ ...c!, type: 'dirty' }) as FederationState);
    await store.transaction(t, 'clean', (tx) => tx.remove({ folder: true }));
    await expect(stat(join(dir, '.refedez'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);

    const inProject: StateTarget<'federation'> = { kind: 'federation', file: join(dir, 'state.json') };
    await writeFile(join(dir, 'refedez.yaml'), 'refedez: {}\n');
    await store.update(inProject, 'start', () => sampleFederation(1));
    const err = await rejection(store.transaction(inProject, 'clean', (tx) => tx.remove({ folder: true })));
    expect(err.code).toBe('path-refused');
    expect(await store.load(inProject)).not.toBeNull();
  });
});

describe('isoNow', () => {
  it('writes the local offset', () => {
    expect(isoNow(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)))).toMatch(/^2025-01-0\dT\d\d:04:05\.006[+-]\d\d:\d\d$/);
  });
});
