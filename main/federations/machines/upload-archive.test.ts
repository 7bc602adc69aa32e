import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { listTree, tarStream } from './upload-archive';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('upload archive (node-tar)', () => {
  it('produces an archive that the system tar extracts exactly (modes, long and unicode names, symlinks, empty files)', async () => {
    const src = await mkdtemp(join(tmpdir(), 'cd-tar-src-'));
    const out = await mkdtemp(join(tmpdir(), 'cd-tar-out-'));
    dirs.push(src, out);
    const longDir = 'd'.repeat(90);
    await mkdir(join(src, 'startup'));
    await mkdir(join(src, longDir, 'e'.repeat(60)), { recursive: true });
    await writeFile(join(src, 'startup', 'start.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(src, 'startup', 'start.sh'), 0o750);
    await writeFile(join(src, longDir, 'e'.repeat(60), 'deep.txt'), 'deep');
    // A kit's executable script under a path far over ustar's 100 bytes.
    const longScript = join(longDir, 'e'.repeat(60), `${'s'.repeat(120)}.sh`);
    expect(longScript.length).toBeGreaterThan(200);
    await writeFile(join(src, longScript), '#!/bin/sh\necho long\n');
    await chmod(join(src, longScript), 0o755);
    await writeFile(join(src, 'private.txt'), 'p');
    await chmod(join(src, 'private.txt'), 0o600);
    await writeFile(join(src, 'ünïcødé ✓.txt'), 'u');
    await writeFile(join(src, 'empty'), '');
    await writeFile(join(src, 'block'), Buffer.alloc(512 * 3, 7));
    await writeFile(join(src, 'odd'), Buffer.alloc(700_001, 1));
    await symlink('startup/start.sh', join(src, 'link'));

    const entries = await listTree(src);
    const chunks: Buffer[] = [];
    for await (const c of tarStream(src, entries, undefined, 64 * 1024)) chunks.push(c.data);
    const archive = Buffer.concat(chunks);
    expect(archive.length % 512).toBe(0);
    const tarFile = join(out, 'a.tar');
    await writeFile(tarFile, archive);
    await run('tar', ['-xf', tarFile, '-C', out]);

    expect((await lstat(join(out, 'startup', 'start.sh'))).mode & 0o777).toBe(0o750);
    expect((await lstat(join(out, longScript))).mode & 0o777).toBe(0o755);
    expect((await run(join(out, longScript), [])).stdout).toBe('long\n');
    expect((await lstat(join(out, 'private.txt'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(out, longDir, 'e'.repeat(60), 'deep.txt'), 'utf8')).toBe('deep');
    expect(await readFile(join(out, 'ünïcødé ✓.txt'), 'utf8')).toBe('u');
    expect((await lstat(join(out, 'empty'))).size).toBe(0);
    expect(await readFile(join(out, 'odd'))).toEqual(Buffer.alloc(700_001, 1));
    expect(await readFile(join(out, 'block'))).toEqual(Buffer.alloc(512 * 3, 7));
    expect(await readlink(join(out, 'link'))).toBe('startup/start.sh');
  });

  it('counts content bytes and completed files for progress', async () => {
    const src = await mkdtemp(join(tmpdir(), 'cd-tar-p-'));
    dirs.push(src);
    await writeFile(join(src, 'a'), Buffer.alloc(100_000, 1));
    await writeFile(join(src, 'b'), '');
    await mkdir(join(src, 'd'));
    await writeFile(join(src, 'd', 'c'), Buffer.alloc(1000, 2));
    let bytes = 0;
    let files = 0;
    const steps: number[] = [];
    for await (const c of tarStream(src, await listTree(src), undefined, 4096)) {
      expect(c.contentBytes).toBeGreaterThanOrEqual(0);
      bytes += c.contentBytes;
      files += c.filesDone;
      if (c.contentBytes > 0) steps.push(bytes);
    }
    expect({ bytes, files }).toEqual({ bytes: 101_000, files: 3 });
    // Progress arrives while the big file is read, not only when it is done.
    expect(steps.filter((b) => b < 100_000).length).toBeGreaterThan(3);
  });

  it('stops when the signal aborts', async () => {
    const src = await mkdtemp(join(tmpdir(), 'cd-tar-a-'));
    dirs.push(src);
    await writeFile(join(src, 'a'), Buffer.alloc(10_000));
    const ac = new AbortController();
    const consume = async () => {
      for await (const c of tarStream(src, await listTree(src), ac.signal, 100)) if (c.contentBytes > 0) ac.abort();
    };
    await expect(consume()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
