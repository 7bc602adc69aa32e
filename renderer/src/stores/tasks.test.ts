import { describe, expect, it } from 'vitest';
import type { OperationFinished, ProgressEvent } from '../../../preload/contract';
import { elapsedText, historyAfter, TASK_LIMIT, taskFinished, taskProgress, taskRows, taskState } from './tasks';

const ev = (over: Partial<ProgressEvent>): ProgressEvent => ({
  opId: 'op1',
  workspaceId: 'w',
  operation: 'cluster:start',
  target: '',
  step: 's',
  value: null,
  message: 'm',
  level: 'info',
  ...over,
});
const fin = (over: Partial<OperationFinished>): OperationFinished => ({
  opId: 'op1',
  workspaceId: 'w',
  operation: 'cluster:start',
  ok: true,
  outcomes: [],
  ...over,
});

describe('tasks', () => {
  it('keeps the latest progress per target and the outcome after the end, newest task first', () => {
    let list = taskProgress([], ev({ target: '', message: 'begin' }), 1000);
    list = taskProgress(list, ev({ target: 'vm1', value: 0.5 }), 2000);
    list = taskProgress(list, ev({ target: 'vm1', value: 1 }), 3000);
    list = taskProgress(list, ev({ opId: 'op2', operation: 'cluster:stop' }), 3500);
    expect(list.map((t) => t.opId)).toEqual(['op2', 'op1']);
    expect(taskRows(list[1]!).map((r) => [r.target, r.value])).toEqual([
      ['', null],
      ['vm1', 1],
    ]);
    list = taskFinished(list, fin({ outcomes: [{ target: 'vm1', result: 'started' }] }), 4000);
    const t = list[1]!;
    expect(taskState(t)).toBe('finished');
    expect(t.endedAt! - t.startedAt).toBe(3000);
    // A late progress event after the end changes nothing.
    expect(taskProgress(list, ev({ target: 'vm2' }), 5000)).toBe(list);
  });

  it('records an operation heard of only by its end, and tells failures from cancellations', () => {
    const list = taskFinished([], fin({ opId: 'x', ok: false, error: { code: 'cancelled', message: 'c' } }), 10);
    expect(taskState(list[0]!)).toBe('cancelled');
    expect(taskState(taskFinished([], fin({ ok: false, error: { code: 'ssh-auth', message: 'a' } }), 10)[0]!)).toBe('failed');
  });

  it('drops the oldest ended tasks beyond the limit, never a running one', () => {
    let list = taskProgress([], ev({ opId: 'running' }), 0);
    for (let i = 0; i < TASK_LIMIT + 5; i++) list = taskFinished(list, fin({ opId: `done${i}` }), i);
    expect(list).toHaveLength(TASK_LIMIT);
    expect(list.some((t) => t.opId === 'running')).toBe(true);
    expect(list[0]!.opId).toBe(`done${TASK_LIMIT + 4}`);
  });

  it('formats elapsed time', () => {
    expect(elapsedText(4200)).toBe('4 s');
    expect(elapsedText(125_000)).toBe('2 min 05 s');
    expect(elapsedText(3_720_000)).toBe('1 h 02 min');
  });

  it('history keeps the last outcome and the drift of the last refresh until another operation', () => {
    let h = historyAfter(undefined, fin({ operation: 'cluster:refresh', outcomes: [{ target: 'vm', result: 'drift', message: 'gone' }] }), 'running');
    expect(h.drift?.count).toBe(1);
    h = historyAfter(h, fin({ operation: 'cluster:stop' }), 'stopped');
    expect(h).toMatchObject({ last: { operation: 'cluster:stop' }, drift: null });
  });
});
