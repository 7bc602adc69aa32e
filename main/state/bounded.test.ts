/**
 * Issue #10: special files, sizes, depths and numbers can never stall the state engine or surface as `internal`.
 * Every FIFO below would block a plain read forever, so each of these tests hangs on a store that reads first.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIAL_MAX, STATE_LIMITS } from './parse';
import { StateStore, type StateTarget } from './index';
import { sampleCluster, tempDir } from '../../test/support/state/samples';
import { rejection } from '../../test/support/rejection';

const run = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;
const servers: Server[] = [];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('clusterdesk-bounded-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await cleanup();
});

let n = 0;
async function freshTarget(): Promise<StateTarget<'cluster'>> {
  const folder = join(dir, `case-${++n}`);
  await mkdir(folder, { recursive: true });
  return { kind: 'cluster', file: join(folder, 'state.json') };
}

type Special = 'fifo' | 'directory' | 'socket' | 'device';

/** Puts a special file at `path`: a FIFO (mkfifo), a folder, a listening unix socket, or a symlink to /dev/zero. */
async function makeSpecial(path: string, kind: Special): Promise<void> {
  switch (kind) {
    case 'fifo':
      await run('mkfifo', [path]);
      return;
    case 'directory':
      await mkdir(path);
      return;
    case 'socket': {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(path, resolve));
      return;
    }
    case 'device':
      await symlink('/dev/zero', path);
      return;
  }
}

const KINDS: readonly [Special, string][] = [
  ['fifo', 'fifo'],
  ['directory', 'directory'],
  ['socket', 'socket'],
  ['device', 'character device'],
];

describe('special files are refused at once, never read', () => {
  // A long lock timeout: a store that waited on the lock instead of refusing would hang past the test's timeout.
  const store = new StateStore({ lockTimeoutMs: 120_000 });

  for (const [kind, word] of KINDS) {
    it(`a ${kind} as the state file: load, update and the backups list answer state-io`, async () => {
      const t = await freshTarget();
      await makeSpecial(t.file, kind);
      const load = await rejection(store.load(t));
      expect(load.code).toBe('state-io');
      expect(load.message).toContain(`is a ${word}`);
      expect(load.path).toBe(t.file);
      expect(load.hint).toMatch(/regular JSON file/);
      const update = await rejection(store.update(t, 'test', () => sampleCluster(1)));
      expect(update.code).toBe('state-io');
      // Five more at once (they would fill libuv's four-thread pool if any of them blocked).
      const many = await Promise.all(Array.from({ length: 5 }, () => rejection(store.load(t))));
      expect(many.map((e) => e.code)).toEqual(Array(5).fill('state-io'));
    });

    it(`a ${kind} as the lock file: state-io naming the lock, no wait`, async () => {
      const t = await freshTarget();
      await writeFile(t.file, JSON.stringify(sampleCluster(1)));
      await makeSpecial(`${t.file}.lock`, kind);
      const err = await rejection(store.update(t, 'test', (s) => s!));
      expect(err.code).toBe('state-io');
      expect(err.path).toBe(`${t.file}.lock`);
      expect(err.message).toContain(`is a ${word}`);
      const info = await rejection(store.lockInfo(t));
      expect(info.code).toBe('state-io');
    });
  }

  it('a FIFO as a history generation: the backups list marks it, restore refuses it with state-io', async () => {
    const t = await freshTarget();
    await store.update(t, 'test', () => sampleCluster(1));
    await mkdir(`${t.file}.history`, { recursive: true });
    await makeSpecial(join(`${t.file}.history`, '000099.json'), 'fifo');
    const list = await store.backups(t);
    const fifo = list.find((b) => b.id === 'history:000099');
    expect(fifo).toMatchObject({ valid: false });
    expect(fifo?.error).toContain('is a fifo');
    const err = await rejection(store.restore(t, 'history:000099'));
    expect(err.code).toBe('state-io');
  });
});

