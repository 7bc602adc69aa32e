import { describe, expect, it } from 'vitest';
import type { WorkspaceSnapshot } from '../../preload/contract';
import { notificationFor } from './notifications';
import { trayModel, type TrayItem } from './tray-menu';

function snap(over: Partial<WorkspaceSnapshot>): WorkspaceSnapshot {
  return {
    id: 'w1',
    kind: 'federation',
    name: 'fed',
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

const enabled = (items: readonly TrayItem[] | undefined) => (items ?? []).filter((i) => i.enabled).map((i) => i.label);

describe('trayModel', () => {
  it('is idle with no workspaces and offers show and quit', () => {
    const m = trayModel([]);
    expect(m.icon).toBe('idle');
    expect(enabled(m.items)).toEqual(['Show Clusterdesk', 'Quit']);
    expect(m.tooltip).toContain('0 workspaces');
  });

  it('enables federation actions by recorded status', () => {
    expect(enabled(trayModel([snap({ status: 'clean' })]).items[2]?.submenu)).toEqual(['Start']);
    expect(enabled(trayModel([snap({ status: 'running' })]).items[2]?.submenu)).toEqual(['Probe', 'Stop']);
    expect(enabled(trayModel([snap({ status: 'dirty' })]).items[2]?.submenu)).toEqual(['Probe', 'Clean']);
  });

  it('enables cluster actions by recorded status', () => {
    expect(enabled(trayModel([snap({ kind: 'cluster', status: 'none' })]).items[2]?.submenu)).toEqual(['Start']);
    expect(enabled(trayModel([snap({ kind: 'cluster', status: 'running' })]).items[2]?.submenu)).toEqual(['Stop', 'Refresh']);
    expect(enabled(trayModel([snap({ kind: 'cluster', status: 'stopped' })]).items[2]?.submenu)).toEqual(['Start', 'Refresh']);
    // A recorded error is readable: the same actions as the window (preload/workspace-actions.ts).
    expect(enabled(trayModel([snap({ kind: 'cluster', status: 'error' })]).items[2]?.submenu)).toEqual(['Start', 'Stop', 'Refresh']);
  });

  it('shows busy over error over idle, and disables actions while busy or broken', () => {
    const busy = snap({ status: 'running', operation: { opId: 'o', name: 'stop', since: '' } });
    const broken = snap({ id: 'w2', status: null, error: { code: 'state-corrupt', message: 'x' } });
    expect(trayModel([busy, broken]).icon).toBe('busy');
    expect(trayModel([broken]).icon).toBe('error');
    expect(enabled(trayModel([busy]).items[2]?.submenu)).toEqual([]);
    expect(enabled(trayModel([broken]).items[2]?.submenu)).toEqual([]);
    expect(trayModel([broken]).items[2]?.label).toBe('fed — state-corrupt');
  });

  it('shows drift when a VM drifted', () => {
    const drift = snap({
      kind: 'cluster',
      status: 'running',
      cluster: {
        clusterName: 'c',
        networks: [],
        pools: [],
        volumes: [],
        vms: [
          {
            name: 'c-controller',
            role: 'controller',
            state: 'RUNNING',
            ipAddress: null,
            ipVerified: true,
            cpuCores: 1,
            memoryGb: 1,
            gpuCount: 0,
            lastSeen: null,
            drift: 'missing',
          },
        ],
      },
    });
    expect(trayModel([drift]).icon).toBe('drift');
  });
});

describe('notificationFor', () => {
  const fin = { opId: 'o', workspaceId: 'w', operation: 'federation:start', outcomes: [] };
  it('always reports failures except cancellation', () => {
    expect(notificationFor({ ...fin, ok: false, error: { code: 'ssh-auth', message: 'denied' } }, 'fed', true)).toEqual({
      title: 'fed: Start federation failed',
      body: 'denied',
    });
    expect(notificationFor({ ...fin, ok: false, error: { code: 'cancelled', message: 'c' } }, 'fed', false)).toBeNull();
  });
  it('reports long successes only when the window is not focused', () => {
    expect(notificationFor({ ...fin, ok: true }, 'fed', true)).toBeNull();
    expect(notificationFor({ ...fin, ok: true }, 'fed', false)?.title).toBe('fed: Start federation finished');
    expect(notificationFor({ ...fin, operation: 'cluster:refresh', ok: true }, 'fed', false)).toBeNull();
  });
});
