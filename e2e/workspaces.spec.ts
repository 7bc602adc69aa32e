import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateStore } from '../main/state';
import { expect, test } from '../test/support/app';
import { WorkspacesPage } from './pages/workspaces-page';

async function federationFolder(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines:\n  server.localhost:\n    type: local\n');
  return dir;
}

test.describe('workspaces', () => {
  test('an empty app explains what to add', async ({ app }) => {
    await expect(app.page.getByText('refedez.yaml').first()).toBeVisible();
    await expect(app.page.getByRole('button', { name: 'Create demo cluster' })).toBeVisible();
    await app.screenshot('empty-state');
  });

  test('a folder with refedez.yaml is listed as a clean federation', async ({ app, workDir }) => {
    const ws = new WorkspacesPage(app);
    await ws.add(await federationFolder(workDir, 'fl-project'));
    const item = ws.item('fl-project');
    await expect(item).toBeVisible();
    await expect(item).toContainText('clean');
    await expect(item).toContainText(join(workDir, 'fl-project'));
    await app.screenshot('federation-listed');
  });

  test('a folder with neither file shows a workspace-unknown banner with its hint', async ({ app, workDir }) => {
    const ws = new WorkspacesPage(app);
    test.skip(app.host === 'electron', 'in Electron the folder comes from the native dialog; the API path is covered by the serve host');
    const empty = join(workDir, 'nothing-here');
    await mkdir(empty);
    await ws.add(empty);
    const alert = ws.alerts().filter({ hasText: 'refedez.yaml' });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('cluster.yaml');
    await app.screenshot('workspace-unknown');
  });

  test('a garbage state file shows the corrupt-state banner, and restore brings the last valid state back', async ({ app, workDir }) => {
    const dir = await federationFolder(workDir, 'broken-fed');
    const file = join(dir, '.refedez', 'state.json');
    // Two real generations through the state engine, so history holds valid backups.
    const store = new StateStore();
    const target = { kind: 'federation' as const, file };
    const machine = {
      name: 'server.localhost',
      kind: 'local' as const,
      host: 'localhost',
      port: 22,
      user: 'root',
      tmp_dir: '/tmp/clusterdesk-e2e',
      started_at: new Date().toISOString(),
    };
    await store.update(target, 'test', () => ({ type: 'running', data: { deployed_files_path: dir, machines: [machine] } }) as never);
    await store.update(target, 'test', () => ({ type: 'dirty', data: { deployed_files_path: dir, machines: [machine] } }) as never);
    await writeFile(file, '{"type": "dirty", "data": {"machines": [ GARBAGE');

    const ws = new WorkspacesPage(app);
    await ws.add(dir);
    await ws.select('broken-fed');
    const banner = ws.alerts().filter({ hasText: file });
    await expect(banner.first()).toBeVisible();
    await expect(ws.item('broken-fed')).toContainText('unreadable');
    await app.screenshot('state-corrupt');

    await app.page.getByRole('button', { name: 'Restore newest valid backup' }).first().click();
    await expect(ws.item('broken-fed')).toContainText('dirty');
    await app.screenshot('state-restored');
    const restored = JSON.parse(await readFile(file, 'utf8')) as { type: string; serial: number };
    expect(restored.type).toBe('dirty');
    expect(restored.serial).toBeGreaterThan(2);
  });

  test('the page works only with its token, which never leaves the page', async ({ app }) => {
    test.skip(app.host === 'electron', 'the Electron app has no HTTP endpoint; the token guards only the headless host');
    const { origin, token } = app.serve!;
    // The token left the address bar as soon as the page read it.
    expect(app.page.url()).toBe(`${origin}/`);
    // The page itself holds no secret: it is served to anyone, without a cookie.
    const res = await fetch(`${origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).not.toContain(token);
    expect(await app.page.context().cookies()).toEqual([]);
    // Opened without the token, the page says how to get in.
    const other = await app.page.context().browser()!.newContext();
    const bare = await other.newPage();
    await bare.goto(`${origin}/`);
    await expect(bare.getByRole('alert')).toContainText('#token=');
    await other.close();
  });
});
