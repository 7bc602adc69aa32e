import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '../test/support/app';
import { ClusterPage } from './pages/cluster-page';
import { WorkspacesPage } from './pages/workspaces-page';

/** Operations on a loaded shared machine: a liveness bound, not a timing. */
const OP = { timeout: 90_000 };

const VMS = ['demo-1-controller', 'demo-1-compute-01', 'demo-1-compute-02', 'demo-1-compute-03'];

test.describe('the view tells the truth', () => {
  test.describe.configure({ timeout: 300_000 });
  test('restoring a running generation while the VMs are off shows the drift and allows Start; the announced serial is the one written', async ({ app }) => {
    const cluster = new ClusterPage(app);
    const ws = new WorkspacesPage(app);
    const page = app.page;
    await cluster.createDemo();
    await ws.select('demo-1');
    await cluster.button('Start').click();
    await expect(ws.item('demo-1')).toContainText('running', OP);
    await cluster.button('Stop').click();
    await expect(ws.item('demo-1')).toContainText('stopped', OP);
    for (const vm of VMS) await expect(cluster.row(vm)).toContainText('SHUTOFF', OP);

    // The status word says what it means on hover.
    await expect(ws.item('demo-1').locator('.badge')).toHaveAttribute('title', /shut off/);

    await page.getByRole('tab', { name: 'State' }).click();
    const backups = page.getByRole('table', { name: 'Backups' });
    const runningRow = backups
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'running', exact: true }) })
      .first();
    await runningRow.getByRole('button', { name: 'Restore' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore this backup?' });
    const serialRow = dialog.getByRole('row', { name: /Serial/ });
    const cells = serialRow.getByRole('cell');
    const current = Number((await cells.nth(0).innerText()).trim());
    const announced = Number((await cells.nth(1).innerText()).replace(/[^0-9]/g, ''));
    expect(announced).toBe(current + 1);
    await expect(dialog).toContainText(`serial ${announced}`);
    await app.screenshot('truth-restore-dialog');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await expect(dialog).toBeHidden();

    // Recorded running, but libvirt was read right after the restore: drift is shown and Start is allowed at once.
    await expect(ws.item('demo-1')).toContainText('running', OP);
    await expect(page.getByRole('status').filter({ hasText: 'Drift:' })).toContainText('4 of 4 VMs differ');
    await page.getByRole('tab', { name: 'Virtual machines' }).click();
    for (const vm of VMS) await expect(cluster.row(vm)).toContainText('libvirt says SHUTOFF');
    await expect(cluster.button('Start')).toBeEnabled();
    await app.screenshot('truth-restored-drift');

    const stateFile = join(app.dataDir, 'demos', 'cluster-1', 'output', 'state.json');
    const written = JSON.parse(await readFile(stateFile, 'utf8')) as { serial: number; status: string };
    expect(written).toMatchObject({ serial: announced, status: 'running' });

    // Start brings the VMs back; the drift goes with it.
    await cluster.button('Start').click();
    for (const vm of VMS) await expect(cluster.row(vm)).toContainText('RUNNING', OP);
    await expect(page.getByRole('status').filter({ hasText: 'Drift:' })).toHaveCount(0);
    await expect(cluster.button('Start')).toBeDisabled();
  });
});