describe('sizes and depths', () => {
  const store = new StateStore();

  it('a sparse file larger than the limit is state-corrupt without being read', async () => {
    const t = await freshTarget();
    const fh = await open(t.file, 'w');
    await fh.truncate(2 ** 30); // 1 GiB, no blocks
    await fh.close();
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.message).toContain('1.0 GiB');
    expect(err.message).toContain(`${STATE_LIMITS.maxBytes / 2 ** 20}.0 MiB`);
    expect(err.fields.details).toMatchObject({ size: 2 ** 30, limit: STATE_LIMITS.maxBytes });
    // A write refuses it like any corrupt file (never overwritten); restore from a backup still works.
    expect((await rejection(store.update(t, 'test', () => sampleCluster(1)))).code).toBe('state-corrupt');
  });

  it('a 200,000-deep unknown field is state-corrupt (not internal), and restore replaces it', async () => {
    const t = await freshTarget();
    await store.update(t, 'first', () => sampleCluster(2));
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const good = JSON.stringify(sampleCluster(2));
    await writeFile(t.file, `${good.slice(0, -1)},"junk":${deep}}`);
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.message).toContain(`deeper than ${STATE_LIMITS.maxDepth} levels`);
    expect(err.fields.line).toBe(1);
    expect((await rejection(store.update(t, 'test', (s) => s!))).code).toBe('state-corrupt');
    const backups = await store.backups(t);
    const valid = backups.find((b) => b.valid)!;
    const restored = await store.restore(t, valid.id);
    expect(restored.vms).toHaveLength(2);
    expect((await store.load(t))?.vms).toHaveLength(2);
  });

  // A valid state skips the text scan (the hand-written check bounds unknown fields itself): the limit must hold the
  // same on that path, for an unknown field at every level of the format.
  const nest = (levels: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = i % 2 ? { k: v } : [v];
    return v;
  };
  it.each([
    ['the top level', 1, (s: Record<string, unknown>, v: unknown) => ({ ...s, junk: v })],
    ['a VM', 3, (s: Record<string, unknown>, v: unknown) => ({ ...s, vms: [(s.vms as object[])[0], { ...(s.vms as object[])[1], junk: v }] })],
    ['a network', 3, (s: Record<string, unknown>, v: unknown) => ({ ...s, networks: [{ name: 'n', subnet: '', bridge: '', active_ips: [], junk: v }] })],
  ])('an unknown field in %s: at the depth limit it loads, one level deeper it is state-corrupt with its line', async (_where, level, put) => {
    const t = await freshTarget();
    const base = sampleCluster(2) as unknown as Record<string, unknown>;
    const fits = STATE_LIMITS.maxDepth - level;
    await writeFile(t.file, JSON.stringify(put(base, nest(fits)), null, 2));
    expect((await store.load(t))?.vms).toHaveLength(2);
    await writeFile(t.file, JSON.stringify(put(base, nest(fits + 1)), null, 2));
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.message).toContain(`deeper than ${STATE_LIMITS.maxDepth} levels`);
    expect(err.fields.line).toBeGreaterThan(1);
  });

  it('brackets inside strings do not count as nesting', async () => {
    const t = await freshTarget();
    await writeFile(t.file, JSON.stringify(sampleCluster(1, 'hpc-test', { note: `${'[{'.repeat(500)}"\\\\` })));
    expect((await store.load(t))?.vms).toHaveLength(1);
  });
});

