/**
 * Hostile input against a host in its own process: each case must get its answer (a status, a close code) and leave
 * the host answering `GET /` and a WebSocket call — a crash shows up as the child exiting.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { assertAlive, frame, rawExchange, rawWebSocket, startServeChild, statusOf, type ServeChild } from '../../test/support/serve/child';

const TOKEN = 'hardening-token-0123456789';
let dir = '';
let child: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-serve-hard-'));
  const staticDir = join(dir, 'static');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title>');
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'outside the static root');
  await symlink(join(dir, 'secret.txt'), join(staticDir, 'leak.txt'));
  await symlink(dir, join(staticDir, 'up'));
  child = await startServeChild(staticDir, join(dir, 'data'), TOKEN);
});

afterAll(async () => {
  await child?.stop();
  await rm(dir, { recursive: true, force: true });
});

const upgrade = (target: string, headers: string[] = []) =>
  [
    `GET ${target} HTTP/1.1`,
    `Host: 127.0.0.1:${child.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...headers,
    '',
    '',
  ].join('\r\n');

describe('serve: unauthenticated requests that used to kill the host', () => {
  it('an upgrade whose cookie holds malformed percent-encoding is refused, not fatal', async () => {
    const answer = await rawExchange(child.port, upgrade('/ws', ['Cookie: clusterdesk_token=%E0%A4%A']));
    // The cookie is no credential at all (see the security model in the README): the upgrade has no token.
    expect(statusOf(answer)).toBe(401);
    await assertAlive(child, TOKEN);
  });

  it('an upgrade whose request target has an invalid port answers 400', async () => {
    const answer = await rawExchange(child.port, upgrade('http://a:99999/ws'));
    expect(statusOf(answer)).toBe(400);
    await assertAlive(child, TOKEN);
  });

  it('plain requests with an unparsable target or a broken header answer 400', async () => {
    expect(statusOf(await rawExchange(child.port, `GET http://a:99999/ HTTP/1.1\r\nHost: 127.0.0.1:${child.port}\r\n\r\n`))).toBe(400);
    expect(statusOf(await rawExchange(child.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${child.port}\r\nBroken header\r\n\r\n`))).toBe(400);
    const broken = upgrade('/ws', [`Authorization: Bearer ${TOKEN}`, 'Sec-WebSocket-Protocol: a b,,c']);
    expect(statusOf(await rawExchange(child.port, broken))).toBe(400);
    await assertAlive(child, TOKEN);
  });
});

describe('serve: WebSocket protocol violations close that socket with the right code', () => {
  const bearer = { Authorization: `Bearer ${TOKEN}` };
  const cases: [string, () => Buffer, number][] = [
    ['an unmasked frame', () => frame(1, Buffer.from('{}'), { mask: false }), 1002],
    ['RSV bits without an extension', () => frame(1, Buffer.from('{}'), { rsv: 4 }), 1002],
    ['reserved opcode 3', () => frame(3, Buffer.from('x')), 1002],
    ['close code 999', () => frame(8, Buffer.from([0x03, 0xe7])), 1002],
    ['invalid UTF-8 in a text frame', () => frame(1, Buffer.from([0x22, 0xff, 0xfe, 0x22])), 1007],
    ['a 2^63 payload length', () => frame(2, Buffer.alloc(0), { length: 2n ** 63n }), 1009],
    ['a message over the size limit (64 MiB announced)', () => frame(1, Buffer.alloc(0), { length: 64n * 1024n * 1024n }), 1009],
  ];
  for (const [name, bytes, code] of cases) {
    it(`${name} → ${code}`, async () => {
      const { socket, closeCode } = await rawWebSocket(child.port, bearer);
      socket.write(bytes());
      expect(await closeCode).toBe(code);
      socket.destroy();
      await assertAlive(child, TOKEN);
    });
  }

  it('a message split into fragments whose sum exceeds the limit → 1009', async () => {
    const { socket, closeCode } = await rawWebSocket(child.port, bearer);
    const piece = Buffer.alloc(1024 * 1024, 0x20);
    // First fragment (FIN clear, opcode text), then continuations until the server closes.
    const first = frame(1, piece);
    first[0] = first[0]! & 0x7f;
    socket.write(first);
    let closed = false;
    void closeCode.then(() => (closed = true));
    // Keep sending until the server closes; once it stops reading, a write may never complete, so race the close.
    while (!closed && !socket.destroyed) {
      const cont = frame(0, piece);
      cont[0] = cont[0]! & 0x7f;
      await Promise.race([new Promise<void>((resolve) => socket.write(cont, () => resolve())), closeCode]);
      // Writes that complete at once never reach the poll phase: yield so the server's close frame can be read.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await closeCode).toBe(1009);
    socket.destroy();
    await assertAlive(child, TOKEN);
  });
});

describe('serve: the credential', () => {
  it('never sets a cookie, and a wrong ?token= with the right cookie overwrites nothing', async () => {
    const res = await fetch(`http://127.0.0.1:${child.port}/?token=attacker-value-0000000000`, {
      headers: { cookie: `clusterdesk_token=${TOKEN}` },
    });
    expect(res.headers.get('set-cookie')).toBeNull();
    await res.arrayBuffer();
    const plain = await fetch(`http://127.0.0.1:${child.port}/?token=${TOKEN}`);
    expect(plain.headers.get('set-cookie')).toBeNull();
    await plain.arrayBuffer();
    await assertAlive(child, TOKEN);
  });

  it('a cookie or a query string is not a credential for the WebSocket', async () => {
    const refused = (url: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          reject(new Error('the upgrade was accepted'));
        });
        ws.once('error', reject);
      });
    expect(await refused(`ws://127.0.0.1:${child.port}/ws`, { cookie: `clusterdesk_token=${TOKEN}` })).toBe(401);
    expect(await refused(`ws://127.0.0.1:${child.port}/ws?token=${TOKEN}`, {})).toBe(401);
    await assertAlive(child, TOKEN);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    const get = `GET / HTTP/1.1\r\nHost: attacker.example:${child.port}\r\nConnection: close\r\n\r\n`;
    expect(statusOf(await rawExchange(child.port, get))).toBe(403);
    const ws = await rawExchange(child.port, upgrade('/ws', [`Authorization: Bearer ${TOKEN}`, 'Origin: http://127.0.0.1:1']));
    expect(statusOf(ws)).toBe(403);
    await assertAlive(child, TOKEN);
  });
});

describe('serve: static files', () => {
  it('a symlink inside the renderer folder that points outside it answers 404', async () => {
    for (const path of ['/leak.txt', '/up/secret.txt']) {
      const res = await fetch(`http://127.0.0.1:${child.port}${path}?token=${TOKEN}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('outside the static root');
    }
    await assertAlive(child, TOKEN);
  });
});
