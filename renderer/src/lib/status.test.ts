import { describe, expect, it } from 'vitest';
import type { WorkspaceSnapshot } from '../../../preload/contract';
import { badgeFor, displayStatus, STATUS_DEFINITIONS, statusVariant, vmStateVariant } from './status';

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
  it('is unreadable when the state could not be read, even if a status lingers', () => {
    expect(displayStatus({ ...base, status: null, error: { code: 'state-corrupt', message: 'x' } })).toBe('unreadable');
    expect(displayStatus({ ...base, error: { code: 'state-foreign', message: 'x' } })).toBe('unreadable');
  });
  it('keeps a recorded error status apart from an unreadable file', () => {
    expect(displayStatus({ ...base, status: 'error' })).toBe('error');
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
    ['unreadable', 'danger'],
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

describe('status words', () => {
  it('every status has a definition', () => {
    for (const s of ['none', 'running', 'stopped', 'partial', 'error', 'clean', 'dirty', 'unreadable', 'loading'] as const) {
      expect(STATUS_DEFINITIONS[s].length).toBeGreaterThan(10);
    }
  });
  it('a normal start reads as starting, not partial; the recorded word returns when it ends', () => {
    expect(badgeFor('partial', 'cluster:start')).toMatchObject({ word: 'starting', variant: 'neutral' });
    expect(badgeFor('partial', null)).toMatchObject({ word: 'partial', variant: 'warn' });
    expect(badgeFor('partial', null).definition).toMatch(/Only some VMs run/);
    expect(badgeFor('running', 'cluster:refresh')).toMatchObject({ word: 'running' });
    expect(badgeFor('dirty', 'federation:clean')).toMatchObject({ word: 'cleaning' });
    expect(badgeFor('unreadable', 'state:restore')).toMatchObject({ word: 'unreadable' });
  });
});
