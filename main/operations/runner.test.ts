import { describe, expect, it } from 'vitest';
import type { OperationFinished, ProgressEvent } from '../../preload/contract';
import { AppError, isAppError } from '../errors';
import { OperationRunner } from './runner';

function recorder(runner: OperationRunner) {
  const progress: ProgressEvent[] = [];
  const finished: OperationFinished[] = [];
  runner.subscribe({ progress: (e) => progress.push(e), finished: (e) => finished.push(e) });
  return { progress, finished };
}

describe('OperationRunner', () => {
  it('runs an operation, forwards progress with the op id, settles, then reports the end with the outcomes', async () => {
    const runner = new OperationRunner();
    const rec = recorder(runner);
    const order: string[] = [];
    const outcomes = [{ target: 'vm1', result: 'started' }];
    const { opId, value } = await runner.run(
      'ws1',
      'start',
      async (ctx) => {
        ctx.progress({ target: 'vm1', step: 'define', value: 0.5, message: 'defining' });
        expect(runner.current('ws1')?.name).toBe('start');
        return { outcomes };
      },
      {
        settle: async (ok) => {
          // The operation has left the running set (a snapshot built now says idle) and is not announced yet.
          order.push(`settle ${ok} running=${runner.current('ws1') !== null} finished=${rec.finished.length}`);
        },
      },
    );
    expect(value).toEqual({ outcomes });
    expect(order).toEqual(['settle true running=false finished=0']);
    expect(rec.progress).toEqual([
      { opId, workspaceId: 'ws1', operation: 'start', target: 'vm1', step: 'define', value: 0.5, message: 'defining', level: 'info' },
    ]);
    expect(rec.finished).toEqual([{ opId, workspaceId: 'ws1', operation: 'start', ok: true, outcomes }]);
    expect(runner.current('ws1')).toBeNull();
  });

  it('answers busy for a second mutation on the same workspace but not on another', async () => {
    const runner = new OperationRunner();
    let release!: () => void;
    const first = runner.run('ws1', 'stop', () => new Promise<void>((r) => (release = r)));
    // A refusal before the start names the running operation, and is no operation of its own (no opId).
    await expect(runner.run('ws1', 'clean', async () => 1)).rejects.toSatisfy(
      (e) => isAppError(e, 'busy') && e.fields.details?.opId === undefined && typeof e.fields.details?.runningOpId === 'string',
    );
    await expect(runner.run('ws2', 'clean', async () => 2)).resolves.toMatchObject({ value: 2 });
    release();
    await first;
    await expect(runner.run('ws1', 'clean', async () => 3)).resolves.toMatchObject({ value: 3 });
  });

  it('cancels through the signal and reports cancelled', async () => {
    const runner = new OperationRunner();
    const rec = recorder(runner);
    const p = runner.run('ws1', 'start', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    const op = runner.current('ws1');
    expect(op).not.toBeNull();
    expect(runner.cancel(op!.opId)).toBe(true);
    await expect(p).rejects.toSatisfy((e) => isAppError(e, 'cancelled') && e.fields.details?.opId === op!.opId);
    expect(rec.finished[0]).toMatchObject({ ok: false, error: { code: 'cancelled' }, outcomes: [] });
    expect(runner.cancel('nope')).toBe(false);
  });

  it('keeps typed errors from the operation', async () => {
    const runner = new OperationRunner();
    await expect(
      runner.run('ws1', 'stop', async () => {
        throw new AppError('ssh-unreachable', 'down', { host: '127.0.0.9' });
      }),
    ).rejects.toSatisfy((e) => isAppError(e, 'ssh-unreachable') && e.host === '127.0.0.9');
  });
});
