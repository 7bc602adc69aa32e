import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore, type StateTarget } from './index';
import { bundleChild, Child } from '../../test/support/state/children';
import { sampleCluster, tempDir } from '../../test/support/state/samples';

let dir: string;
let cleanup: () => Promise<void>;
let script: string;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('clusterdesk-concurrency-'));
  script = await bundleChild(dir);
});
afterAll(async () => {
  await cleanup();
});

// Fixed counts (the exact totals are the point), so the timeout leaves room for a loaded 2-core machine.
describe('two processes', { timeout: 300_000 }, () => {
  it('2 × 300 updates of a counter lose nothing: counter 600, serial exact', async () => {
    const file = join(dir, 'race', 'state.json');
    const target: StateTarget<'cluster'> = { kind: 'cluster', file };
    const store = new StateStore();
    const first = await store.update(target, 'init', () => sampleCluster(10, 'race', { counter: 0 }));
    const children = [0, 1].map(() => new Child(script, { mode: 'race', file, count: 300 }));
    await Promise.all(children.map((c) => c.waitLine((l) => l === 'ready')));
    for (const c of children) c.go();
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes, children.map((c) => c.lines.join('\n')).join('\n---\n')).toEqual([0, 0]);
    const final = (await store.load(target))!;
    expect(final.counter).toBe(600);
    expect(final.serial).toBe(first.serial + 600);
    expect(final.lineage).toBe(first.lineage);
  });

  it('a reader never sees a missing or broken file while a writer saves a 2,000-VM state 60 times', async () => {
    const file = join(dir, 'reader', 'state.json');
    const target: StateTarget<'cluster'> = { kind: 'cluster', file };
    const store = new StateStore();
    const base = sampleCluster(2000, 'kill-test');
    await store.update(target, 'init', () => ({ ...base, counter: 0, vms: base.vms.map((vm) => ({ ...vm, gen: 0 })) }));
    const writer = new Child(script, { mode: 'saver', file, vms: 2000, count: 60 });
    await writer.waitLine((l) => l === 'ready');
    let done = false;
    void writer.exited.then(() => (done = true));
    writer.go();
    let reads = 0;
    const errors: string[] = [];
    let missing = 0;
    const serials = new Set<number>();
    while (!done) {
      try {
        const s = await store.load(target);
        if (s === null) missing++;
        else {
          serials.add(s.serial!);
          if (s.vms.length !== 2000 || s.vms.some((vm) => vm.gen !== s.counter)) errors.push(`torn generation ${s.serial}`);
        }
      } catch (err) {
        errors.push(String(err));
      }
      reads++;
    }
    expect(await writer.exited).toBe(0);
    expect(errors).toEqual([]);
    expect(missing).toBe(0);
    expect((await store.load(target))!.counter).toBe(60);
    // The reader really overlapped the writes (it saw more than one generation).
    expect(serials.size).toBeGreaterThan(1);
    console.info(`reader test: ${reads} reads, ${serials.size} generations seen, 0 errors`);
  });
});
