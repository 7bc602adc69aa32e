import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../../test/support/rejection';
import { LIST_LIMIT, listFolders } from './list-dirs';

let dir = '';
let root = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-list-dirs-'));
  root = join(dir, 'home');
  await mkdir(join(root, 'projects', 'fl'), { recursive: true });
  await mkdir(join(root, 'b-folder'));
  await mkdir(join(root, '.hidden'));
  await writeFile(join(root, 'cluster.yaml'), 'x: 1');
  await writeFile(join(root, 'notes.txt'), 'no');
  await mkdir(join(dir, 'outside'));
  await symlink(join(dir, 'outside'), join(root, 'escape'));
  await symlink(join(root, 'projects'), join(root, 'inner-link'));
  await mkdir(join(root, 'many'));
  for (let i = 0; i < LIST_LIMIT + 5; i++) await mkdir(join(root, 'many', `d${String(i).padStart(4, '0')}`));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listFolders (the serve host’s folder picker)', () => {
  it('lists folders first, then YAML files, without hidden entries or other files; the root has no parent', async () => {
    const l = await listFolders(undefined, root);
    expect(l.parent).toBeNull();
    expect(l.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:b-folder', 'dir:inner-link', 'dir:many', 'dir:projects', 'file:cluster.yaml']);
    expect(l.truncated).toBe(false);
  });

  it('a symlink that leads out of the root is neither listed nor entered', async () => {
    const l = await listFolders(undefined, root);
    expect(l.entries.some((e) => e.name === 'escape')).toBe(false);
    const err = await rejection(listFolders(join(root, 'escape'), root));
    expect(err.code).toBe('path-refused');
    expect((await rejection(listFolders(join(root, '..'), root))).code).toBe('path-refused');
    expect((await rejection(listFolders('/etc', root))).code).toBe('path-refused');
  });

  it('enters a folder (relative to the root or absolute) and gives its parent; missing → not-found', async () => {
    const l = await listFolders('projects', root);
    expect(l.entries.map((e) => e.name)).toEqual(['fl']);
    expect(l.parent).toMatch(/home$/);
    expect((await rejection(listFolders(join(root, 'nope'), root))).code).toBe('not-found');
    expect((await rejection(listFolders(join(root, 'cluster.yaml'), root))).code).toBe('invalid-argument');
  });

  it('is bounded', async () => {
    const l = await listFolders('many', root);
    expect(l.entries).toHaveLength(LIST_LIMIT);
    expect(l.truncated).toBe(true);
  });
});
