import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cliContext, progressLine, progressMode } from './progress';

describe('CLI progress', () => {
  it('formats plain lines', () => {
    expect(progressLine({ target: 'site1', step: 'upload', value: 0.5, message: '150 of 300 files' })).toBe('[site1] upload: 150 of 300 files (50%)');
    expect(progressLine({ target: '', step: 'lock', message: 'waiting', level: 'warn' })).toBe('lock: warn: waiting');
  });

  it('chooses bars only on a terminal, JSON for --json', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    const pipe = new PassThrough() as unknown as NodeJS.WriteStream;
    expect(progressMode(false, tty)).toBe('bars');
    expect(progressMode(false, pipe)).toBe('lines');
    expect(progressMode(true, tty)).toBe('json');
  });

  it('writes lines or JSON lines to its stream', () => {
    for (const mode of ['lines', 'json'] as const) {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const ctx = cliContext(mode, out as unknown as NodeJS.WriteStream);
      ctx.progress({ target: 'vm1', step: 'define', value: 1, message: 'defined' });
      ctx.done();
      out.end();
      expect(text).toBe(
        mode === 'lines'
          ? '[vm1] define: defined (100%)\n'
          : `${JSON.stringify({ progress: { target: 'vm1', step: 'define', value: 1, message: 'defined' } })}\n`,
      );
    }
  });
});
