import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '../test/support/app';
import { ClusterPage } from './pages/cluster-page';
import { WorkspacesPage } from './pages/workspaces-page';

/** Removes one `<domain>` from a test-driver host file: the VM disappears "behind Clusterdesk's back". */
async function undefineBehindOurBack(hostFile: string, vm: string): Promise<void> {
  const xml = await readFile(hostFile, 'utf8');
  const start = xml.search(new RegExp(`<domain\\b[^>]*>(?:(?!</domain>)[\\s\\S])*?<name>${vm}</name>`));
  expect(start, `${vm} in ${hostFile}`).toBeGreaterThanOrEqual(0);
  const end = xml.indexOf('</domain>', start) + '</domain>'.length;
  await writeFile(hostFile, xml.slice(0, start) + xml.slice(end));
}

test('per-VM actions from the menu, and drift shown first, written only on Apply', async ({ app }) => {
  const cluster = new ClusterPage(app);
  const ws = new WorkspacesPage(app);
  await cluster.createDemo();
  await ws.select('demo-1');
  await cluster.button('Start').click();
  await expect(ws.item('demo-1')).toContainText('running');

  // Shut one VM down from its action menu; only the actions its state allows are enabled.
  await cluster.row('demo-1-compute-01').getByRole('button', { name: 'Actions for demo-1-compute-01' }).click();
  const menu = app.page.getByRole('menu', { name: 'Actions for demo-1-compute-01' });
  await expect(menu.getByRole('menuitem', { name: 'Start' })).toBeDisabled();
  await expect(menu.getByRole('menuitem', { name: 'Resume' })).toBeDisabled();
  await app.screenshot('vm-action-menu');
  await menu.getByRole('menuitem', { name: 'Shut down' }).click();
  await expect(cluster.row('demo-1-compute-01')).toContainText('SHUTOFF');
  await expect(cluster.row('demo-1-controller')).toContainText('RUNNING');

  // A VM vanishes from libvirt: refresh reports it, and the record is unchanged until Apply.
  const hostFile = join(app.dataDir, 'demos', 'cluster-1', 'host.xml');
  const stateFile = join(app.dataDir, 'demos', 'cluster-1', 'output', 'state.json');
  await undefineBehindOurBack(hostFile, 'demo-1-compute-02');
  const before = await readFile(stateFile, 'utf8');
  await cluster.button('Refresh').click();
  const report = app.page.getByRole('region', { name: 'Drift report' });
  await expect(report).toContainText('demo-1-compute-02');
  await expect(cluster.row('demo-1-compute-02')).toContainText('RUNNING');
  expect(await readFile(stateFile, 'utf8')).toBe(before);
  await app.screenshot('drift-report');

  await report.getByRole('button', { name: 'Apply' }).click();
  await expect(cluster.row('demo-1-compute-02')).toContainText('UNDEFINED');
  expect(JSON.parse(await readFile(stateFile, 'utf8')).vms.find((v: { name: string }) => v.name === 'demo-1-compute-02').state).toBe('UNDEFINED');
  await app.screenshot('drift-applied');
});
