/** Pure logic: state mapping, allowed actions, cluster status, bounded fan-out. */
import { describe, expect, it } from 'vitest';
import { DOMAIN_STATES } from './libvirt/types';
import { allowedActions, checkAction, deriveStatus, vmStateOf } from './vm-state';

describe('vmStateOf', () => {
  it('maps every libvirt state as docs/architecture.md (Clusters and libvirt) says', () => {
    expect(DOMAIN_STATES.map((s) => [s, vmStateOf(s)])).toEqual([
      ['NOSTATE', 'UNDEFINED'],
      ['RUNNING', 'RUNNING'],
      ['BLOCKED', 'RUNNING'],
      ['PAUSED', 'PAUSED'],
      ['SHUTDOWN', 'DYING'],
      ['SHUTOFF', 'SHUTOFF'],
      ['CRASHED', 'CRASHED'],
      ['PMSUSPENDED', 'PMSUSPENDED'],
    ]);
  });
});

describe('allowedActions', () => {
  it('follows libvirt preconditions', () => {
    expect(allowedActions('RUNNING')).toEqual(['shutdown', 'force-off', 'pause', 'reboot']);
    expect(allowedActions('PAUSED')).toEqual(['resume', 'force-off']);
    expect(allowedActions('SHUTOFF')).toEqual(['start']);
    expect(allowedActions('SHUTDOWN')).toEqual(['force-off']);
    expect(allowedActions('NOSTATE')).toEqual([]);
    expect(() => checkAction('vm', 'pause', 'SHUTOFF')).toThrow(/Cannot pause vm: it is SHUTOFF, and pause needs RUNNING/);
    expect(() => checkAction('vm', 'start', 'SHUTOFF')).not.toThrow();
  });
});

describe('deriveStatus', () => {
  const vms = (...states: string[]) => states.map((state) => ({ state }) as { state: 'RUNNING' });
  it('running only when every expected VM runs; stopped when all that exist are off', () => {
    expect(deriveStatus(vms('RUNNING', 'RUNNING'))).toBe('running');
    expect(deriveStatus(vms('RUNNING', 'RUNNING'), 3)).toBe('partial');
    expect(deriveStatus(vms('SHUTOFF', 'SHUTOFF'))).toBe('stopped');
    expect(deriveStatus(vms('SHUTOFF', 'UNDEFINED'))).toBe('stopped');
    expect(deriveStatus(vms('RUNNING', 'PAUSED'))).toBe('partial');
    expect(deriveStatus(vms('RUNNING', 'CRASHED'))).toBe('error');
    expect(deriveStatus([], 2)).toBe('partial');
  });
});
