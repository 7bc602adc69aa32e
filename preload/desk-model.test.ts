import { describe, expect, it } from 'vitest';
import type { OperationFinished } from './contract';
import { desktopShows, driftAfter, driftFromFinished, notificationFor, outcomeSummary } from './desk-model';

const fin = (over: Partial<OperationFinished>): OperationFinished => ({
  opId: 'o',
  workspaceId: 'w',
  operation: 'cluster:stop',
  ok: true,
  outcomes: [],
  ...over,
});

describe('outcomeSummary', () => {
  it('counts results in first-seen order', () => {
    const outcomes = [...Array(6).fill('stopped'), 'forced', 'forced'].map((result, i) => ({ target: `vm${i}`, result }));
    expect(outcomeSummary(fin({ outcomes }))).toBe('6 stopped, 2 forced');
  });
  it('names problem targets and why', () => {
    const outcomes = [
      { target: 'site1', result: 'signalled' },
      { target: 'site2', result: 'signalled' },
      { target: 'server', result: 'signalled' },
      { target: 'site3', result: 'unreachable', error: { code: 'ssh-timeout' as const, message: 'connection timed out' } },
    ];
    expect(outcomeSummary(fin({ outcomes }))).toBe('3 signalled, 1 unreachable: site3 — connection timed out');
  });
  it('says Done or the error when there are no per-target outcomes; a whole-operation outcome is not counted', () => {
    expect(outcomeSummary(fin({}))).toBe('Done');
    expect(outcomeSummary(fin({ ok: false, error: { code: 'busy', message: 'Busy.' } }))).toBe('Busy.');
    expect(outcomeSummary(fin({ outcomes: [{ target: '', result: 'already stopped' }] }))).toBe('already stopped');
  });
  it('caps the named targets', () => {
    const outcomes = [1, 2, 3, 4, 5].map((n) => ({ target: `vm${n}`, result: 'failed', message: 'x' }));
    expect(outcomeSummary(fin({ outcomes }))).toBe('5 failed: vm1 — x; vm2 — x; vm3 — x; +2 more');
  });
});

describe('drift', () => {
  it('a refresh reports its unapplied differences; an applied one none', () => {
    const ev = fin({ operation: 'cluster:refresh', outcomes: [{ target: 'vm2', result: 'drift', message: 'vm missing' }] });
    expect(driftFromFinished(ev, 'running')).toEqual({ count: 1, summary: '1 difference from the record: vm2 — vm missing', source: 'refresh' });
    expect(driftFromFinished(fin({ operation: 'cluster:refresh', outcomes: [{ target: 'vm2', result: 'recorded' }] }), 'running')).toBeNull();
  });
  it('a probe disagrees with the recorded status', () => {
    const outcomes = [
      { target: 'a', result: 'alive' },
      { target: 'b', result: 'exited' },
    ];
    expect(driftFromFinished(fin({ operation: 'federation:probe', outcomes }), 'running')?.count).toBe(1);
    expect(driftFromFinished(fin({ operation: 'federation:probe', outcomes }), 'dirty')?.summary).toContain('a alive');
  });
  it('another operation clears the mark, a failed refresh keeps it', () => {
    const mark = { count: 1, summary: 's', source: 'refresh' as const };
    expect(driftAfter(mark, fin({ operation: 'cluster:start' }), 'running')).toBeNull();
    expect(driftAfter(mark, fin({ operation: 'cluster:refresh', ok: false }), 'running')).toBe(mark);
  });
  it('a federation restore or import ends with a probe: a restored `running` whose participants exited is drift', () => {
    const outcomes = [
      { target: 'server', result: 'alive' },
      { target: 'site-1', result: 'exited', message: 'process gone' },
    ];
    for (const operation of ['state:restore', 'state:import']) {
      expect(driftAfter(null, fin({ operation, outcomes }), 'running')).toMatchObject({
        count: 1,
        source: 'probe',
        summary: expect.stringContaining('site-1'),
      });
      // Restored `dirty`: the server still running is what differs.
      expect(driftAfter(null, fin({ operation, outcomes }), 'dirty')).toMatchObject({ count: 1, summary: expect.stringContaining('server') });
    }
    // A cluster restore reports its drift through the snapshot; an unchecked outcome is no drift.
    expect(driftAfter(null, fin({ operation: 'state:restore', outcomes: [{ target: '', result: 'unchecked' }] }), 'running')).toBeNull();
  });
});

describe('notificationFor', () => {
  it('reports failures with the hint, never a cancellation', () => {
    expect(
      notificationFor(fin({ operation: 'federation:start', ok: false, error: { code: 'ssh-auth', message: 'denied', hint: 'Check the key.' } }), 'fed', null),
    ).toMatchObject({
      kind: 'failed',
      title: 'fed: Start federation failed',
      body: 'denied Check the key.',
    });
    expect(notificationFor(fin({ ok: false, error: { code: 'cancelled', message: 'c' } }), 'fed', null)).toBeNull();
  });
  it('reports finished mutations with their summary; quiet reads only when they found drift', () => {
    const n = notificationFor(fin({ outcomes: [{ target: 'a', result: 'stopped' }] }), 'c', null);
    expect(n).toMatchObject({ kind: 'finished', title: 'c: Stop cluster finished', body: '1 stopped', key: 'o:finished' });
    expect(notificationFor(fin({ operation: 'cluster:refresh' }), 'c', null)).toBeNull();
    expect(notificationFor(fin({ operation: 'cluster:refresh' }), 'c', { count: 2, summary: '2 differences', source: 'refresh' })).toMatchObject({
      kind: 'drift',
      title: 'c: drift found',
    });
  });
  it('the desktop shows finished ones only when the window is not focused', () => {
    const n = notificationFor(fin({}), 'c', null)!;
    expect(desktopShows(n, true)).toBe(false);
    expect(desktopShows(n, false)).toBe(true);
    expect(desktopShows({ ...n, kind: 'failed' }, true)).toBe(true);
  });
});
