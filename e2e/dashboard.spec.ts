import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrayTemplate } from '../preload/contract';
import { expect, test, type AppFixture } from '../test/support/app';
import { serveInvoke } from '../test/support/serve/ws-invoke';
import { StateStore } from '../main/state';
import { ClusterPage } from './pages/cluster-page';
import { DashboardPage } from './pages/dashboard-page';
import { FederationPage } from './pages/federation-page';
import { WorkspacesPage } from './pages/workspaces-page';

const VMS = ['demo-1-controller', 'demo-1-compute-01', 'demo-1-compute-02', 'demo-1-compute-03'];
/** A liveness bound for what waits on an operation (not a timing: a loaded 2-core machine has taken over 30 s). */
const OP = { timeout: 90_000 };

/** Removes one `<domain>` from a test-driver host file: the VM disappears "behind Clusterdesk's back". */
async function undefineBehindOurBack(hostFile: string, vm: string): Promise<void> {
  const xml = await readFile(hostFile, 'utf8');
  const start = xml.search(new RegExp(`<domain\\b[^>]*>(?:(?!</domain>)[\\s\\S])*?<name>${vm}</name>`));
  expect(start, `${vm} in ${hostFile}`).toBeGreaterThanOrEqual(0);
  const end = xml.indexOf('</domain>', start) + '</domain>'.length;
  await writeFile(hostFile, xml.slice(0, start) + xml.slice(end));
}

