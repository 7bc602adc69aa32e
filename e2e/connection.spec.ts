import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, startServe, test, type ServeProcess } from '../test/support/app';

/** Kills the host the hard way (no goodbye to the page) and waits for it to be gone. */
async function kill(serve: ServeProcess): Promise<void> {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    serve.child.once('exit', () => resolve());
    serve.child.kill('SIGKILL');
  });
}

const connected = (page: Page) => page.getByRole('status').filter({ hasText: 'Connected' });
const banner = (page: Page) => page.getByRole('alert', { name: 'Connection' });

test.describe('connection to the headless host', () => {
  test.describe.configure({ timeout: 600_000 });

  test('serve killed → banner, actions disabled → restarted with the same token → reconnects; with a new token → says to open the new URL', async ({
    browserForServe,
  }, testInfo) => {
    test.skip(testInfo.project.metadata.host === 'electron', 'the Electron app has no connection to lose');
    const shot = async (page: Page, name: string) => {
      const path = testInfo.outputPath(`${name}.png`);
      await page.screenshot({ path, fullPage: true });
      await testInfo.attach(name, { path, contentType: 'image/png' });
    };
    const dataDir = await mkdtemp(join(tmpdir(), 'cd-e2e-connection-'));
    const token = 'e2e-connection-token-0123456789abcdef';
    let serve = await startServe(dataDir, ['--token', token]);
    const port = new URL(serve.origin).port;
    const context = await browserForServe.newContext();
    const page = await context.newPage();
    try {
      await page.goto(serve.url);
      await expect(connected(page)).toBeVisible({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Create demo cluster' }).first().click();
      const start = page.getByRole('toolbar', { name: 'demo-1 actions' }).getByRole('button', { name: 'Start', exact: true });
      await expect(start).toBeEnabled({ timeout: 60_000 });
      await expect(banner(page)).toHaveCount(0);

      // The host dies: the page says so, and nothing stale stays clickable.
      await kill(serve);
      await expect(banner(page)).toContainText('is gone', { timeout: 60_000 });
      await expect(banner(page)).toContainText('Actions are disabled');
      await expect(start).toBeDisabled();
      await expect(page.getByRole('button', { name: 'Create demo federation' })).toBeDisabled();
      await expect(page.getByRole('button', { name: 'Settings' })).toBeDisabled();
      await shot(page, 'connection-host-gone');

      // Back on the same port with the same token: the page reconnects by itself and works again.
      serve = await startServe(dataDir, ['--port', port, '--token', token]);
      await expect(connected(page)).toBeVisible({ timeout: 60_000 });
      await expect(banner(page)).toHaveCount(0);
      await expect(start).toBeEnabled();
      await start.click();
      await expect(page.getByRole('list', { name: 'Workspace cards' })).toContainText('running', { timeout: 90_000 });

      // Back with a new token: the page cannot get in, and says what to do.
      await kill(serve);
      await expect(banner(page)).toContainText('is gone', { timeout: 60_000 });
      serve = await startServe(dataDir, ['--port', port]);
      await expect(banner(page)).toContainText('no longer accepts this page’s token', { timeout: 60_000 });
      await expect(banner(page)).toContainText('#token=');
      await expect(page.getByRole('toolbar', { name: 'demo-1 actions' }).getByRole('button', { name: 'Stop', exact: true })).toBeDisabled();
      await shot(page, 'connection-token-changed');

      // Opening the new URL in the same tab (only the fragment changes) gets in.
      await page.goto(serve.url);
      await expect(connected(page)).toBeVisible({ timeout: 60_000 });
      await expect(banner(page)).toHaveCount(0);
    } finally {
      await context.close();
      await kill(serve);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
