import { describe, expect, it } from 'vitest';
import type { WorkspaceSnapshot } from './contract';
import { actionsFor, clusterActions, federationActions, vmFoundDown, workspaceStatus, type ActionInput, type Verdict } from './workspace-actions';

const allowed = (verdicts: Readonly<Record<string, Verdict>>) =>
  Object.entries(verdicts)
    .filter(([, v]) => v.allowed)
    .map(([k]) => k);
const idle = (status: ActionInput['status'], extra: Partial<ActionInput> = {}): ActionInput => ({ status, busy: false, ...extra });

describe('workspaceStatus', () => {
  const base: WorkspaceSnapshot = {
    id: 'w',
    kind: 'cluster',
    name: 'n',
    path: '/p',
    statePath: '/p/s.json',
    status: 'error',
    serial: 1,
    lineage: 'l',
    lastModified: null,
    lock: null,
    error: null,
    operation: null,
  };
  it('tells a recorded error from a file that cannot be read', () => {
    expect(workspaceStatus(base)).toBe('error');
    expect(workspaceStatus({ ...base, status: null, error: { code: 'state-corrupt', message: 'x' } })).toBe('unreadable');
    expect(workspaceStatus(undefined)).toBe('loading');
  });
  it('counts a running operation as busy', () => {
    const a = actionsFor({ ...base, status: 'stopped', operation: { opId: 'o', name: 'cluster:start', since: '' } }, false);
    expect(allowed(a.cluster)).toEqual([]);
  });
});

describe('clusterActions', () => {
  it.each([
    ['running', ['stop', 'destroy', 'refresh', 'validate']],
    ['stopped', ['start', 'destroy', 'refresh', 'validate']],
    ['partial', ['start', 'stop', 'destroy', 'refresh', 'validate']],
    // A recorded error is a readable state: start resumes, stop and destroy clean up, refresh looks (the tray and the
    // window used to disagree here).
    ['error', ['start', 'stop', 'destroy', 'refresh', 'validate']],
    // Nothing recorded: refresh has nothing to compare (the window used to offer it, the tray not).
    ['none', ['start', 'validate']],
    ['unreadable', ['validate']],
  ] as const)('%s allows %j', (status, expected) => {
    expect(allowed(clusterActions(idle(status)))).toEqual(expected);
  });

  it('says why not, in a sentence, and marks harmless repeats as no-ops (the CLI still runs those)', () => {
    const a = clusterActions(idle('stopped'));
    expect(a.stop).toEqual({ allowed: false, reason: 'The cluster is already stopped.', noop: true });
    expect(clusterActions(idle('none')).stop).toEqual({ allowed: false, reason: expect.stringContaining('start the cluster first') });
    expect(clusterActions(idle('unreadable')).start).toMatchObject({ allowed: false, reason: expect.stringContaining('restore a backup') });
    expect(clusterActions({ status: 'running', busy: true }).stop).toMatchObject({ allowed: false, reason: expect.stringContaining('Another operation') });
  });
});

describe('federationActions', () => {
  it.each([
    // Clean on a clean federation is a no-op (the window used to offer it, the tray not).
    ['clean', {}, ['start']],
    ['running', {}, ['probe', 'stop']],
    ['running', { force: true }, ['probe', 'stop', 'clean']],
    ['dirty', {}, ['probe', 'clean']],
    ['dirty', { machines: 0 }, ['start', 'probe', 'clean']],
    ['unreadable', {}, []],
  ] as const)('%s %j allows %j', (status, extra, expected) => {
    expect(allowed(federationActions(idle(status, extra)))).toEqual(expected);
  });

  it('refuses start on a dirty federation with a reason, and calls a second stop a no-op', () => {
    expect(federationActions(idle('dirty')).start).toEqual({ allowed: false, reason: expect.stringContaining('clean first') });
    expect(federationActions(idle('dirty')).stop).toMatchObject({ allowed: false, noop: true });
    expect(federationActions(idle('running')).clean).toEqual({ allowed: false, reason: expect.stringContaining('with force') });
  });
});

describe('a cluster recorded running whose VMs were found down (restore of a running generation while VMs are off)', () => {
  it('allows Start only when the last check found a VM not running', () => {
    expect(clusterActions({ status: 'running', busy: false }).start).toMatchObject({ allowed: false, noop: true });
    expect(clusterActions({ status: 'running', busy: false, drift: true }).start).toEqual({ allowed: true });
    expect(vmFoundDown('libvirt says SHUTOFF')).toBe(true);
    expect(vmFoundDown('missing from libvirt')).toBe(true);
    expect(vmFoundDown('IP is 10.0.0.9')).toBe(false);
    expect(vmFoundDown('libvirt says RUNNING; IP is 10.0.0.9')).toBe(false);
    expect(vmFoundDown('IP is 10.0.0.9; libvirt says PAUSED')).toBe(true);
    expect(vmFoundDown(undefined)).toBe(false);
  });
});
