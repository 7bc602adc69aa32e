import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { renderError } from '../cli/format';
import { cliContext } from '../cli/progress';
import { AppError, toErrorData } from '../errors';

describe('error messages and log lines never carry a secret', () => {
  it('an AppError that echoes a line of a file: message, hint and details are redacted', () => {
    const e = new AppError('config-invalid', 'refedez.yaml:4: unexpected "  password: hunter2"', {
      path: '/p/refedez.yaml',
      hint: 'Remove the line api_token=abc123 and use a key file.',
      details: { stderr: 'Permission denied', connection: { password: 'hunter2' } },
    });
    const data = e.toData();
    expect(JSON.stringify(data)).not.toMatch(/hunter2|abc123/);
    expect(data.message).toBe('refedez.yaml:4: unexpected "  password: [redacted]"');
    expect(AppError.fromData({ code: 'internal', message: 'token=abc123' }).message).toBe('token=[redacted]');
    expect(toErrorData(new Error('connect postgres://u:hunter2@db failed')).message).not.toContain('hunter2');
    expect(renderError({ code: 'internal', message: 'x', hint: 'passphrase: hunter2' })).not.toContain('hunter2');
  });

  it('CLI progress lines are redacted', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let out = '';
    (stream as unknown as PassThrough).on('data', (c: Buffer) => (out += c.toString()));
    const ctx = cliContext('lines', stream);
    ctx.progress({ target: 'site1', step: 'unreachable', message: 'auth failed for "ssh_password": "hunter2"', level: 'warn' });
    ctx.done();
    expect(out).toContain('site1');
    expect(out).not.toContain('hunter2');
  });
});
