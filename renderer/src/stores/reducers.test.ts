import { describe, expect, it } from 'vitest';
import type { ProgressEvent, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import {
  EMPTY_OPS,
  LOG_LIMIT,
  addedIds,
  applyFinished,
  applyProgress,
  beginInvoke,
  clearLast,
  endInvoke,
  isBusy,
  progressRows,
  pruneSnapshots,
  pushBanner,
  reconcileSelection,
  upsertSnapshot,
  type Banner,
} from './reducers';

const entry = (id: string): WorkspaceEntry => ({ id, kind: 'cluster', name: id, path: `/${id}`, statePath: `/${id}/s`, addedAt: '' });
const snap = (id: string, serial = 1): WorkspaceSnapshot => ({
  id,
  kind: 'cluster',
  name: id,
  path: '',
  statePath: '',
  status: 'running',
  serial,
  lineage: null,
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
});
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

describe('workspace reducers', () => {
  it('keeps a valid selection, else selects the first, else none', () => {
    expect(reconcileSelection([entry('a'), entry('b')], 'b')).toBe('b');
    expect(reconcileSelection([entry('a'), entry('b')], 'gone')).toBe('a');
    expect(reconcileSelection([entry('a')], null)).toBe('a');
    expect(reconcileSelection([], 'a')).toBeNull();
  });
  it('reports newly added ids only', () => {
    expect(addedIds([entry('a')], [entry('a'), entry('c')])).toEqual(['c']);
    expect(addedIds([entry('a')], [])).toEqual([]);
  });
});

describe('snapshot reducers', () => {
  it('upserts and prunes', () => {
    let m = upsertSnapshot({}, snap('a'));
    m = upsertSnapshot(m, snap('b'));
    m = upsertSnapshot(m, snap('a', 2));
    expect(m['a']?.serial).toBe(2);
    expect(Object.keys(pruneSnapshots(m, ['b']))).toEqual(['b']);
  });
});

describe('operation reducers', () => {
  it('our own invoke marks busy until it ends; the outcome comes from the finished event, in either order', () => {
    const fin = { opId: 'op1', workspaceId: 'w', operation: 'cluster:start', ok: true, outcomes: [{ target: 'vm1', result: 'started' }] };
    let m = beginInvoke({}, 'w', 'cluster:start');
    expect(isBusy(m['w'], undefined)).toBe(true);
    m = applyFinished(m, fin);
    m = endInvoke(m, 'w', null);
    expect(isBusy(m['w'], undefined)).toBe(false);
    expect(m['w']?.last?.outcomes).toEqual(fin.outcomes);

    let late = beginInvoke({}, 'w', 'cluster:start');
    late = applyFinished(endInvoke(late, 'w', null), fin);
    expect(late['w']?.last).toEqual(m['w']?.last);
  });

  it('records a refusal before any operation began (no finished event comes)', () => {
    let m = beginInvoke({}, 'w', 'cluster:stop');
    m = endInvoke(m, 'w', { operation: 'cluster:stop', ok: false, error: { code: 'busy', message: 'b' }, outcomes: [] });
    expect(m['w']).toMatchObject({ pending: null, last: { ok: false, error: { code: 'busy' } } });
  });

  it('is busy while main reports an operation, even without events', () => {
    expect(isBusy(undefined, { ...snap('w'), operation: { opId: 'x', name: 'n', since: '' } })).toBe(true);
    expect(isBusy(EMPTY_OPS, snap('w'))).toBe(false);
  });

  it('progress keeps the latest event per target and a log; a new opId starts afresh', () => {
    let m = applyProgress({}, ev({ target: 'vm1', value: 0.2, message: 'a' }));
    m = applyProgress(m, ev({ target: 'vm2', value: 0.1, message: 'b' }));
    m = applyProgress(m, ev({ target: 'vm1', value: 0.9, message: 'c' }));
    m = applyProgress(m, ev({ target: '', value: null, message: 'overall' }));
    const ops = m['w']!;
    expect(ops.opId).toBe('op1');
    expect(ops.targets['vm1']?.value).toBe(0.9);
    expect(ops.log.map((e) => e.message)).toEqual(['a', 'b', 'c', 'overall']);
    expect(progressRows(ops).map((r) => r.target)).toEqual(['', 'vm1', 'vm2']);
    expect(isBusy(ops, undefined)).toBe(true);

    m = applyProgress(m, ev({ opId: 'op2', target: 'vm9', message: 'z' }));
    expect(Object.keys(m['w']!.targets)).toEqual(['vm9']);
    expect(m['w']!.log).toHaveLength(1);
  });

  it('bounds the progress log', () => {
    let m = {};
    for (let i = 0; i < LOG_LIMIT + 25; i++) m = applyProgress(m, ev({ message: String(i) }));
    const log = (m as Record<string, typeof EMPTY_OPS>)['w']!.log;
    expect(log).toHaveLength(LOG_LIMIT);
    expect(log.at(-1)?.message).toBe(String(LOG_LIMIT + 24));
    expect(log[0]?.message).toBe('25');
  });

  it('finished clears busy and records the outcome of an operation started elsewhere', () => {
    let m = applyProgress({}, ev({}));
    m = applyFinished(m, {
      opId: 'op1',
      workspaceId: 'w',
      operation: 'federation:stop',
      ok: false,
      error: { code: 'ssh-timeout', message: 't' },
      outcomes: [{ target: 'site-1', result: 'unreachable' }],
    });
    expect(isBusy(m['w'], undefined)).toBe(false);
    expect(m['w']?.last).toMatchObject({ operation: 'federation:stop', ok: false, error: { code: 'ssh-timeout' }, outcomes: [{ target: 'site-1' }] });
  });

  it('ignores a finished event for an older operation while a newer one runs', () => {
    const m = applyProgress({}, ev({ opId: 'new' }));
    expect(applyFinished(m, { opId: 'old', workspaceId: 'w', operation: 'x', ok: true, outcomes: [] })).toBe(m);
  });

  it('beginning a new invoke clears the previous outcome; clearLast hides it', () => {
    let m = endInvoke({}, 'w', { operation: 'a', ok: true, outcomes: [] });
    expect(clearLast(m, 'w')['w']?.last).toBeNull();
    m = beginInvoke(m, 'w', 'b');
    expect(m['w']?.last).toBeNull();
  });
});

describe('pushBanner', () => {
  const b = (id: number, message = 'm', workspaceId: string | null = null): Banner => ({ id, title: 't', error: { code: 'internal', message }, workspaceId });
  it('adds distinct banners and drops exact repeats', () => {
    let list = pushBanner([], b(1));
    list = pushBanner(list, b(2));
    expect(list).toHaveLength(1);
    list = pushBanner(list, b(3, 'other'));
    list = pushBanner(list, b(4, 'm', 'w'));
    expect(list.map((x) => x.id)).toEqual([1, 3, 4]);
  });
});

describe('outcomesOfError', () => {
  it('keeps well-formed per-target results from a failed operation', async () => {
    const { outcomesOfError } = await import('./actions');
    const outcomes = [{ target: 'hpc-compute-02', result: 'failed', message: 'name taken' }, { target: 'x' }, 'junk'];
    expect(outcomesOfError({ code: 'libvirt-conflict', message: 'm', details: { outcomes } })).toEqual([outcomes[0]]);
    expect(outcomesOfError({ code: 'internal', message: 'm' })).toEqual([]);
  });
});
