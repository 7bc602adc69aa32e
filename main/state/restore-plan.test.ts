/**
 * The restore dialog announces the serial and lineage a restore will write (preload/restore-plan.ts); here the real
 * state store does the restore and must write exactly that — including the case the dialog used to get wrong
 * ("serial 15 → 12" announced, 16 written).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineageAfterRestore, serialAfterRestore, type CurrentFile } from '../../preload/restore-plan';
import { sampleCluster, tempDir } from '../../test/support/state/samples';
import { StateStore, type StateTarget } from './index';
import { SERIAL_MAX } from './parse';

let dir: string;
let cleanup: () => Promise<void>;
let store: StateStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = new StateStore({ lockTimeoutMs: 2000 });
});
afterEach(async () => {
  await cleanup();
});

const target = (): StateTarget<'cluster'> => ({ kind: 'cluster', file: join(dir, 'output', 'state.json') });

async function currentOf(t: StateTarget<'cluster'>): Promise<CurrentFile> {
  try {
    const s = await store.load(t);
    return { serial: s?.serial ?? null, unreadable: false, lineage: s?.lineage ?? null };
  } catch {
    return { serial: null, unreadable: true, lineage: null };
  }
}

describe('the restore announcement matches what the store writes', () => {
  it('the ceiling is the state engine’s', () => {
    expect(SERIAL_MAX).toBe(2 ** 53 - 2);
  });

  it('restoring generation 12 of 15 writes 16 (not 12), under the current lineage', async () => {
    const t = target();
    for (let i = 0; i < 15; i++) await store.update(t, `w${i}`, (c) => ({ ...(c ?? sampleCluster(2)), status: i % 2 ? 'running' : 'stopped' }));
    const backups = await store.backups(t);
    const current = await currentOf(t);
    expect(current.serial).toBe(15);
    const pick = backups.find((b) => b.serial === 12)!;
    const announced = serialAfterRestore(current, backups);
    expect(announced).toBe(16);
    const written = await store.restore(t, pick.id);
    expect(written.serial).toBe(announced);
    expect(written.lineage).toBe(lineageAfterRestore(current, pick));
  });

  it('restoring twice in a row: the second announcement counts the first restore', async () => {
    const t = target();
    for (let i = 0; i < 4; i++) await store.update(t, `w${i}`, (c) => ({ ...(c ?? sampleCluster(1)) }));
    for (const pickSerial of [2, 1]) {
      const backups = await store.backups(t);
      const announced = serialAfterRestore(await currentOf(t), backups);
      const written = await store.restore(t, backups.find((b) => b.serial === pickSerial && b.source === 'history')!.id);
      expect(written.serial).toBe(announced);
    }
  });

  it('over a corrupt current file (archived first into the next slot)', async () => {
    const t = target();
    await store.update(t, 'a', () => sampleCluster(2));
    await store.update(t, 'b', (c) => ({ ...c!, status: 'stopped' }));
    await writeFile(t.file, '{"cluster_name": "hpc-test", "vms": [ {"na');
    const backups = await store.backups(t);
    const current = await currentOf(t);
    expect(current.unreadable).toBe(true);
    const announced = serialAfterRestore(current, backups);
    const written = await store.restore(t, backups.find((b) => b.valid)!.id);
    expect(written.serial).toBe(announced);
  });

  it('a history generation named above the current serial moves the serial past it', async () => {
    const t = target();
    await store.update(t, 'a', () => sampleCluster(1));
    const mine = await store.load(t);
    await writeFile(`${t.file}.history/000099.json`, JSON.stringify({ ...sampleCluster(3), version: 1, serial: 90, lineage: mine!.lineage }));
    const backups = await store.backups(t);
    const announced = serialAfterRestore(await currentOf(t), backups);
    expect(announced).toBe(100);
    expect((await store.restore(t, 'history:000099')).serial).toBe(announced);
  });
});
