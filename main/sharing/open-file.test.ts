import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceEntry } from '../../preload/contract';
import { makeBundle } from './bundle';
import { bundlePathsFromArgv, openedBundle } from './open-file';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-open-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (id: string, kind: 'cluster' | 'federation', name: string): WorkspaceEntry => ({
  id,
  kind,
  name,
  path: `/p/${name}`,
  statePath: `/p/${name}/s.json`,
  addedAt: '',
});

describe('opening a .cdstate from the OS', () => {
  it('picks .cdstate paths out of argv', () => {
    expect(bundlePathsFromArgv(['/opt/Clusterdesk/clusterdesk', '--data-dir', '/d', '/home/a/x.cdstate', '-flag.cdstate'])).toEqual(['/home/a/x.cdstate']);
  });

  it('matches the workspace by kind and name, or says what to do', async () => {
    const b = makeBundle({
      app_version: 't',
      exported_at: '',
      workspace: { kind: 'cluster', name: 'hpc' },
      lineage: 'l',
      serial: 1,
      redacted: { secrets: 0, home_paths: false },
      state: {},
    });
    const file = join(dir, 'hpc.cdstate');
    await writeFile(file, JSON.stringify(b));
    expect(await openedBundle(file, [entry('f', 'federation', 'hpc'), entry('c', 'cluster', 'hpc')])).toMatchObject({
      workspaceId: 'c',
      fileName: 'hpc.cdstate',
    });
    const none = await openedBundle(file, [entry('f', 'federation', 'hpc')]);
    expect(none.workspaceId).toBeNull();
    expect(none.message).toContain('Add its folder first');
    await writeFile(file, '{"broken');
    expect((await openedBundle(file, [])).message).toContain('not valid JSON');
    expect((await openedBundle(join(dir, 'missing.cdstate'), [])).message).toContain('Cannot read');
  });
});
