import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { mapSettled, pidAlive, processRunning, sleep, sleepOrCancel } from './util';

describe('mapSettled', () => {
  it('keeps input order, reports each failure on its own item and never rejects', async () => {
    const out = await mapSettled([3, 1, 2, 0], async (n) => {
      await sleep(n * 5);
      if (n === 2) throw new AppError('ssh-unreachable', 'down', { host: 'h2' });
      if (n === 1) throw new Error('plain');
      return n * 10;
    });
    expect(out[0]).toEqual({ ok: true, value: 30 });
    expect(out[1]).toMatchObject({ ok: false, error: { code: 'internal', message: 'plain' } });
    expect(out[2]).toEqual({ ok: false, error: { code: 'ssh-unreachable', message: 'down', host: 'h2' } });
    expect(out[3]).toEqual({ ok: true, value: 0 });
  });

  it('never runs more than `concurrency` calls at once, and at least one for a bad width', async () => {
    for (const [concurrency, want] of [
      [3, 3],
      [0, 1],
      [Number.NaN, 1],
    ] as const) {
      let running = 0;
      let peak = 0;
      await mapSettled(
        Array.from({ length: 20 }, (_, i) => i),
        async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running--;
        },
        { concurrency },
      );
      expect(peak).toBe(want);
    }
  });

  it('settles items not yet begun as skipped `cancelled` once the signal aborts; items in flight finish', async () => {
    const ac = new AbortController();
    const started: number[] = [];
    const out = await mapSettled(
      [0, 1, 2, 3, 4],
      async (n, _i, signal) => {
        started.push(n);
        expect(signal).toBe(ac.signal);
        if (n === 1) ac.abort();
        await new Promise((r) => setImmediate(r));
        return n;
      },
      { concurrency: 2, signal: ac.signal },
    );
    expect(started).toEqual([0, 1]);
    expect(out.slice(0, 2)).toEqual([
      { ok: true, value: 0 },
      { ok: true, value: 1 },
    ]);
    for (const r of out.slice(2)) expect(r).toEqual({ ok: false, error: { code: 'cancelled', message: 'The operation was cancelled.' }, skipped: true });
  });

  it('returns an empty list for no items', async () => {
    expect(await mapSettled([], async () => 1)).toEqual([]);
  });
});

describe('sleep / sleepOrCancel', () => {
  it('resolves true after the wait, false at once when aborted', async () => {
    expect(await sleep(1)).toBe(true);
    const ac = new AbortController();
    ac.abort();
    expect(await sleep(60_000, ac.signal)).toBe(false);
    await expect(sleepOrCancel(60_000, ac.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('pidAlive', () => {
  it('is true for this process and false for a pid that does not exist', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(2 ** 22 + 12345)).toBe(false);
  });
});

describe('processRunning', () => {
  it('is true for a running child and false once it was killed', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    expect(await processRunning(pid)).toBe(true);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(pid, 'SIGKILL');
    await exited;
    expect(await processRunning(pid)).toBe(false);
  });
});
