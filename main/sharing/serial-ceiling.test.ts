/** Issue #10: a crafted bundle cannot carry a serial at the ceiling (checksums are not signatures). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIAL_MAX, StateStore } from '../state';
import { sampleCluster } from '../../test/support/state/samples';
import { rejection } from '../../test/support/rejection';
import { makeBundle, parseBundle, type StateBundle } from './bundle';
import { importState, readBundle, type ShareTarget } from './service';

const LIN = '11111111-2222-3333-4444-555555555555';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-serial-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bundle(serial: number, state: Record<string, unknown> = { ...sampleCluster(1), lineage: LIN }): StateBundle {
  return makeBundle({
    app_version: '0.1.0',
    exported_at: '2026-11-23T10:00:00.000Z',
    workspace: { kind: 'cluster', name: 'hpc-test' },
    lineage: LIN,
    serial,
    redacted: { secrets: 0, home_paths: false },
    state,
  });
}

const ws = (file: string): ShareTarget => ({ kind: 'cluster', name: 'hpc-test', target: { kind: 'cluster', file } });

describe('serial ceiling in bundles', () => {
  for (const serial of [2 ** 53 - 1, SERIAL_MAX, 2 ** 60, -1, 1.5]) {
    it(`a bundle with serial ${serial} is bundle-invalid with a hint`, () => {
      let err: unknown;
      try {
        parseBundle(JSON.stringify(bundle(serial)));
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'bundle-invalid' });
      expect((err as Error).message).toContain(`from 0 to ${SERIAL_MAX - 1}`);
    });
  }

  it('a bundle whose state carries serial 2^53-1 is bundle-invalid', () => {
    const b = bundle(5, { ...sampleCluster(1), lineage: LIN, serial: 2 ** 53 - 1 });
    expect(() => readBundle(ws(join(dir, 'x.json')), JSON.stringify(b))).toThrow(expect.objectContaining({ code: 'bundle-invalid' }));
  });

  it('the highest accepted serial imports, and the workspace keeps working after it', async () => {
    const store = new StateStore();
    const file = join(dir, 'top', 'state.json');
    const result = await importState(store, ws(file), JSON.stringify(bundle(SERIAL_MAX - 1)), { force: false, adopt: false });
    expect(result.written).toBe(true);
    expect((await store.loadCluster(file))?.serial).toBe(SERIAL_MAX - 1);
    const next = await store.update({ kind: 'cluster', file }, 'after', (s) => ({ ...s!, status: 'stopped' }));
    expect(next.serial).toBe(SERIAL_MAX - 1);
    const refused = await rejection(importState(store, ws(file), JSON.stringify(bundle(2 ** 53 - 1)), { force: true, adopt: true }));
    expect(refused.code).toBe('bundle-invalid');
  });
});
