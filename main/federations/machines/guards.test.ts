import { describe, expect, it } from 'vitest';
import { assertRemovable, bounded } from './guards';

describe('assertRemovable', () => {
  it.each(['/', '/tmp', '/home/alice', '/Users/bob', '/usr/lib', '/etc/ssh', 'tmp/x', '/tmp/a/../b', '/tmp/a/', '/tmp//a', '/tmp/a\nb', '/var'])(
    'refuses %j',
    (p) => expect(() => assertRemovable(p, 'h', '/tmp')).toThrow(expect.objectContaining({ code: 'path-refused', host: 'h' })),
  );
  it.each(['/tmp/cd-abc', '/tmp/cd-abc/kit', '/home/alice/project/.refedez', '/data/run1'])('accepts %j', (p) =>
    expect(() => assertRemovable(p, 'h', '/tmp')).not.toThrow(),
  );
});

describe('bounded', () => {
  it('rejects with ssh-timeout and aborts the inner signal', async () => {
    let innerAborted = false;
    const p = bounded(
      'h',
      'sleep',
      { timeoutMs: 30 },
      (signal) =>
        new Promise((r) =>
          signal.addEventListener('abort', () => {
            innerAborted = true;
            r(1);
          }),
        ),
    );
    await expect(p).rejects.toMatchObject({ code: 'ssh-timeout', host: 'h' });
    expect(innerAborted).toBe(true);
  });
  it('rejects with cancelled when the caller aborts, before or during', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(bounded('h', 'x', { signal: ac.signal }, async () => 1)).rejects.toMatchObject({ code: 'cancelled' });
    const ac2 = new AbortController();
    const p = bounded('h', 'x', { signal: ac2.signal }, () => new Promise(() => undefined));
    ac2.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
  it('passes results and errors through', async () => {
    await expect(bounded('h', 'x', { timeoutMs: 1000 }, async () => 42)).resolves.toBe(42);
    await expect(
      bounded('h', 'x', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});