/** Points the demo cluster's config at a test-driver host file that does not exist: libvirt cannot be opened. */
async function breakLibvirtHost(folder: string): Promise<void> {
  const file = join(folder, 'cluster.yaml');
  const yaml = await readFile(file, 'utf8');
  const broken = yaml.replace(/libvirt_uri: .*/, `libvirt_uri: ${JSON.stringify(`test://${join(folder, 'no-such-host.xml')}`)}`);
  expect(broken).not.toBe(yaml);
  await writeFile(file, broken);
}

async function trayTemplate(app: AppFixture): Promise<TrayTemplate> {
  const r = await serveInvoke(app.serve!.origin, app.serve!.token, 'app:tray-template', {});
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The tray's submenu of a workspace enables exactly what the card's buttons allow (read over IPC, compared with the UI). */
async function expectTrayAgrees(app: AppFixture, dash: DashboardPage, workspaces: readonly string[]): Promise<void> {
  await expect(async () => {
    const t = await trayTemplate(app);
    for (const name of workspaces) {
      const menu = t.items.find((i) => i.label.startsWith(`${name} — `));
      const tray = (menu?.submenu ?? []).filter((i) => i.action && i.enabled).map((i) => i.label);
      expect(tray, `tray submenu of ${name}`).toEqual(await dash.enabledActions(name));
    }
  }).toPass(OP);
}

test.describe('dashboard', () => {
  test.describe.configure({ timeout: 600_000 });
  test.beforeEach(({ app }) => {
    test.skip(app.host === 'electron', 'the tray template is read over the headless host’s IPC; the Electron tray renders the same template');
  });

  test('cards → a cluster start in the task list with per-VM progress → summary → toast; the tray agrees after each step', async ({ app }) => {
    const page = app.page;
    const dash = new DashboardPage(app);
    await new ClusterPage(app).createDemo();
    await expect(dash.card('demo-1')).toBeVisible(OP);
    await new FederationPage(app).createDemo();
    await expect(dash.card('federation-1')).toBeVisible(OP);

    // Cards: kind, name, status, the allowed actions; a disabled one says why on focus (keyboard), from the rule.
    await expect(dash.card('demo-1')).toContainText('cluster');
    await expect(dash.card('demo-1')).toContainText('none');
    await expect(dash.card('federation-1')).toContainText('federation');
    await expect(dash.card('federation-1')).toContainText('clean');
    expect(await dash.enabledActions('demo-1')).toEqual(['Start']);
    await dash.action('demo-1', 'Stop').focus();
    await expect(dash.card('demo-1').getByRole('tooltip')).toHaveText('Nothing is recorded to stop: start the cluster first.');
    await expect(dash.action('demo-1', 'Stop')).toBeDisabled();
    await expectTrayAgrees(app, dash, ['demo-1', 'federation-1']);
    await app.screenshot('dashboard');

    // The task list opens from the keyboard (T), its shortcut documented on the toggle.
    await expect(dash.tasksToggle()).toHaveAttribute('aria-keyshortcuts', /Control\+Shift\+T/);
    await page.locator('body').press('t');
    await expect(dash.taskList()).toBeVisible();

    await dash.action('demo-1', 'Start').click();
    const task = dash.task('Start cluster', 'demo-1');
    await expect(task).toBeVisible(OP);
    for (const vm of VMS) await expect(task.getByRole('progressbar', { name: `${vm} progress` })).toBeVisible(OP);
    await expect(task.getByRole('status')).toHaveText('4 started', OP);
    await expect(task).toContainText(/id [0-9a-f-]{36}/);
    await expect(task).toContainText(/\d+ s/);
    await expect(dash.toasts().getByRole('status').filter({ hasText: 'demo-1: Start cluster finished' })).toContainText('4 started', OP);
    await expect(dash.card('demo-1')).toContainText('running', OP);
    await expect(dash.card('demo-1')).toContainText('Start cluster — 4 started');
    await expectTrayAgrees(app, dash, ['demo-1', 'federation-1']);
    await app.screenshot('task-list');

    // A tray click runs the window's action (through operate()): the card, the task list and the tray follow.
    const t = await trayTemplate(app);
    const stop = t.items.find((i) => i.label.startsWith('demo-1 — '))?.submenu?.find((i) => i.label === 'Stop');
    expect(stop?.enabled).toBe(true);
    const clicked = await serveInvoke(app.serve!.origin, app.serve!.token, 'app:tray-click', { itemId: stop!.id });
    expect(clicked.ok).toBe(true);
    await expect(dash.card('demo-1')).toContainText('stopped', OP);
    await expect(dash.task('Stop cluster', 'demo-1').getByRole('status')).toHaveText('4 stopped', OP);
    await expectTrayAgrees(app, dash, ['demo-1', 'federation-1']);
    // A disabled tray item is refused with the rule's sentence.
    const refused = await serveInvoke(app.serve!.origin, app.serve!.token, 'app:tray-click', { itemId: stop!.id });
    expect(refused).toMatchObject({ ok: false, error: { code: 'state-wrong-status', message: 'The cluster is already stopped.' } });

    // A VM vanishes behind Clusterdesk's back; F5 on the dashboard is Refresh all (documented on the button): the
    // cluster's refresh finds it — drift badge on the card, a toast, the tray's drift icon.
    await undefineBehindOurBack(join(app.dataDir, 'demos', 'cluster-1', 'host.xml'), 'demo-1-compute-02');
    await expect(page.getByRole('button', { name: 'Refresh all' })).toHaveAttribute('aria-keyshortcuts', /F5/);
    await page.locator('body').press('F5');
    await expect(dash.task('Refresh', 'demo-1').getByRole('status')).toContainText('1 drift: demo-1-compute-02', OP);
    await expect(dash.card('demo-1')).toContainText('drift: 1', OP);
    await expect(dash.toasts().getByRole('status').filter({ hasText: 'demo-1: drift found' })).toContainText('demo-1-compute-02', OP);
    await expect.poll(async () => (await trayTemplate(app)).icon, OP).toBe('drift');
    await expectTrayAgrees(app, dash, ['demo-1', 'federation-1']);
    await app.screenshot('dashboard-drift');

    // Opening a card shows the cluster's view; the way back is the breadcrumb.
    await dash.card('demo-1').getByRole('button', { name: 'Open demo-1' }).click();
    await expect(new ClusterPage(app).button('Start')).toBeEnabled();
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('button', { name: '← Dashboard' }).click();
    await expect(dash.card('demo-1')).toBeVisible();
    await expect(new WorkspacesPage(app).item('demo-1')).toContainText('stopped');
  });

  test('a failed start in the task list: summary, message, hint and a Details expander with code and operation id', async ({ app }) => {
    const dash = new DashboardPage(app);
    await new ClusterPage(app).createDemo();
    await expect(dash.card('demo-1')).toBeVisible(OP);
    // The cluster's libvirt host cannot be opened (its host file is gone): the start fails before touching anything.
    await breakLibvirtHost(join(app.dataDir, 'demos', 'cluster-1'));
    await dash.tasksToggle().click();
    await expect(dash.taskList()).toBeVisible();
    await dash.action('demo-1', 'Start').click();
    const task = dash.task('Start cluster', 'demo-1');
    await expect(task).toHaveClass(/task-failed/, OP);
    await expect(task.locator('.badge')).toHaveText('failed');
    const hint = task.locator('.banner-hint');
    await expect(hint).toBeVisible();
    await expect(hint).not.toBeEmpty();
    const summary = task.getByText('Details', { exact: true });
    await expect(summary).toBeVisible();
    await expect(task.locator('.task-details')).toBeHidden();
    await summary.click();
    await expect(task.locator('.task-details')).toBeVisible();
    await expect(task.locator('.task-details')).toContainText(/Code\s*\S+/);
    await expect(task.locator('.task-details')).toContainText(/Operation id\s*[0-9a-f-]{36}/);
    await app.screenshot('task-list-failed');
  });

  test('Cancel from the task list: a start waiting for the state lock another process holds ends cancelled', async ({ app }) => {
    const dash = new DashboardPage(app);
    await new ClusterPage(app).createDemo();
    await expect(dash.card('demo-1')).toBeVisible(OP);
    // Long enough to click Cancel on a loaded machine: the start waits for the lock up to this long.
    const set = await serveInvoke(app.serve!.origin, app.serve!.token, 'settings:set', { lockTimeoutMs: 300_000 });
    expect(set.ok).toBe(true);
    // Another process (this test, as the CLI would) holds the cluster's state lock until released.
    const store = new StateStore({ lockTimeoutMs: 10_000 });
    let release = () => undefined as void;
    const released = new Promise<void>((r) => (release = r));
    let held = () => undefined as void;
    const holding = new Promise<void>((r) => (held = r));
    const holder = store.transaction(
      { kind: 'cluster', file: join(app.dataDir, 'demos', 'cluster-1', 'output', 'state.json'), clusterName: 'demo-1' },
      'e2e holds the lock',
      async () => {
        held();
        await released;
      },
    );
    try {
      await holding;
      await dash.tasksToggle().click();
      await dash.action('demo-1', 'Start').click();
      const task = dash.task('Start cluster', 'demo-1');
      await expect(task).toHaveClass(/task-running/, OP);
      await task.getByRole('button', { name: 'Cancel Start cluster on demo-1' }).click();
      await expect(task).toHaveClass(/task-cancelled/, OP);
      await expect(task.locator('.badge')).toHaveText('cancelled');
      await expect(task.getByRole('button', { name: 'Cancel Start cluster on demo-1' })).toHaveCount(0);
      // Nothing was started: the card still says none and allows Start.
      await expect(dash.card('demo-1')).toContainText('none');
    } finally {
      release();
      await holder;
    }
    await app.screenshot('task-list-cancelled');
  });
});
