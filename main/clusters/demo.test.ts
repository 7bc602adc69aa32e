/** Issue #10: `cluster:create-demo {folder}` never overwrites and refuses folders that are not folders of ours. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../../test/support/rejection';
import { createDemoCluster } from './demo';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createDemoCluster into a given folder', () => {
  it('creates cluster.yaml and host.xml in a fresh folder', async () => {
    const demo = await createDemoCluster(dir, join(dir, 'fresh'));
    expect(await readFile(demo.configFile, 'utf8')).toContain('libvirt_uri');
    expect(await readFile(demo.hostFile, 'utf8')).toContain('<node');
  });

  for (const name of ['host.xml', 'cluster.yaml']) {
    it(`refuses a folder that already holds ${name}, leaving it untouched`, async () => {
      const folder = join(dir, `has-${name}`);
      await mkdir(folder);
      await writeFile(join(folder, name), 'mine, do not touch\n');
      const err = await rejection(createDemoCluster(dir, folder));
      expect(err.code).toBe('path-refused');
      expect(err.message).toContain(`already holds ${name}`);
      expect(await readFile(join(folder, name), 'utf8')).toBe('mine, do not touch\n');
    });
  }

  const special: [string, () => Promise<string>, RegExp][] = [
    ['/dev/null', async () => '/dev/null', /character device, not a folder/],
    ['/proc/self', async () => '/proc/self', /kernel file system/],
    ['a folder under /proc', async () => '/proc/self/fd', /kernel file system/],
    [
      'a regular file',
      async () => {
        const f = join(dir, 'plain-file');
        await writeFile(f, 'x');
        return f;
      },
      /file, not a folder/,
    ],
    [
      'a FIFO',
      async () => {
        const f = join(dir, 'a-fifo');
        await promisify(execFile)('mkfifo', [f]);
        return f;
      },
      /fifo, not a folder/,
    ],
  ];
  for (const [what, make, message] of special) {
    it(`refuses ${what} with path-refused`, async () => {
      const err = await rejection(createDemoCluster(dir, await make()));
      expect(err.code).toBe('path-refused');
      expect(err.message).toMatch(message);
      expect(err.hint).toBeTruthy();
    });
  }
});
