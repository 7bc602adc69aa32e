/**
 * Two desks on one PostgreSQL workspace, in Chromium: two `serve` instances with their own data dirs, one cluster
 * whose cluster.yaml names the backend (libvirt test driver). A start on desk A shows on desk B's page (the latency is
 * measured and printed, not asserted); a lock held elsewhere shows as "locked by …" on B and B's mutation is
 * state-locked; once its holder is SIGKILLed, B sees the lock gone and A operates at once; PostgreSQL stopped → B shows the stale banner;
 * restarted → B recovers by itself. Real PostgreSQL (test/support/postgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { createDemoCluster } from '../main/clusters/demo';
import { ROOT, expect, startServe, test, type ServeProcess } from '../test/support/app';
import { postgresUnavailable, startPostgres, type PostgresFixture } from '../test/support/postgres';

const KEY = 'team-demo';

/** A desk: one `serve` with its own data dir, and a Chromium page on it. */
interface Desk {
  readonly serve: ServeProcess;
  readonly page: Page;
}

async function openDesk(browser: Browser, dataDir: string, env: NodeJS.ProcessEnv, config: string): Promise<Desk> {
  const serve = await startServe(dataDir, [], env);
  const page = await (await browser.newContext()).newPage();
  await page.goto(serve.url);
  await page.getByRole('textbox', { name: 'Workspace path' }).fill(config);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('list', { name: 'Workspace list' }).getByRole('button', { name: 'demo', exact: true }).click();
  return { serve, page };
}

const item = (page: Page) =>
  page
    .getByRole('list', { name: 'Workspace list' })
    .getByRole('listitem')
    .filter({ has: page.getByRole('button', { name: 'demo', exact: true }) });
const toolbarButton = (page: Page, name: string) => page.getByRole('toolbar', { name: 'Cluster actions' }).getByRole('button', { name, exact: true });

test.describe('team state on PostgreSQL', () => {
  test('two serves, one workspace: live start, holder, state-locked, takeover after SIGKILL, stale and recovery', async ({ browserForServe }, testInfo) => {
    test.skip(testInfo.project.metadata.host !== 'serve', 'two serve instances in Chromium');
    const why = postgresUnavailable();
    test.skip(why !== null, why ?? '');
    test.setTimeout(300_000);

    const pgf: PostgresFixture = await startPostgres();
    const dir = await mkdtemp(join(tmpdir(), 'cd-e2e-team-'));
    const desks: Desk[] = [];
    let holder: ChildProcess | null = null;
    try {
      const url = `${pgf.url}?schema=team&workspace=${KEY}`;
      const demo = await createDemoCluster(join(dir, 'setup'), join(dir, 'cluster'));
      await writeFile(demo.configFile, (await readFile(demo.configFile, 'utf8')).replace('  pool_path: "pool"', `  pool_path: "pool"\n  backend: "${url}"`));
      const env = { PGPASSFILE: pgf.passfile };
      // Desk B answers a held lock after 1.5 s instead of the default 10 s.
      const dataB = join(dir, 'desk-b');
      await mkdir(dataB, { recursive: true });
      await writeFile(join(dataB, 'config.json'), JSON.stringify({ lockTimeoutMs: 1500 }));
      const a = await openDesk(browserForServe, join(dir, 'desk-a'), env, demo.configFile);
      desks.push(a);
      const b = await openDesk(browserForServe, dataB, env, demo.configFile);
      desks.push(b);
      await expect(b.page.getByTestId('backend-status')).toContainText(`PostgreSQL · ${KEY}`);

      // A start on desk A reaches desk B's page by NOTIFY.
      const t0 = Date.now();
      await toolbarButton(a.page, 'Start').click();
      const seenAt = async (page: Page) => {
        await expect(item(page)).toContainText('running', { timeout: 60_000 });
        return Date.now();
      };
      const [onA, onB] = await Promise.all([seenAt(a.page), seenAt(b.page)]);
      const line = `start clicked on desk A → "running" on A's page ${onA - t0} ms, on B's page ${onB - t0} ms (B after A: ${onB - onA} ms)`;
      process.stdout.write(`[team-backend] ${line}\n`);
      await testInfo.attach('latency', { body: line, contentType: 'text/plain' });

      // Another desk holds the lock (a process mid-operation): B shows the holder; B's Stop gets state-locked.
      holder = spawn(
        join(ROOT, 'node_modules', '.bin', 'tsx'),
        [join(ROOT, 'main', 'state', 'backends', 'pg-child.ts'), JSON.stringify({ mode: 'hold', url: `${pgf.url}?schema=team`, key: KEY })],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      await expect(b.page.getByTestId('backend-status')).toContainText('locked by', { timeout: 60_000 });
      await expect(b.page.getByTestId('backend-status')).toContainText('hold-test, since');
      await b.page.screenshot({ path: testInfo.outputPath('desk-b-locked.png'), fullPage: true });
      await toolbarButton(b.page, 'Stop').click();
      await expect(b.page.getByRole('alert').filter({ hasText: 'state-locked' }).first()).toBeVisible({ timeout: 60_000 });

      // The holder dies mid-operation: its lock goes with its connection; desk A stops the cluster at once.
      process.kill(-holder.pid!, 'SIGKILL');
      holder = null;
      // PostgreSQL sends no word when a holder dies; B notices the lock is gone by itself (checked while one is held).
      await expect(b.page.getByTestId('backend-status')).not.toContainText('locked by', { timeout: 60_000 });
      await toolbarButton(a.page, 'Stop').click();
      await expect(item(a.page)).toContainText('stopped', { timeout: 60_000 });
      await expect(item(b.page)).toContainText('stopped', { timeout: 60_000 });
      await expect(b.page.getByTestId('backend-status')).not.toContainText('locked by');

      // PostgreSQL stops: B keeps the last state, marked stale, with the error naming host:port.
      await pgf.halt();
      const banner = b.page.getByTestId('stale-banner');
      await expect(banner).toContainText('backend-unreachable', { timeout: 60_000 });
      await expect(banner).toContainText(`127.0.0.1:${pgf.port}`);
      await expect(item(b.page)).toContainText('stopped');
      await b.page.screenshot({ path: testInfo.outputPath('desk-b-stale.png'), fullPage: true });

      // Restarted: B reconnects and listens again by itself.
      await pgf.start();
      await expect(banner).toHaveCount(0, { timeout: 90_000 });
      await toolbarButton(a.page, 'Start').click();
      await expect(item(b.page)).toContainText('running', { timeout: 60_000 });
    } finally {
      if (holder?.pid) process.kill(-holder.pid, 'SIGKILL');
      for (const desk of desks) {
        await desk.page.context().close();
        await desk.serve.stop();
      }
      await pgf.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
