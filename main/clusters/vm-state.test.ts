/** Pure logic: state mapping, allowed actions, cluster status, bounded fan-out. */
import { describe, expect, it } from 'vitest';
import { DOMAIN_STATES } from './libvirt/types';
import { mapBounded } from './parallel';
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

describe('mapBounded', () => {
  it('never exceeds the limit, settles every item, and skips unstarted items once aborted', async () => {
    let active = 0;
    let peak = 0;
    const ac = new AbortController();
    const out = await mapBounded([1, 2, 3, 4, 5, 6, 7, 8], 3, ac.signal, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      active--;
      if (n === 2) throw new Error('two');
      if (n === 4) ac.abort();
      return n * 10;
    });
    expect(peak).toBe(3);
    expect(out.map((r) => r.status)).toEqual(['done', 'failed', 'done', 'done', 'done', 'done', 'skipped', 'skipped']);
    expect(out[0]).toEqual({ status: 'done', value: 10 });
  });
});
