import { expect, test } from '../test/support/app';
import { ClusterPage } from './pages/cluster-page';
import { WorkspacesPage } from './pages/workspaces-page';

const VMS = ['demo-1-controller', 'demo-1-compute-01', 'demo-1-compute-02', 'demo-1-compute-03'];

test.describe('cluster', () => {
  test('demo cluster: create → start → stop → destroy with the typed confirmation', async ({ app }) => {
    const cluster = new ClusterPage(app);
    const ws = new WorkspacesPage(app);
    await expect(app.page.getByRole('heading', { name: 'No workspaces yet' })).toBeVisible();
    await app.screenshot('cluster-empty-state');

    await cluster.createDemo();
    const item = ws.item('demo-1');
    await expect(item).toContainText('none');
    await ws.select('demo-1');
    await expect(cluster.button('Start')).toBeEnabled();
    await expect(cluster.button('Stop')).toBeDisabled();
    await expect(cluster.button('Destroy')).toBeDisabled();
    await expect(app.page.getByText('No VMs recorded')).toBeVisible();
    await app.screenshot('cluster-demo-none');

    await cluster.button('Validate').click();
    await expect(app.page.getByText('The configuration is valid. Start would create:')).toBeVisible();
    await app.page.getByRole('button', { name: 'Close validation' }).click();

    await cluster.button('Start').click();
    await expect(item).toContainText('running');
    await expect(cluster.vmRows()).toHaveCount(VMS.length);
    for (const vm of VMS) await expect(cluster.row(vm)).toContainText('RUNNING');
    await expect(cluster.row('demo-1-controller')).toContainText('192.168.150.10');
    await expect(app.page.getByRole('list', { name: 'Networks' })).toContainText('demo-1-network');
    await app.screenshot('cluster-running');

    await cluster.button('Refresh').click();
    await expect(app.page.getByText('No drift: libvirt matches the recorded state.')).toBeVisible();
    await app.page.getByRole('button', { name: 'Close drift report' }).click();

    await cluster.button('Stop').click();
    await expect(item).toContainText('stopped');
    for (const vm of VMS) await expect(cluster.row(vm)).toContainText('SHUTOFF');
    await expect(cluster.button('Start')).toBeEnabled();
    await app.screenshot('cluster-stopped');

    await cluster.button('Destroy').click();
    const dialog = app.page.getByRole('dialog', { name: 'Destroy cluster demo-1?' });
    await expect(dialog.getByRole('button', { name: 'Destroy cluster' })).toBeDisabled();
    await dialog.getByRole('textbox', { name: 'Type demo-1 to confirm' }).fill('demo-');
    await expect(dialog.getByRole('button', { name: 'Destroy cluster' })).toBeDisabled();
    await app.screenshot('cluster-destroy-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await cluster.destroy('demo-1');
    await expect(item).toContainText('none');
    await expect(app.page.getByText('No VMs recorded')).toBeVisible();
    await expect(cluster.button('Destroy')).toBeDisabled();
    await app.screenshot('cluster-destroyed');
  });
});
