import { describe, expect, it } from 'vitest';
import { VM_ACTIONS, vmActionsFor } from './vm-actions';

describe('vmActionsFor', () => {
  it.each([
    ['SHUTOFF', ['start']],
    ['CRASHED', ['start']],
    ['RUNNING', ['shutdown', 'force-off', 'pause', 'reboot']],
    ['PAUSED', ['resume', 'force-off']],
    ['PMSUSPENDED', ['force-off']],
    ['DYING', ['force-off']],
    ['UNDEFINED', []],
  ])('%s allows %j', (state, expected) => {
    expect([...vmActionsFor(state)].sort()).toEqual([...expected].sort());
  });

  it('offers nothing for states it does not know', () => {
    expect(vmActionsFor('running')).toEqual([]);
    expect(vmActionsFor('')).toEqual([]);
  });

  it('never offers start to an active domain nor resume to a running one', () => {
    for (const state of ['RUNNING', 'PAUSED', 'PMSUSPENDED', 'DYING']) expect(vmActionsFor(state)).not.toContain('start');
    expect(vmActionsFor('RUNNING')).not.toContain('resume');
  });

  it('every allowed action has a menu entry', () => {
    const inMenu = new Set(VM_ACTIONS.map((a) => a.action));
    for (const s of ['SHUTOFF', 'CRASHED', 'RUNNING', 'PAUSED', 'PMSUSPENDED', 'DYING']) {
      for (const a of vmActionsFor(s)) expect(inMenu.has(a)).toBe(true);
    }
  });
});