describe('a heartbeat in the future', () => {
  it('is treated as stale once the lock timeout has passed, with a warning', async () => {
    const t = await freshTarget();
    await writeFile(t.file, JSON.stringify(sampleCluster(1)));
    const future = new Date('2999-01-01T00:00:00Z');
    // pid 1 is alive on this host, so only the heartbeat can make the lock stale.
    const record = { id: 'from-the-future', pid: 1, host: hostname(), operation: 'time-travel', since: future.toISOString(), heartbeat: future.toISOString() };
    await writeFile(`${t.file}.lock`, JSON.stringify(record));
    await utimes(`${t.file}.lock`, future, future);
    const warnings: string[] = [];
    const store = new StateStore({ lockTimeoutMs: 300, onWarning: (m) => warnings.push(m) });
    expect(await store.lockInfo(t)).toMatchObject({ id: 'from-the-future', futureHeartbeat: true, stale: false });
    const written = await store.update(t, 'test', (s) => s!);
    expect(written.serial).toBe(1);
    expect(warnings.join('\n')).toContain('lies in the future');
    expect(warnings.join('\n')).toContain('from-the-future');
  });

  it('goes stale in lockInfo after staleAfterMs of not changing', async () => {
    const t = await freshTarget();
    const future = new Date('2999-01-01T00:00:00Z');
    await writeFile(`${t.file}.lock`, JSON.stringify({ id: 'f2', pid: 1, host: hostname(), operation: 'x', since: '', heartbeat: future.toISOString() }));
    const store = new StateStore({ staleAfterMs: 100 });
    expect(await store.lockInfo(t)).toMatchObject({ stale: false });
    await new Promise((r) => setTimeout(r, 250));
    const info = await store.lockInfo(t);
    expect(info).toMatchObject({ stale: true });
    expect(info?.staleReason).toContain('lies in the future');
  });
});

describe('serials at the ceiling', () => {
  const store = new StateStore();

  it('a state whose serial is 2^53-1 is refused with state-corrupt naming the field', async () => {
    const t = await freshTarget();
    await writeFile(t.file, JSON.stringify({ ...sampleCluster(1), serial: 2 ** 53 - 1, lineage: 'L' }));
    const err = await rejection(store.load(t));
    expect(err.code).toBe('state-corrupt');
    expect(err.fields.field).toBe('serial');
    expect(err.hint).toMatch(/Restore a backup/);
    expect((await rejection(store.update(t, 'test', (s) => s!))).code).toBe('state-corrupt');
  });

  it('at SERIAL_MAX exactly it is refused too; the state below it loads, writes and restores', async () => {
    const t = await freshTarget();
    await writeFile(t.file, JSON.stringify({ ...sampleCluster(1), serial: SERIAL_MAX, lineage: 'L' }));
    expect((await rejection(store.load(t))).code).toBe('state-corrupt');

    await writeFile(t.file, JSON.stringify({ ...sampleCluster(1), serial: SERIAL_MAX - 2, lineage: 'L' }));
    const a = await store.update(t, 'test', (s) => s!);
    expect(a.serial).toBe(SERIAL_MAX - 1);
    // The top: the serial stops growing, but writes and restores keep working and what they write loads.
    const b = await store.update(t, 'test', (s) => ({ ...s!, status: 'stopped' }));
    expect(b.serial).toBe(SERIAL_MAX - 1);
    const backups = await store.backups(t);
    const restored = await store.restore(t, backups.find((x) => x.valid && x.source === 'history')!.id);
    expect(restored.serial).toBe(SERIAL_MAX - 1);
    expect((await store.load(t))?.serial).toBe(SERIAL_MAX - 1);
    expect(JSON.parse(await readFile(t.file, 'utf8')).serial).toBe(SERIAL_MAX - 1);
  });

  it('a crafted history name above the ceiling does not push the next serial out of range', async () => {
    const t = await freshTarget();
    await store.update(t, 'test', () => sampleCluster(1));
    await mkdir(`${t.file}.history`, { recursive: true });
    await writeFile(join(`${t.file}.history`, '9007199254740991.json'), JSON.stringify(sampleCluster(1)));
    const w = await store.update(t, 'test', (s) => s!);
    expect(w.serial).toBe(2);
    expect((await store.load(t))?.serial).toBe(2);
  });
});
