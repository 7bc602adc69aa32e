/**
 * The static side of the headless host: compression and caching headers (pure parts), then a real host in its own
 * process serving a built-like folder — compressed bytes that decode to the file, `immutable` only for hashed names,
 * and the CSP still on every answer.
 */
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeChild, type ServeChild } from '../../test/support/serve/child';
import { cacheControlFor, pickEncoding } from './http-host';

describe('pickEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.4', 'gzip'],
    ['br;q=0, gzip;q=0', 'identity'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['identity', 'identity'],
    ['deflate', 'identity'],
  ] as const)('%s → %s', (header, expected) => {
    expect(pickEncoding(header)).toBe(expected);
  });
});

describe('cacheControlFor', () => {
  it('hashed build output is immutable for a year; everything else revalidates', () => {
    expect(cacheControlFor('/assets/index-CWlX5UOd.js')).toBe('public, max-age=31536000, immutable');
    expect(cacheControlFor('/assets/index-BHow-Tmk.css')).toBe('public, max-age=31536000, immutable');
    expect(cacheControlFor('/')).toBe('no-cache');
    expect(cacheControlFor('/index.html')).toBe('no-cache');
    expect(cacheControlFor('/assets/app.js')).toBe('no-cache');
    expect(cacheControlFor('/assets/sub/index-CWlX5UOd.js')).toBe('no-cache');
  });
});

const TOKEN = 'http-host-token-0123456789';
const JS = `console.log(${JSON.stringify('x'.repeat(4000))});\n`.repeat(20);
let dir = '';
let child: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-serve-http-'));
  const staticDir = join(dir, 'static');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title><script src="/assets/index-AbCdEf12.js"></script>');
  await writeFile(join(staticDir, 'assets', 'index-AbCdEf12.js'), JS);
  await writeFile(join(staticDir, 'assets', 'logo-AbCdEf12.png'), Buffer.alloc(300, 7));
  child = await startServeChild(staticDir, join(dir, 'data'), TOKEN);
});

afterAll(async () => {
  await child?.stop();
  await rm(dir, { recursive: true, force: true });
});

function get(
  path: string,
  acceptEncoding?: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: child.port, path, method, headers: acceptEncoding ? { 'Accept-Encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve: compressed, cacheable static files', () => {
  it('a hashed script is sent brotli- or gzip-compressed, immutable, decoding to the file', async () => {
    const br = await get('/assets/index-AbCdEf12.js', 'gzip, deflate, br');
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['vary']).toBe('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(JS.length / 10);
    expect(brotliDecompressSync(br.body).toString()).toBe(JS);
    expect(br.headers['content-security-policy']).toContain("default-src 'none'");

    const gz = await get('/assets/index-AbCdEf12.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(JS);

    const plain = await get('/assets/index-AbCdEf12.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(JS);

    const head = await get('/assets/index-AbCdEf12.js', 'br', 'HEAD');
    expect(head.headers['content-encoding']).toBe('br');
    expect(Number(head.headers['content-length'])).toBe(br.body.length);
    expect(head.body.length).toBe(0);
  });

  it('index.html revalidates (no-cache) and keeps the CSP; images are not recompressed', async () => {
    const index = await get('/', 'br');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(brotliDecompressSync(index.body).toString()).toContain('<title>Clusterdesk</title>');
    const png = await get('/assets/logo-AbCdEf12.png', 'br');
    expect(png.headers['content-encoding']).toBeUndefined();
    expect(png.headers['cache-control']).toContain('immutable');
    expect(png.body.length).toBe(300);
  });

  it('a missing file is still 404 and not cached for good', async () => {
    const missing = await get('/assets/nope-AbCdEf12.js', 'br');
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-store');
  });
});
