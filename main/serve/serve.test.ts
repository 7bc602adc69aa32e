import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Channel, InvokeArg, Result, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { WS_PROTOCOL, wsTokenProtocol, type ServerMessage } from '../../preload/wire';
import { startServe, type RunningServe } from './serve';

let dir = '';
let serve: RunningServe;
const TOKEN = 'test-token-0123456789abcdef';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-serve-'));
  const staticDir = join(dir, 'static');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title>');
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'outside the static root');
  serve = await startServe({ host: '127.0.0.1', port: 0, token: TOKEN, dataDir: join(dir, 'data'), staticDir });
});

afterAll(async () => {
  await serve?.close();
  await rm(dir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${serve.port}`;

/** A WebSocket client speaking the wire format. */
async function connect(opts: { token?: string; origin?: string } = {}) {
  const token = opts.token ?? TOKEN;
  // What the page does: the token as a subprotocol entry next to ours.
  const ws = new WebSocket(
    `ws://127.0.0.1:${serve.port}/ws`,
    token ? [WS_PROTOCOL, wsTokenProtocol(token)] : [WS_PROTOCOL],
    opts.origin ? { origin: opts.origin } : {},
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, (r: Result<unknown>) => void>();
  const events: ServerMessage[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as ServerMessage;
    if (msg.type === 'result') waiting.get(msg.id)?.(msg.result);
    else events.push(msg);
  });
  return {
    ws,
    events,
    invoke: <C extends Channel>(channel: C | string, arg: InvokeArg<C> | unknown) =>
      new Promise<Result<unknown>>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, arg }));
      }),
  };
}

describe('serve: HTTP', () => {
  it('prints a URL whose token is in the fragment, which browsers never send', () => {
    expect(serve.url).toBe(`http://127.0.0.1:${serve.port}/#token=${TOKEN}`);
  });

  it('serves the app and its assets without a token (they hold none), and never sets a cookie', async () => {
    const res = await fetch(`${base()}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).toContain('<title>Clusterdesk</title>');
    expect(html).not.toContain(TOKEN);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const asset = await fetch(`${base()}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base()}/`, { method: 'POST' })).status).toBe(405);
  });

  it('never serves files outside the static folder', async () => {
    const res = await fetch(`${base()}/..%2Fsecret.txt`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('outside the static root');
  });
});

describe('serve: WebSocket IPC', () => {
  it('refuses upgrades without the token or from a foreign origin', async () => {
    await expect(connect({ token: '' })).rejects.toThrow('HTTP 401');
    await expect(connect({ token: 'nope-nope-nope-nope' })).rejects.toThrow('HTTP 403');
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    const ok = await connect({ origin: base() });
    // The server selects its protocol and never echoes the token entry.
    expect(ok.ws.protocol).toBe(WS_PROTOCOL);
    ok.ws.close();
  });

  it('answers app:info and validates channels and arguments', async () => {
    const c = await connect();
    const info = await c.invoke('app:info', {});
    expect(info).toMatchObject({ ok: true, value: { name: 'Clusterdesk', host: 'serve' } });
    expect(await c.invoke('no:such', {})).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await c.invoke('workspaces:add', { path: 42 })).toMatchObject({ ok: false, error: { code: 'invalid-argument', field: 'path' } });
    c.ws.close();
  });

  it('reads and changes settings, validating ranges, and applies them at once', async () => {
    const c = await connect();
    expect(await c.invoke('settings:get', {})).toMatchObject({ ok: true, value: { historyLimit: 10, stopTimeoutSec: 60, parallelism: 8 } });
    expect(await c.invoke('settings:set', { historyLimit: 0 })).toMatchObject({ ok: false, error: { code: 'invalid-argument', field: 'historyLimit' } });
    expect(await c.invoke('settings:set', { password: 'x' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await c.invoke('settings:set', { historyLimit: 25, stopTimeoutSec: 5 })).toMatchObject({ ok: true, value: { historyLimit: 25, stopTimeoutSec: 5 } });
    expect(serve.services.store.historyLimit).toBe(25);
    const saved = JSON.parse(await readFile(join(dir, 'data', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ historyLimit: 25, stopTimeoutSec: 5 });
    c.ws.close();
  });

  it('adds workspaces by kind, reports unknown folders, and survives a corrupt state', async () => {
    const c = await connect();
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const unknown = await c.invoke('workspaces:add', { path: empty });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'workspace-unknown', path: empty } });
    expect(unknown.ok ? '' : unknown.error.message).toContain('refedez.yaml');

    const fed = join(dir, 'fed');
    await mkdir(fed);
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const added = (await c.invoke('workspaces:add', { path: fed })) as Result<WorkspaceEntry>;
    expect(added).toMatchObject({ ok: true, value: { kind: 'federation', name: 'fed' } });
    const id = added.ok ? added.value.id : '';
    expect(await c.invoke('workspace:snapshot', { workspaceId: id })).toMatchObject({ ok: true, value: { status: 'clean', error: null } });
    expect(c.events.some((e) => e.type === 'event' && e.event === 'workspaces:changed')).toBe(true);

    await mkdir(join(fed, '.refedez'));
    await writeFile(join(fed, '.refedez', 'state.json'), '{ this is not json');
    const snap = (await c.invoke('workspace:snapshot', { workspaceId: id })) as Result<WorkspaceSnapshot>;
    expect(snap).toMatchObject({ ok: false, error: { code: 'state-corrupt', path: join(fed, '.refedez', 'state.json') } });
    // The host is still up and answering.
    expect(await c.invoke('workspaces:list', {})).toMatchObject({ ok: true });
    expect(await c.invoke('workspaces:remove', { workspaceId: id })).toMatchObject({ ok: true, value: { removed: true } });
    c.ws.close();
  });
});
