import { describe, expect, it } from 'vitest';
import type { WorkspaceSnapshot } from '../../../preload/contract';
import { displayStatus, statusVariant, vmStateVariant } from './status';
import { clusterActionsFor, federationActionsFor } from './workspace-actions';

const base: WorkspaceSnapshot = {
  id: 'w',
  kind: 'cluster',
  name: 'n',
  path: '/p',
  statePath: '/p/s.json',
  status: 'running',
  serial: 1,
  lineage: 'l',
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
};

describe('displayStatus', () => {
  it('is loading before the first snapshot', () => {
    expect(displayStatus(undefined)).toBe('loading');
  });
  it('is the recorded status when the state is readable', () => {
    expect(displayStatus(base)).toBe('running');
    expect(displayStatus({ ...base, status: 'none' })).toBe('none');
  });
  it('is error when the state could not be read, even if a status lingers', () => {
    expect(displayStatus({ ...base, status: null, error: { code: 'state-corrupt', message: 'x' } })).toBe('error');
    expect(displayStatus({ ...base, error: { code: 'state-foreign', message: 'x' } })).toBe('error');
  });
});

describe('statusVariant', () => {
  it.each([
    ['running', 'ok'],
    ['clean', 'neutral'],
    ['stopped', 'neutral'],
    ['dirty', 'warn'],
    ['partial', 'warn'],
    ['error', 'danger'],
    ['none', 'muted'],
    ['loading', 'muted'],
  ] as const)('%s → %s', (status, variant) => {
    expect(statusVariant(status)).toBe(variant);
  });
});

describe('vmStateVariant', () => {
  it('colours libvirt states and mutes unknown ones', () => {
    expect(vmStateVariant('RUNNING')).toBe('ok');
    expect(vmStateVariant('CRASHED')).toBe('danger');
    expect(vmStateVariant('PAUSED')).toBe('warn');
    expect(vmStateVariant('SHUTOFF')).toBe('neutral');
    expect(vmStateVariant('UNDEFINED')).toBe('muted');
    expect(vmStateVariant('weird')).toBe('muted');
  });
});

describe('clusterActionsFor', () => {
  it('running: stop/destroy/refresh, not start', () => {
    expect(clusterActionsFor('running', false)).toEqual({ start: false, stop: true, destroy: true, refresh: true, validate: true });
  });
  it('none: only start, refresh and validate', () => {
    expect(clusterActionsFor('none', false)).toEqual({ start: true, stop: false, destroy: false, refresh: true, validate: true });
  });
  it('partial can be started again, stopped and destroyed', () => {
    const a = clusterActionsFor('partial', false);
    expect([a.start, a.stop, a.destroy]).toEqual([true, true, true]);
  });
  it('busy or unreadable disables every mutation; validate survives an unreadable state', () => {
    expect(clusterActionsFor('stopped', true)).toEqual({ start: false, stop: false, destroy: false, refresh: false, validate: false });
    expect(clusterActionsFor('error', false)).toEqual({ start: false, stop: false, destroy: false, refresh: false, validate: true });
  });
});

describe('federationActionsFor', () => {
  it('follows clean → running → dirty → clean', () => {
    expect(federationActionsFor('clean', false)).toMatchObject({ start: true, stop: false, probe: false, clean: true, cleanNeedsForce: false });
    expect(federationActionsFor('running', false)).toMatchObject({ start: false, stop: true, probe: true, clean: true, cleanNeedsForce: true });
    expect(federationActionsFor('dirty', false)).toMatchObject({ start: false, stop: false, probe: true, clean: true, cleanNeedsForce: false });
  });
  it('busy disables everything', () => {
    expect(federationActionsFor('running', true)).toMatchObject({ start: false, stop: false, probe: false, clean: false });
  });
});
