import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from '../test/support/app';
import { growDemoCluster } from '../test/support/big-cluster';
import { ClusterPage } from './pages/cluster-page';
import { WorkspacesPage } from './pages/workspaces-page';

const VMS = 1000;

/** Counts the WebSocket frames that carry a workspace's state: `workspace:changed` events, answers with VMs in them. */
function snapshotFrames(page: Page): { take(): string[] } {
  let seen: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const text = typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8');
      if (text.startsWith('{"type":"event","event":"workspace:changed"')) seen.push('workspace:changed');
      else if (text.startsWith('{"type":"result"') && text.includes('"vms":[')) seen.push('snapshot answer');
    }),
  );
  return {
    take() {
      const out = seen;
      seen = [];
      return out;
    },
  };
}

/** VM rows in the DOM and all elements of the page. */
async function domSize(page: Page): Promise<{ rows: number; nodes: number }> {
  return { rows: await new ClusterPage({ page } as never).vmRows().count(), nodes: await page.locator('*').count() };
}

test('a 1,000-VM cluster: one state frame per operation, a DOM the size of the window, names whole where cut', async ({ app }, testInfo) => {
  test.skip(app.host !== 'serve', 'counts WebSocket frames, which only the serve host has');
  // Liveness bound for a loaded 2-core machine (growing, refreshing and applying 1,000 VMs), not a timing.
  test.setTimeout(600_000);
  const cluster = new ClusterPage(app);
  const ws = new WorkspacesPage(app);
  const frames = snapshotFrames(app.page);
  await cluster.createDemo();
  await ws.select('demo-1');
  await cluster.button('Start').click();
  await expect(ws.item('demo-1')).toContainText('running');

  // Grown behind the app's back (as the CLI would write it): the file watcher publishes it to the page.
  const big = await growDemoCluster(join(app.dataDir, 'demos', 'cluster-1'), { vms: VMS, driftEvery: 10 });
  await expect(app.page.getByRole('heading', { name: `Virtual machines (${VMS})` })).toBeVisible({ timeout: 120_000 });
  const opened = await domSize(app.page);
  expect(opened.rows).toBeGreaterThan(5);
  expect(opened.rows).toBeLessThanOrEqual(80);
  // 1,000 VMs (and as many volumes) rendered whole would be tens of thousands of elements.
  expect(opened.nodes).toBeLessThan(3000);

  // Refresh: drift marks on every 10th node, and exactly one frame with state in it.
  await app.page.waitForTimeout(1000); // let late watcher reactions to the growth arrive before counting
  frames.take();
  await cluster.button('Refresh').click();
  const report = app.page.getByRole('region', { name: 'Drift report' });
  await expect(report).toContainText(`${big.drifting.length} differences`, { timeout: 120_000 });
  await expect(cluster.row(big.drifting[0]!)).toContainText('libvirt says SHUTOFF');
  await expect(cluster.button('Refresh')).toBeEnabled({ timeout: 120_000 });
  await app.page.waitForTimeout(1000);
  expect(frames.take()).toEqual(['workspace:changed']);
  expect((await domSize(app.page)).nodes).toBeLessThan(3000);

  // Apply: the recorded state follows libvirt; again one frame, though the state file was written.
  await report.getByRole('button', { name: 'Apply' }).click();
  await expect(cluster.row(big.drifting[0]!)).toContainText('SHUTOFF', { timeout: 120_000 });
  await expect(cluster.button('Refresh')).toBeEnabled({ timeout: 120_000 });
  await app.page.waitForTimeout(1500);
  expect(frames.take()).toEqual(['workspace:changed']);

  // Scrolled to the end, the DOM still holds a window of rows; the last name is whole in its title and name.
  const last = big.computeNames.at(-1)!;
  await app.page.locator('.vscroll').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  const lastRow = cluster.row(last);
  await expect(lastRow).toBeVisible();
  const cell = lastRow.getByRole('cell', { name: last, exact: true });
  await expect(cell).toHaveAttribute('title', last);
  // The distinguishing end is never the part cut off: the tail is rendered whole on its own.
  await expect(cell.locator('span > span').last()).toHaveText(last.slice(-8));
  const scrolled = await domSize(app.page);
  expect(scrolled.rows).toBeLessThanOrEqual(80);
  await app.screenshot('big-cluster-scrolled');
  testInfo.annotations.push({
    type: 'dom',
    description: `opened ${opened.rows} rows / ${opened.nodes} nodes; scrolled ${scrolled.rows} rows / ${scrolled.nodes} nodes`,
  });
});
