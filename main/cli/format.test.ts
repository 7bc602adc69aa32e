import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../preload/contract';
import { EXIT, exitCodeFor, exitCodeForOutcomes, renderError, renderTable } from './format';

describe('CLI format', () => {
  it('maps every error code to a documented exit code', () => {
    for (const code of ERROR_CODES) expect(Object.values(EXIT)).toContain(exitCodeFor(code));
    expect(exitCodeFor('state-locked')).toBe(3);
    expect(exitCodeFor('state-corrupt')).toBe(3);
    expect(exitCodeFor('ssh-unreachable')).toBe(4);
    expect(exitCodeFor('config-invalid')).toBe(1);
  });

  it('exits 4 when some targets failed', () => {
    expect(exitCodeForOutcomes([{ target: 'a', result: 'signalled' }])).toBe(0);
    expect(
      exitCodeForOutcomes([
        { target: 'a', result: 'signalled' },
        { target: 'b', result: 'unreachable' },
      ]),
    ).toBe(4);
    const err = (code: 'ssh-auth' | 'ssh-unreachable' | 'ssh-timeout') => ({ code, message: code });
    // One rule: a non-reachability failure (1) outranks an unreachable target (4), whatever the order.
    expect(
      exitCodeForOutcomes([
        { target: 'a', result: 'unreachable', error: err('ssh-timeout') },
        { target: 'b', result: 'failed', error: err('ssh-auth') },
      ]),
    ).toBe(1);
    expect(exitCodeForOutcomes([{ target: 'a', result: 'unreachable', error: err('ssh-unreachable') }])).toBe(4);
    expect(
      exitCodeForOutcomes([
        { target: 'a', result: 'already-off' },
        { target: 'b', result: 'already stopped' },
      ]),
    ).toBe(0);
  });

  it('renders errors with file, line, host and hint', () => {
    const text = renderError({ code: 'config-invalid', message: 'bad ip', path: '/c.yaml', line: 7, field: 'a.b', hint: 'fix it' });
    expect(text).toBe('error [config-invalid]: bad ip\n  file: /c.yaml:7 (a.b)\n  hint: fix it');
  });

  it('pads table columns', () => {
    expect(
      renderTable(
        ['NAME', 'STATE'],
        [
          ['controller', 'RUNNING'],
          ['c1', null],
        ],
      ),
    ).toBe('NAME        STATE\ncontroller  RUNNING\nc1          -');
  });
});
