import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportState } from '../main/sharing/service';
import { StateStore } from '../main/state';
import { expect, test } from '../test/support/app';
import { WorkspacesPage } from './pages/workspaces-page';

async function federationFolder(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
  return dir;
}

test('importing a bundle chosen in the UI previews it, applies it, and the status appears', async ({ app, workDir }) => {
  // A colleague's federation with a recorded running state, exported to a .cdstate file.
  const theirs = await federationFolder(workDir, 'colleague');
  const store = new StateStore();
  const file = join(theirs, '.refedez', 'state.json');
  const machines = ['server.localhost', 'site-1'].map((name) => ({
    name,
    kind: 'remote' as const,
    host: '127.0.0.9',
    port: 22,
    user: 'fl',
    tmp_dir: `/tmp/clusterdesk-abcdef12-${name}`,
    started_at: new Date().toISOString(),
  }));
  await store.update({ kind: 'federation', file }, 'seed', () => ({ type: 'running', data: { deployed_files_path: theirs, machines } }) as never);
  const bundleFile = join(workDir, 'colleague.cdstate');
  await exportState(store, { kind: 'federation', name: 'colleague', target: { kind: 'federation', file } }, { appVersion: 'test', file: bundleFile });

  const mine = await federationFolder(workDir, 'mine');
  const ws = new WorkspacesPage(app);
  await ws.add(mine);
  await ws.select('mine');
  await expect(ws.item('mine')).toContainText('clean');
  await app.page.getByRole('tab', { name: 'State' }).click();
  await app.page.getByLabel('Import state file').setInputFiles(bundleFile);

  const dialog = app.page.getByRole('dialog', { name: 'Import colleague.cdstate' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Can be imported');
  await expect(dialog.getByRole('region', { name: 'Added resources' })).toContainText('site-1');
  await app.screenshot('import-preview');
  await dialog.getByRole('button', { name: 'Apply' }).click();

  await expect(ws.item('mine')).toContainText('running');
  await app.page.getByRole('tab', { name: 'Machines' }).click();
  await expect(app.page.getByRole('table', { name: 'Machines' })).toContainText('site-1');
  await app.screenshot('imported');
  const imported = await store.load({ kind: 'federation', file: join(mine, '.refedez', 'state.json') });
  expect(imported?.type).toBe('running');
});
