import { describe, expect, it } from 'vitest';
import type { OperationFinished, TrayMenuItem, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { actionsFor } from '../../preload/workspace-actions';
import { applyDeskEvent, EMPTY_DESK, trayTemplate, type DeskState } from './tray-menu';
import { nativeMenu } from './tray-menu';

/** A `workspace:changed` as main's listeners receive it: the held snapshot rides along. */
const changed = (snapshot: WorkspaceSnapshot) => ({ id: snapshot.id, seq: 0, snapshot });

function entry(id: string, kind: WorkspaceEntry['kind'] = 'federation'): WorkspaceEntry {
  return { id, kind, name: `${kind}-${id}`, path: `/p/${id}`, statePath: `/p/${id}/state.json`, addedAt: '' };
}

function snap(over: Partial<WorkspaceSnapshot> & { id: string }): WorkspaceSnapshot {
  return {
    kind: 'federation',
    name: `federation-${over.id}`,
    path: '/p',
    statePath: '/p/.refedez/state.json',
    status: 'clean',
    serial: null,
    lineage: null,
    lastModified: null,
    lock: null,
    error: null,
    operation: null,
    ...over,
  };
}

function desk(entries: WorkspaceEntry[], snaps: WorkspaceSnapshot[]): DeskState {
  let s = applyDeskEvent(EMPTY_DESK, 'workspaces:changed', entries);
  for (const x of snaps) s = applyDeskEvent(s, 'workspace:changed', { id: x.id, seq: 0, snapshot: x });
  return s;
}

const submenu = (s: DeskState, id: string): readonly TrayMenuItem[] => trayTemplate(s).items.find((i) => i.id === `ws:${id}`)?.submenu ?? [];
const enabledActions = (items: readonly TrayMenuItem[]) => items.filter((i) => i.action && i.enabled).map((i) => i.label);

describe('trayTemplate', () => {
  it('is idle with no workspaces and offers Open, Refresh all (disabled, saying why) and Quit', () => {
    const t = trayTemplate(EMPTY_DESK);
    expect(t.icon).toBe('idle');
    expect(t.items.filter((i) => !i.separator).map((i) => [i.label, i.enabled])).toEqual([
      ['Open Clusterdesk', true],
      ['No workspaces yet', false],
      ['Refresh all', false],
      ['Quit', true],
    ]);
    expect(t.items.find((i) => i.id === 'refresh-all')?.reason).toMatch(/No workspace/);
    expect(t.tooltip).toContain('0 workspaces');
  });

  it('enables exactly what the window rule allows, with its reason on disabled items', () => {
    const statuses: [WorkspaceEntry['kind'], WorkspaceSnapshot['status']][] = [
      ['federation', 'clean'],
      ['federation', 'running'],
      ['federation', 'dirty'],
      ['cluster', 'none'],
      ['cluster', 'running'],
      ['cluster', 'stopped'],
      ['cluster', 'error'],
      ['cluster', 'partial'],
    ];
    for (const [kind, status] of statuses) {
      const s = snap({ id: 'w', kind, status });
      const items = submenu(desk([entry('w', kind)], [s]), 'w');
      const can = actionsFor(s, false);
      const expected =
        kind === 'cluster'
          ? (['Start', 'Stop', 'Refresh'] as const).filter((l) => can.cluster[l.toLowerCase() as 'start' | 'stop' | 'refresh'].allowed)
          : (['Start', 'Probe', 'Stop', 'Clean'] as const).filter((l) => can.federation[l.toLowerCase() as 'start' | 'probe' | 'stop' | 'clean'].allowed);
      expect(enabledActions(items), `${kind} ${status}`).toEqual(expected);
      for (const i of items.filter((x) => x.action && !x.enabled)) expect(i.reason, `${kind} ${status} ${i.label}`).toBeTruthy();
    }
  });

  it('is busy from the first progress event to the finished one, and every action is off meanwhile', () => {
    let s = desk([entry('w', 'cluster')], [snap({ id: 'w', kind: 'cluster', status: 'stopped' })]);
    s = applyDeskEvent(s, 'operation:progress', {
      opId: 'op1',
      workspaceId: 'w',
      operation: 'cluster:start',
      target: '',
      step: 'begin',
      value: null,
      message: 'm',
      level: 'info',
    });
    expect(trayTemplate(s).icon).toBe('busy');
    expect(trayTemplate(s).items.find((i) => i.id === 'ws:w')?.label).toBe('cluster-w — Start cluster…');
    expect(enabledActions(submenu(s, 'w'))).toEqual([]);
    expect(trayTemplate(s).items.find((i) => i.id === 'refresh-all')?.enabled).toBe(false);
    s = applyDeskEvent(s, 'workspace:changed', changed(snap({ id: 'w', kind: 'cluster', status: 'running' })));
    s = applyDeskEvent(s, 'operation:finished', {
      opId: 'op1',
      workspaceId: 'w',
      operation: 'cluster:start',
      ok: true,
      outcomes: [1, 2, 3].map((n) => ({ target: `vm${n}`, result: 'started' })),
    });
    const t = trayTemplate(s);
    expect(t.icon).toBe('idle');
    expect(enabledActions(submenu(s, 'w'))).toEqual(['Stop', 'Refresh']);
    expect(submenu(s, 'w').find((i) => i.id === 'ws:w:last')?.label).toBe('Last: Start cluster — 3 started');
  });

  it('shows drift found by a probe until another operation, and error after a failure', () => {
    let s = desk([entry('f')], [snap({ id: 'f', status: 'running' })]);
    const probe: OperationFinished = {
      opId: 'p',
      workspaceId: 'f',
      operation: 'federation:probe',
      ok: true,
      outcomes: [
        { target: 'site-1', result: 'alive' },
        { target: 'site-2', result: 'exited' },
      ],
    };
    s = applyDeskEvent(s, 'operation:finished', probe);
    expect(trayTemplate(s).icon).toBe('drift');
    expect(submenu(s, 'f').find((i) => i.id === 'ws:f:drift')?.label).toContain('site-2');
    s = applyDeskEvent(s, 'operation:finished', {
      opId: 'q',
      workspaceId: 'f',
      operation: 'federation:stop',
      ok: false,
      error: { code: 'ssh-timeout', message: 't' },
      outcomes: [],
    });
    expect(trayTemplate(s).icon).toBe('error');
    expect(s.drift['f']).toBeUndefined();
  });

  it('an unreadable state disables every action and names the error', () => {
    const s = desk([entry('b')], [snap({ id: 'b', status: null, error: { code: 'state-corrupt', message: 'bad JSON' } })]);
    expect(trayTemplate(s).icon).toBe('error');
    expect(enabledActions(submenu(s, 'b'))).toEqual([]);
    expect(submenu(s, 'b').find((i) => i.id === 'ws:b:error')?.label).toBe('state-corrupt: bad JSON');
  });

  it('forgets removed workspaces', () => {
    let s = desk([entry('a'), entry('b')], [snap({ id: 'a' }), snap({ id: 'b' })]);
    s = applyDeskEvent(s, 'workspaces:changed', [entry('b')]);
    expect(Object.keys(s.snapshots)).toEqual(['b']);
    expect(
      trayTemplate(s)
        .items.filter((i) => i.id.startsWith('ws:'))
        .map((i) => i.id),
    ).toEqual(['ws:b']);
  });
});

describe('nativeMenu', () => {
  it('maps items, separators, submenus and clicks by id', () => {
    const clicked: string[] = [];
    const s = desk([entry('w', 'cluster')], [snap({ id: 'w', kind: 'cluster', status: 'stopped' })]);
    const menu = nativeMenu(trayTemplate(s).items, (id) => clicked.push(id));
    expect(menu[1]).toEqual({ type: 'separator' });
    const ws = menu.find((m) => m.id === 'ws:w');
    const start = (ws?.submenu as { id?: string; click?: () => void; enabled?: boolean }[]).find((m) => m.id === 'ws:w:cluster:start');
    expect(start?.enabled).toBe(true);
    start?.click?.();
    expect(clicked).toEqual(['ws:w:cluster:start']);
  });
});
