import { describe, expect, it } from 'vitest';
import { AppError, isAppError, toErrorData } from './errors';

describe('AppError', () => {
  it('keeps code, hint and path when converted to data', () => {
    const err = new AppError('state-corrupt', 'bad file', { path: '/x/state.json', hint: 'restore it' });
    expect(toErrorData(err)).toEqual({ code: 'state-corrupt', message: 'bad file', path: '/x/state.json', hint: 'restore it' });
    expect(isAppError(err, 'state-corrupt')).toBe(true);
    expect(isAppError(err, 'state-stale')).toBe(false);
  });

  it('turns unknown errors into internal errors that keep the message', () => {
    expect(toErrorData(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toErrorData('text')).toMatchObject({ code: 'internal', message: 'text' });
  });
});

describe('error data is plain', () => {
  it('JSON of an AppError (alone or nested in details or outcomes) is {code, message, hint, path, host}, never {name, fields}', () => {
    const inner = new AppError('ssh-auth', 'refused', { host: 'm1', hint: 'check the key' });
    const outer = new AppError('libvirt-error', 'outer', { path: '/p', details: { cause: inner, list: [inner] } });
    const json = JSON.parse(JSON.stringify({ outcomes: [{ target: 'm1', result: 'failed', error: inner }], outer })) as Record<string, unknown>;
    expect(json).toEqual({
      outcomes: [{ target: 'm1', result: 'failed', error: { code: 'ssh-auth', message: 'refused', host: 'm1', hint: 'check the key' } }],
      outer: {
        code: 'libvirt-error',
        message: 'outer',
        path: '/p',
        details: {
          cause: { code: 'ssh-auth', message: 'refused', host: 'm1', hint: 'check the key' },
          list: [{ code: 'ssh-auth', message: 'refused', host: 'm1', hint: 'check the key' }],
        },
      },
    });
    expect(JSON.stringify(json)).not.toContain('fields');
    // Error data passed through toErrorData keeps only the documented keys.
    expect(toErrorData({ code: 'ssh-auth', message: 'x', host: 'h', fields: { y: 1 } })).toEqual({ code: 'ssh-auth', message: 'x', host: 'h' });
  });
});

describe('hints name the action in the host that shows them', () => {
  it('the CLI gets the command, the app the button', async () => {
    const { actionHint, setHintHost, hintHost } = await import('./errors');
    const forms = { cli: 'Run `clusterdesk state restore ID`.', ui: 'Click Restore.' };
    expect(hintHost()).toBe('ui');
    expect(actionHint(forms)).toBe('Click Restore.');
    setHintHost('cli');
    try {
      expect(actionHint(forms)).toBe('Run `clusterdesk state restore ID`.');
    } finally {
      setHintHost('ui');
    }
  });
});
