import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StateStore, type StateTarget } from './index';
import { bundleChild, Child } from '../../test/support/state/children';
import { sampleCluster, tempDir } from '../../test/support/state/samples';
import { rejection } from '../../test/support/rejection';

let dir: string;
let cleanup: () => Promise<void>;
let script: string;
const children: Child[] = [];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('clusterdesk-lock-'));
  script = await bundleChild(dir);
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});
afterAll(async () => {
  await cleanup();
});

let n = 0;
function freshTarget(): StateTarget<'cluster'> {
  return { kind: 'cluster', file: join(dir, `case-${++n}`, 'state.json') };
}

async function holder(target: StateTarget): Promise<{ child: Child; lockId: string }> {
  const child = new Child(script, { mode: 'hold', file: target.file });
  children.push(child);
  const line = await child.waitLine((l) => l.startsWith('locked ') || l.startsWith('error'));
  if (!line.startsWith('locked ')) throw new Error(line);
  return { child, lockId: line.slice('locked '.length) };
}

describe('on-disk lock', () => {
  it('a second writer times out with state-locked naming the holder', async () => {
    const t = freshTarget();
    const { child, lockId } = await holder(t);
    const store = new StateStore({ lockTimeoutMs: 300 });
    const info = await store.lockInfo(t);
    expect(info).toMatchObject({ id: lockId, pid: child.pid, host: hostname(), operation: 'hold-test', stale: false });
    const err = await rejection(store.update(t, 'start', () => sampleCluster(1)));
    expect(err.code).toBe('state-locked');
    expect(err.message).toContain(`pid ${child.pid}`);
    expect(err.message).toContain('hold-test');
    expect(err.fields.details).toMatchObject({ holder: { id: lockId, pid: child.pid, stale: false } });
    expect(err.path).toBe(t.file);
  });

  it('breaks the lock of a SIGKILLed holder (dead pid) with a warning', async () => {
    const t = freshTarget();
    const { child, lockId } = await holder(t);
    const warnings: string[] = [];
    const store = new StateStore({ onWarning: (m) => warnings.push(m), lockTimeoutMs: 2000 });
    expect(await store.lockInfo(t)).toMatchObject({ id: lockId, stale: false });
    await child.kill();
    expect(await store.lockInfo(t)).toMatchObject({ id: lockId, stale: true });
    const w = await store.update(t, 'start', () => sampleCluster(1));
    expect(w.serial).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`Broke a stale lock .*pid ${child.pid}.*lock id ${lockId}.*process ${child.pid} is gone`));
    expect(await store.lockInfo(t)).toBeNull();
  });

  it('forceUnlock needs the exact lock id', async () => {
    const t = freshTarget();
    const { lockId } = await holder(t);
    const warnings: string[] = [];
    const store = new StateStore({ onWarning: (m) => warnings.push(m) });
    const err = await rejection(store.forceUnlock(t, '00000000-0000-4000-8000-000000000000'));
    expect(err.code).toBe('state-locked');
    expect(err.fields.details).toMatchObject({ holder: { id: lockId } });
    expect((await store.lockInfo(t))?.id).toBe(lockId);
    await store.forceUnlock(t, lockId);
    expect(await store.lockInfo(t)).toBeNull();
    expect(warnings[0]).toMatch(/Force-unlocked/);
    expect((await rejection(store.forceUnlock(t, lockId))).code).toBe('not-found');
  });

  it('treats a lock from another host with an old heartbeat as stale, and a fresh one as held', async () => {
    const t = freshTarget();
    await mkdir(join(dir, `case-${n}`), { recursive: true });
    const lock = `${t.file}.lock`;
    const record = {
      id: 'remote-lock',
      pid: 4242,
      host: 'elsewhere.example',
      operation: 'cli stop',
      since: '2025-01-01T00:00:00Z',
      heartbeat: '2025-01-01T00:00:00Z',
    };
    await writeFile(lock, JSON.stringify(record));
    const warnings: string[] = [];
    const store = new StateStore({ onWarning: (m) => warnings.push(m), lockTimeoutMs: 200, staleAfterMs: 60_000 });
    const fresh = new Date();
    await utimes(lock, fresh, fresh);
    expect((await rejection(store.update(t, 'start', () => sampleCluster(1)))).code).toBe('state-locked');
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    expect(await store.lockInfo(t)).toMatchObject({ id: 'remote-lock', stale: true });
    await store.update(t, 'start', () => sampleCluster(1));
    expect(warnings[0]).toMatch(/no heartbeat for \d+ s/);
  });

  it('refreshes the heartbeat while a long transaction runs', async () => {
    const t = freshTarget();
    const store = new StateStore({ staleAfterMs: 300 });
    await store.transaction(t, 'long', async (tx) => {
      const lock = `${t.file}.lock`;
      const first = (await stat(lock)).mtimeMs;
      let now = first;
      // Sized by time (a loaded machine delays the heartbeat timer), not by a count of polls.
      const deadline = performance.now() + 30_000;
      while (now === first && performance.now() < deadline) {
        await sleep(50);
        now = (await stat(lock)).mtimeMs;
      }
      expect(now).toBeGreaterThan(first);
      expect(await store.lockInfo(t)).toMatchObject({ id: tx.lockId, stale: false });
      await tx.write(sampleCluster(1));
    });
    expect(await store.lockInfo(t)).toBeNull();
  });

  it('a transaction whose lock was force-broken cannot write any more', async () => {
    const t = freshTarget();
    const store = new StateStore();
    const err = await rejection(
      store.transaction(t, 'victim', async (tx) => {
        await tx.write(sampleCluster(1));
        await new StateStore().forceUnlock(t, tx.lockId);
        await tx.write(sampleCluster(2));
      }),
    );
    expect(err.code).toBe('state-locked');
    expect(err.message).toMatch(/lost its lock/);
    expect((await store.load(t))!.vms).toHaveLength(1);
  });

  it('waiting for the lock can be cancelled', async () => {
    const t = freshTarget();
    await holder(t);
    const ac = new AbortController();
    const pending = rejection(new StateStore({ lockTimeoutMs: 60_000 }).update(t, 'start', () => sampleCluster(1), { signal: ac.signal }));
    await sleep(50);
    ac.abort();
    expect((await pending).code).toBe('cancelled');
  });
});

describe('in-process queue', () => {
  it('times out with state-locked naming this process’s holder', async () => {
    const t = freshTarget();
    const store = new StateStore({ lockTimeoutMs: 200 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const isHeld = new Promise<void>((r) => (started = r));
    const long = store.transaction(t, 'long-op', async () => {
      started();
      await gate;
    });
    await isHeld;
    const err = await rejection(store.update(t, 'second', () => sampleCluster(1)));
    expect(err.code).toBe('state-locked');
    expect(err.message).toContain('long-op');
    expect(err.message).toContain(`pid ${process.pid}`);
    release();
    await long;
    // The queue is intact after the timeout: later calls still run.
    expect((await store.update(t, 'third', () => sampleCluster(1))).serial).toBe(1);
  });
});
