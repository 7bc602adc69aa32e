import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceFile, replaceFileSync } from './atomic-write';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-replace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

describe('replaceFile (the one atomic writer)', () => {
  it('replaces a file whole with the given mode (default 0600) and leaves no temporary file', async () => {
    const file = join(dir, 'a.json');
    await writeFile(file, 'old', { mode: 0o644 });
    await replaceFile(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await modeOf(file)).toBe(0o600);
    await replaceFile(file, new TextEncoder().encode('bytes'), { mode: 0o640, durable: false });
    expect(await readFile(file, 'utf8')).toBe('bytes');
    expect(await modeOf(file)).toBe(0o640 & ~process.umask());
    expect((await readdir(dir)).filter((n) => n.includes('a.json'))).toEqual(['a.json']);
  });

  it('a failure before the rename leaves the old file untouched and removes the temporary file', async () => {
    const file = join(dir, 'b.json');
    await writeFile(file, 'keep');
    await expect(
      replaceFile(file, 'lost', {
        beforeRename: async () => {
          throw new Error('backup failed');
        },
      }),
    ).rejects.toThrow('backup failed');
    expect(await readFile(file, 'utf8')).toBe('keep');
    expect((await readdir(dir)).filter((n) => n.includes('b.json'))).toEqual(['b.json']);
  });

  it('a known-name temporary file left by a crash is reused with the right mode, and the steps are reported', async () => {
    const file = join(dir, 'c.json');
    const aside = `${file}.tmp`;
    await writeFile(aside, 'stale and longer than the new text', { mode: 0o666 });
    const steps: string[] = [];
    await replaceFile(file, 'fresh', { aside, onStep: (s) => steps.push(s), beforeRename: async () => undefined });
    expect(await readFile(file, 'utf8')).toBe('fresh');
    expect(await modeOf(file)).toBe(0o600);
    expect(steps).toEqual(['write', 'before-rename', 'rename', 'sync']);
    await expect(stat(aside)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to write into a folder that does not exist, without leaving anything', async () => {
    await expect(replaceFile(join(dir, 'missing', 'd.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('replaceFileSync', () => {
  it('replaces a file whole with the given mode and leaves no temporary file', async () => {
    const file = join(dir, 'e.json');
    await writeFile(file, 'old');
    replaceFileSync(file, 'new', { mode: 0o666, durable: false });
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await modeOf(file)).toBe(0o666 & ~process.umask());
    replaceFileSync(file, 'newer');
    expect(await readFile(file, 'utf8')).toBe('newer');
    expect(await modeOf(file)).toBe(0o600);
    expect((await readdir(dir)).filter((n) => n.includes('e.json'))).toEqual(['e.json']);
    expect(() => replaceFileSync(join(dir, 'missing', 'f.json'), 'x')).toThrow(/ENOENT/);
  });
});
