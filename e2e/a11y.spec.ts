import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { expect, test } from '../test/support/app';
import { axeViolations, describeViolations } from '../test/support/axe';
import { stopDemoLeftovers } from '../test/support/demo-leftovers';
import { ClusterPage } from './pages/cluster-page';
import { DashboardPage } from './pages/dashboard-page';
import { FederationPage } from './pages/federation-page';
import { WorkspacesPage } from './pages/workspaces-page';

/** Operations on a loaded shared machine: a liveness bound, not a timing. */
const OP = { timeout: 90_000 };

/**
 * Every main screen, in the light and the dark theme (the OS preference, emulated; the theme setting is "system"):
 * no serious or critical axe-core violation (contrast included), and a screenshot of each kept as an artifact.
 */
const THEMES = ['light', 'dark'] as const;

async function scanBoth(page: Page, testInfo: TestInfo, screen: string): Promise<void> {
  for (const scheme of THEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    await expect(page.locator('html')).toHaveAttribute('data-theme', scheme);
    const violations = await axeViolations(page);
    const path = testInfo.outputPath(`${screen}-${scheme}.png`);
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`${screen}-${scheme}`, { path, contentType: 'image/png' });
    expect(violations, `${screen} (${scheme}):\n${describeViolations(violations)}`).toEqual([]);
  }
}

test.describe('accessibility: axe-core in both themes', () => {
  // Many full-page axe scans (two per screen); a liveness bound on a loaded 2-core machine, not a timing.
  test.describe.configure({ timeout: 300_000 });
  test.afterEach(async ({ app }) => {
    await stopDemoLeftovers(app.dataDir);
  });

  test('empty state, cluster (running, state tab, destroy dialog), settings', async ({ app }, testInfo) => {
    const page = app.page;
    const cluster = new ClusterPage(app);
    const ws = new WorkspacesPage(app);
    await expect(page.getByRole('heading', { name: 'No workspaces yet' })).toBeVisible();
    await scanBoth(page, testInfo, 'empty-state');

    await cluster.createDemo();
    await ws.select('demo-1');
    await expect(cluster.button('Start')).toBeEnabled();
    await scanBoth(page, testInfo, 'cluster-none');
    await cluster.button('Start').click();
    await expect(ws.item('demo-1')).toContainText('running', OP);
    await expect(cluster.vmRows()).toHaveCount(4);
    await scanBoth(page, testInfo, 'cluster-running');

    await cluster.button('Refresh').click();
    await expect(page.getByText('No drift: libvirt matches the recorded state.')).toBeVisible();
    await scanBoth(page, testInfo, 'cluster-refreshed');
    await page.getByRole('button', { name: 'Close drift report' }).click();

    await page.getByRole('tab', { name: 'Overview' }).click();
    await scanBoth(page, testInfo, 'cluster-overview');
    await page.getByRole('tab', { name: 'State' }).click();
    await expect(page.getByRole('table', { name: 'Backups' })).toBeVisible();
    await scanBoth(page, testInfo, 'cluster-state');

    await cluster.button('Destroy').click();
    await expect(page.getByRole('dialog', { name: 'Destroy cluster demo-1?' })).toBeVisible();
    await scanBoth(page, testInfo, 'cluster-destroy-dialog');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.getByRole('dialog', { name: 'Settings' }).getByRole('spinbutton').first()).toBeVisible();
    await scanBoth(page, testInfo, 'settings');
    await page.keyboard.press('Escape');
  });

  test('dashboard home and the task list (finished, failed with its details open)', async ({ app }, testInfo) => {
    const page = app.page;
    const dash = new DashboardPage(app);
    await new ClusterPage(app).createDemo();
    await new FederationPage(app).createDemo();
    await expect(dash.card('demo-1')).toBeVisible(OP);
    await expect(dash.card('federation-1')).toBeVisible(OP);
    await scanBoth(page, testInfo, 'dashboard');

    await dash.tasksToggle().click();
    await expect(dash.taskList()).toBeVisible();
    await scanBoth(page, testInfo, 'task-list-empty');
    await dash.action('demo-1', 'Start').click();
    await expect(dash.task('Start cluster', 'demo-1').getByRole('status')).toHaveText('4 started', OP);
    await dash.action('demo-1', 'Stop').click();
    await expect(dash.task('Stop cluster', 'demo-1').getByRole('status')).toHaveText('4 stopped', OP);
    // A failure: the cluster's libvirt host cannot be opened (its config names a host file that does not exist).
    const config = join(app.dataDir, 'demos', 'cluster-1', 'cluster.yaml');
    const yaml = await readFile(config, 'utf8');
    await writeFile(config, yaml.replace(/libvirt_uri: .*/, `libvirt_uri: "test://${join(app.dataDir, 'demos', 'cluster-1', 'gone.xml')}"`));
    await expect(dash.action('demo-1', 'Start')).toBeEnabled(OP);
    await dash.action('demo-1', 'Start').click();
    const failed = dash.task('Start cluster', 'demo-1').filter({ has: page.getByText('Details', { exact: true }) });
    await expect(failed).toHaveCount(1, OP);
    await failed.getByText('Details', { exact: true }).click();
    await expect(failed.locator('.task-details')).toBeVisible();
    await scanBoth(page, testInfo, 'task-list');
  });

  test('federation (clean, running with probe and log, clean confirmation)', async ({ app }, testInfo) => {
    const page = app.page;
    const fed = new FederationPage(app);
    const ws = new WorkspacesPage(app);
    await fed.createDemo();
    await ws.select('federation-1');
    await expect(fed.button('Start')).toBeEnabled();
    await scanBoth(page, testInfo, 'federation-clean');
    await fed.button('Start').click();
    await expect(ws.item('federation-1')).toContainText('running', OP);
    await fed.button('Probe').click();
    await expect(page.getByText(/Probed at/)).toBeVisible();
    await page.getByRole('button', { name: 'Logs for site-1' }).click();
    await expect(page.getByRole('log', { name: 'Log of site-1' })).toBeVisible();
    await scanBoth(page, testInfo, 'federation-running');
    await fed.button('Stop').click();
    await expect(ws.item('federation-1')).toContainText('dirty', OP);
    await fed.button('Clean').click();
    await expect(page.getByRole('dialog', { name: 'Clean federation federation-1?' })).toBeVisible();
    await scanBoth(page, testInfo, 'federation-clean-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Clean', exact: true }).click();
    await expect(ws.item('federation-1')).toContainText('clean', OP);
  });
});
