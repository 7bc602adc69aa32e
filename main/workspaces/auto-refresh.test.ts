import { describe, expect, it } from 'vitest';
import type { WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { applyDeskEvent, EMPTY_DESK } from '../../preload/tray-template';
import { dueRefreshes, isRemoteFederation, isRemoteUri } from './auto-refresh';

/** A `workspace:changed` as main's listeners receive it: the held snapshot rides along. */
const changed = (snapshot: WorkspaceSnapshot) => ({ id: snapshot.id, seq: 0, snapshot });

const entry = (id: string, kind: WorkspaceEntry['kind']): WorkspaceEntry => ({ id, kind, name: id, path: '/p', statePath: '/p/s.json', addedAt: '' });
const snap = (id: string, kind: WorkspaceEntry['kind'], status: WorkspaceSnapshot['status'], remote = false): WorkspaceSnapshot => ({
  id,
  kind,
  name: id,
  path: '/p',
  statePath: '/p/s.json',
  status,
  serial: 1,
  lineage: 'l',
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
  ...(kind === 'federation'
    ? {
        federation: {
          deployedFilesPath: null,
          machines: [{ name: 'm', kind: remote ? 'remote' : 'local', host: 'h', port: 22, user: 'u', tmpDir: '/tmp/x', startedAt: null, pid: null }],
        },
      }
    : {}),
});

describe('periodic refresh', () => {
  it('tells remote hosts from local ones', () => {
    expect(isRemoteUri('qemu+ssh://fl@10.0.0.5/system')).toBe(true);
    expect(isRemoteUri('qemu:///system')).toBe(false);
    expect(isRemoteUri('test:///tmp/host.xml')).toBe(false);
    expect(isRemoteFederation(snap('f', 'federation', 'running', true))).toBe(true);
    expect(isRemoteFederation(snap('f', 'federation', 'running'))).toBe(false);
  });

  it('runs what the rule allows once its interval passed; remote is off by default; a busy workspace waits', () => {
    let s = applyDeskEvent(EMPTY_DESK, 'workspaces:changed', [
      entry('c', 'cluster'),
      entry('f', 'federation'),
      entry('r', 'federation'),
      entry('n', 'cluster'),
    ]);
    s = applyDeskEvent(s, 'workspace:changed', changed(snap('c', 'cluster', 'running')));
    s = applyDeskEvent(s, 'workspace:changed', changed(snap('f', 'federation', 'running')));
    s = applyDeskEvent(s, 'workspace:changed', changed(snap('r', 'federation', 'running', true)));
    s = applyDeskEvent(s, 'workspace:changed', changed(snap('n', 'cluster', 'none')));
    const last = new Map<string, number>();
    const intervals = { autoRefreshLocalMin: 10, autoRefreshRemoteMin: 0 };
    const remote = (e: WorkspaceEntry) => (e.kind === 'federation' ? isRemoteFederation(s.snapshots[e.id]) : false);
    // First sight starts the clock.
    expect(dueRefreshes(s, 0, last, intervals, remote)).toEqual([]);
    expect(dueRefreshes(s, 9 * 60_000, last, intervals, remote)).toEqual([]);
    expect(dueRefreshes(s, 10 * 60_000, last, intervals, remote)).toEqual([
      { channel: 'cluster:refresh', workspaceId: 'c' },
      { channel: 'federation:probe', workspaceId: 'f' },
    ]);
    const busy = applyDeskEvent(s, 'operation:progress', {
      opId: 'o',
      workspaceId: 'c',
      operation: 'cluster:stop',
      target: '',
      step: 'begin',
      value: null,
      message: '',
      level: 'info',
    });
    expect(dueRefreshes(busy, 10 * 60_000, last, intervals, remote).map((t) => t.workspaceId)).toEqual(['f']);
    expect(dueRefreshes(s, 10 * 60_000, new Map([['r', 0]]), { autoRefreshLocalMin: 0, autoRefreshRemoteMin: 5 }, remote)).toEqual([
      { channel: 'federation:probe', workspaceId: 'r' },
    ]);
  });
});
