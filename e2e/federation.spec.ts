import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '../test/support/app';
import { stopDemoLeftovers } from '../test/support/demo-leftovers';
import { FederationPage } from './pages/federation-page';
import { WorkspacesPage } from './pages/workspaces-page';

const MACHINES = ['server1', 'site-1', 'site-2'];

test.describe('federation', () => {
  test.afterEach(async ({ app }) => {
    await stopDemoLeftovers(app.dataDir);
  });

  test('demo federation: create → start → probe → stop → clean', async ({ app }) => {
    const fed = new FederationPage(app);
    const ws = new WorkspacesPage(app);
    await fed.createDemo();
    const item = ws.item('federation-1');
    await expect(item).toContainText('clean');
    await ws.select('federation-1');
    await expect(fed.button('Start')).toBeEnabled();
    await expect(fed.button('Stop')).toBeDisabled();
    await app.screenshot('federation-demo-clean');

    await fed.button('Start').click();
    await expect(item).toContainText('running');
    await expect(fed.machineRows()).toHaveCount(MACHINES.length);
    for (const m of MACHINES) {
      await expect(fed.row(m)).toContainText('local');
      await expect(fed.row(m)).toContainText('/tmp/clusterdesk-');
      await expect(fed.row(m)).toContainText('running');
    }
    await app.screenshot('federation-running');

    // The participants write pid.fl a moment after launch: probe until every one answers "process alive".
    // The last log line is a heartbeat once the supervisor's own start-up lines are behind it: probe again until so.
    await expect(async () => {
      await fed.button('Probe').click();
      for (const m of MACHINES) await expect(fed.row(m)).toContainText('process alive', { timeout: 1000 });
      await expect(fed.row('site-1')).toContainText('heartbeat', { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await app.screenshot('federation-probed');

    await fed.button('Stop').click();
    await expect(item).toContainText('dirty');
    await expect(fed.machineRows()).toHaveCount(MACHINES.length);
    await expect(fed.button('Stop')).toBeDisabled();
    await app.screenshot('federation-dirty');

    await fed.clean('federation-1');
    await expect(item).toContainText('clean');
    await expect(fed.machines()).toHaveCount(0);
    await expect(app.page.getByText('No machines recorded')).toBeVisible();
    await app.screenshot('federation-cleaned');
    const demo = join(app.dataDir, 'demos', 'federation-1');
    expect(await readdir(demo)).not.toContain('.refedez');
  });
});
