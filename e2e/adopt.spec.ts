import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '../test/support/app';
import { WorkspacesPage } from './pages/workspaces-page';

test('a state written by ReFedEz shows an Adopt… notice; its preview names what is taken over; adopting it assigns a serial', async ({ app, workDir }) => {
  const dir = join(workDir, 'refedez-made');
  await mkdir(join(dir, '.refedez'), { recursive: true });
  await writeFile(join(dir, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
  const file = join(dir, '.refedez', 'state.json');
  const tmp = '/tmp/a729c318-4236-433b-9cee-0c3fa6ce8f00';
  await writeFile(
    file,
    JSON.stringify({
      type: 'running',
      data: {
        machines: [
          {
            closure: {
              identifier: '/nix/store/x',
              machine: {
                name: 'site1',
                connection: { type: 'remote', remote_credentials: { user: 'fl', ip: '127.0.0.9', password: 'e2e-pw-Secret', port: 22 } },
              },
              src_uv_project_path: null,
            },
            tmp_dir: tmp,
          },
        ],
        deployed_files_path: join(dir, '.refedez', 'workspace'),
      },
    }),
  );

  const ws = new WorkspacesPage(app);
  await ws.add(dir);
  await ws.select('refedez-made');
  const notice = app.page.getByRole('status', { name: 'Adoption needed' }).first();
  await expect(notice).toContainText('written by ReFedEz');
  await notice.getByRole('button', { name: 'Adopt this state…' }).click();

  const dialog = app.page.getByRole('dialog', { name: 'Adopt this state' });
  await expect(dialog.getByRole('table', { name: 'Taken over' })).toContainText('site1');
  await expect(dialog.getByRole('table', { name: 'Taken over' })).toContainText(tmp);
  await expect(dialog).toContainText('remote_credentials.password');
  await app.screenshot('adopt-preview');
  await dialog.getByRole('button', { name: 'Adopt' }).click();

  await expect(dialog).toBeHidden();
  await expect(app.page.getByRole('status', { name: 'Adoption needed' })).toHaveCount(0);
  const written = JSON.parse(await readFile(file, 'utf8')) as { serial: number; lineage: string };
  expect(written.serial).toBe(1);
  expect(written.lineage).toMatch(/^[0-9a-f-]{36}$/);
  expect(await readFile(file, 'utf8')).not.toContain('e2e-pw-Secret');
});
