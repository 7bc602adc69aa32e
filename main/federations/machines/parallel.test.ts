import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors';
import { mapSettled } from './parallel';

describe('mapSettled', () => {
  it('keeps input order, reports each failure on its own item and never rejects', async () => {
    const out = await mapSettled([3, 1, 2, 0], async (n) => {
      await new Promise((r) => setTimeout(r, n * 5));
      if (n === 2) throw new AppError('ssh-unreachable', 'down', { host: 'h2' });
      return n * 10;
    });
    expect(out).toEqual([
      { ok: true, value: 30 },
      { ok: true, value: 10 },
      { ok: false, error: { code: 'ssh-unreachable', message: 'down', host: 'h2' } },
      { ok: true, value: 0 },
    ]);
  });

  it('never runs more than `concurrency` calls at once', async () => {
    let running = 0;
    let peak = 0;
    await mapSettled(
      Array.from({ length: 20 }, (_, i) => i),
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
  });

  it('settles items not yet started as cancelled once the signal aborts', async () => {
    const ac = new AbortController();
    const started: number[] = [];
    const out = await mapSettled(
      [0, 1, 2, 3],
      async (n) => {
        started.push(n);
        if (n === 0) ac.abort();
        return n;
      },
      { concurrency: 1, signal: ac.signal },
    );
    expect(started).toEqual([0]);
    expect(out.slice(1).map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });
});
