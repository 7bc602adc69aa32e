import type { Page } from '@playwright/test';
import { expect, test } from '../test/support/app';
import { ClusterPage } from './pages/cluster-page';
import { WorkspacesPage } from './pages/workspaces-page';

const OP = { timeout: 90_000 };

/** Neither the window nor the content pane scrolls sideways (tables may, inside their own frame). */
async function noSidewaysScroll(page: Page, screen: string): Promise<void> {
  const widths = await page.evaluate(() => {
    const doc = (
      globalThis as unknown as {
        document: {
          documentElement: { scrollWidth: number; clientWidth: number };
          querySelector(s: string): { scrollWidth: number; clientWidth: number } | null;
        };
      }
    ).document;
    const content = doc.querySelector('.content');
    return {
      window: [doc.documentElement.scrollWidth, doc.documentElement.clientWidth],
      content: content ? [content.scrollWidth, content.clientWidth] : [0, 0],
    };
  });
  expect(widths.window[0], `${screen}: window ${widths.window.join(' > ')}`).toBeLessThanOrEqual(widths.window[1]!);
  expect(widths.content[0], `${screen}: content pane ${widths.content.join(' > ')}`).toBeLessThanOrEqual(widths.content[1]!);
}

test('at 900×700 nothing scrolls the window sideways, the VM name column stays in place, settings show range and unit', async ({ app }) => {
  test.setTimeout(300_000);
  const page = app.page;
  await page.setViewportSize({ width: 900, height: 700 });
  const cluster = new ClusterPage(app);
  const ws = new WorkspacesPage(app);
  await noSidewaysScroll(page, 'empty state');
  await cluster.createDemo();
  await ws.select('demo-1');
  await cluster.button('Start').click();
  await expect(ws.item('demo-1')).toContainText('running', OP);
  await expect(cluster.vmRows()).toHaveCount(4);
  await noSidewaysScroll(page, 'cluster running');
  await app.screenshot('small-cluster-running');

  // Scroll the VM table sideways: the Name cell stays where it was, the next column moves.
  const name = cluster.row('demo-1-controller').getByRole('cell').first();
  const role = cluster.row('demo-1-controller').getByRole('cell').nth(1);
  const before = { name: (await name.boundingBox())!.x, role: (await role.boundingBox())!.x };
  await page.locator('.vscroll').evaluate((el) => (el.scrollLeft = 200));
  await expect.poll(async () => (await role.boundingBox())!.x).toBeLessThan(before.role - 100);
  expect((await name.boundingBox())!.x).toBeCloseTo(before.name, 0);
  await app.screenshot('small-cluster-scrolled');

  await page.getByRole('tab', { name: 'State' }).click();
  await expect(page.getByRole('table', { name: 'Backups' })).toBeVisible();
  await noSidewaysScroll(page, 'state tab');
  await page.getByRole('tab', { name: 'Overview' }).click();
  await noSidewaysScroll(page, 'overview tab');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect(dialog.getByRole('spinbutton', { name: 'Cluster stop timeout (seconds)' })).toHaveAccessibleDescription(/Allowed: 0–3,600 s/);
  await expect(dialog.getByRole('spinbutton', { name: 'SSH connect timeout (ms)' })).toHaveAccessibleDescription(/Allowed: 500–600,000 ms/);
  await dialog.getByRole('spinbutton', { name: 'Parallel operations' }).fill('0');
  await expect(dialog.getByRole('button', { name: 'Save' })).toBeDisabled();
  await noSidewaysScroll(page, 'settings');
  await app.screenshot('small-settings');
});

test('Browse beside the path field opens the host’s folder picker; Escape closes it, a choice fills the field', async ({ app }) => {
  test.skip(app.host !== 'serve', 'Electron uses its native folder dialog');
  const page = app.page;
  const browse = page.getByRole('button', { name: 'Browse for the workspace path' });
  await browse.click();
  const dialog = page.getByRole('dialog', { name: 'Choose a folder on the host' });
  await expect(dialog.getByRole('list', { name: 'Folders' })).toBeVisible();
  await app.screenshot('folder-picker');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(browse).toBeFocused();
  await browse.click();
  const shown = (await dialog.locator('.picker-path').innerText()).trim();
  await dialog.getByRole('button', { name: 'Choose this folder' }).click();
  await expect(page.getByRole('textbox', { name: 'Workspace path' })).toHaveValue(shown);
});
