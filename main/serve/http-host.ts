import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { WS_PATH } from '../../preload/wire';
import { AppError } from '../errors';
import { checkToken, hostAllowed, isWildcardHost, originAllowed } from './auth';
import type { WebSocketTransport } from '../ipc/ws-transport';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Sent with every response: the same policy as the page's CSP meta tag, plus framing and sniffing protection. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Text types worth compressing; images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json']);
/** A file larger than this is sent as it is (the renderer's largest is ~320 kB minified). */
const MAX_COMPRESS_BYTES = 8 * 1024 * 1024;
/** Bound on the compressed copies kept in memory (entries; each the compressed form of one built file). */
const MAX_CACHED = 64;

export type ContentEncoding = 'br' | 'gzip' | 'identity';

/**
 * The encoding to answer with for an `Accept-Encoding` header: brotli, then gzip, honouring `q=0` (refused) and
 * the `*` wildcard; identity when nothing acceptable is offered.
 */
export function pickEncoding(header: string | undefined): ContentEncoding {
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    q.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weight = (name: string) => q.get(name) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gz = weight('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return 'identity';
}

/** A name the build gave a content hash (`assets/index-CWlX5UOd.js`): its bytes never change under that name. */
const HASHED = /^\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * The `Cache-Control` for a static path: hashed build output is cached for a year and never revalidated; everything
 * else (index.html, which names the current hashes) is revalidated on every load.
 */
export function cacheControlFor(pathname: string): string {
  return HASHED.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Compressed copies of built files, keyed by real path, size, mtime and encoding; oldest dropped past MAX_CACHED. */
const compressedCache = new Map<string, Buffer>();

async function compressedCopy(key: string, encoding: 'br' | 'gzip', read: () => Promise<Buffer>): Promise<Buffer> {
  const cacheKey = `${encoding}\0${key}`;
  const hit = compressedCache.get(cacheKey);
  if (hit) return hit;
  const raw = await read();
  const out =
    encoding === 'br'
      ? await brotli(raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
      : await gzipAsync(raw, { level: 9 });
  compressedCache.set(cacheKey, out);
  while (compressedCache.size > MAX_CACHED) compressedCache.delete(compressedCache.keys().next().value!);
  return out;
}

export interface HttpHostOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** The built renderer (`out/renderer`). */
  readonly staticDir: string;
  readonly transport: WebSocketTransport;
}

export interface HttpHost {
  readonly server: Server;
  readonly port: number;
  /** The URL to open: the token rides in the fragment, which the browser never sends to any server. */
  readonly url: string;
  close(): Promise<void>;
}

/** A bare HTTP answer on a socket that has no `ServerResponse` (refused upgrades, unparsable requests). */
function rawAnswer(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The headless host's HTTP side: serves the built renderer to anyone who names it by one of its own addresses (it holds
 * no secret) and upgrades `/ws` to the IPC WebSocket after checking Host, Origin and the token. See "Security model"
 * in the README.
 */
export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  assertBindable(opts.host);
  const names = { hosts: [] as string[], origins: [] as string[] };
  const server = createServer((req, res) => {
    void serveRequest(req, res, opts, names.hosts).catch(() => {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    });
  });
  // Requests Node's parser rejects (bad request line or header, oversized headers): answer and close, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET') return void socket.destroy();
    rawAnswer(socket, err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, err.code === 'HPE_HEADER_OVERFLOW' ? 'Request Header Fields Too Large' : 'Bad Request');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own error handler from an upgraded socket: a reset during the answer must not be unhandled.
    socket.on('error', () => socket.destroy());
    const path = requestPath(req.url);
    if (path === null) return rawAnswer(socket, 400, 'Bad Request');
    if (path !== WS_PATH) return rawAnswer(socket, 404, 'Not Found');
    if (!hostAllowed(req.headers.host, names.hosts)) return rawAnswer(socket, 403, 'Forbidden');
    if (!originAllowed(req.headers.origin, names.origins)) return rawAnswer(socket, 403, 'Forbidden');
    const verdict = checkToken(opts.token, { protocol: req.headers['sec-websocket-protocol'], authorization: req.headers.authorization });
    if (verdict !== 'ok') return rawAnswer(socket, verdict === 'missing' ? 401 : 403, verdict === 'missing' ? 'Unauthorized' : 'Forbidden');
    opts.transport.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (an accept failing for lack of file descriptors) is logged; the host keeps serving.
  server.on('error', (err: NodeJS.ErrnoException) => process.stderr.write(`clusterdesk serve: ${err.code ?? 'error'}: ${err.message}\n`));
  const port = (server.address() as AddressInfo).port;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const hostNames = [...new Set([urlHost, 'localhost', '127.0.0.1'].map((h) => h.toLowerCase()))];
  names.hosts = hostNames.flatMap((h) => (port === 80 ? [`${h}:80`, h] : [`${h}:${port}`]));
  names.origins = hostNames.flatMap((h) => (port === 80 ? [`http://${h}:80`, `http://${h}`] : [`http://${h}:${port}`]));
  return {
    server,
    port,
    url: `http://${urlHost}:${port}/#token=${encodeURIComponent(opts.token)}`,
    close: async () => {
      await opts.transport.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Refuses wildcard addresses (0.0.0.0, ::) with the addresses to use instead; see `isWildcardHost`. */
export function assertBindable(host: string): void {
  if (isWildcardHost(host)) throw wildcardRefused(host);
}

function wildcardRefused(host: string): AppError {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  return new AppError(
    'invalid-argument',
    `--host ${host} would listen on every interface; Clusterdesk binds one address, so that it knows the one origin its page may come from.`,
    {
      hint: `Pass the address to serve on${addresses.length ? ` (this machine has ${addresses.join(', ')})` : ''}, e.g. --host ${addresses[0] ?? '192.168.1.4'}, and open the URL it prints.`,
    },
  );
}

/** The path of an origin-form request target (`/ws?x` → `/ws`); null for anything else or anything unparsable. */
export function requestPath(target: string | undefined): string | null {
  if (!target?.startsWith('/') || target.startsWith('//')) return null;
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return null;
  }
}

async function serveRequest(req: IncomingMessage, res: ServerResponse, opts: HttpHostOptions, hosts: readonly string[]): Promise<void> {
  const text = (status: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS, ...extra });
    res.end(body);
  };
  const path = requestPath(req.url);
  if (path === null) return text(400, 'Bad request\n', { Connection: 'close' });
  if (!hostAllowed(req.headers.host, hosts))
    return text(403, 'Clusterdesk: open the URL printed by `npm run serve`; this host does not answer to that name.\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, '', { Allow: 'GET, HEAD' });
  const file = await openStatic(opts.staticDir, path);
  if (!file) return text(404, 'Not found\n');
  const headers: Record<string, string | number> = {
    'Content-Type': MIME[file.ext] ?? 'application/octet-stream',
    ...SECURITY_HEADERS,
    'Cache-Control': cacheControlFor(path),
  };
  const compressible = COMPRESSIBLE.has(file.ext) && file.size <= MAX_COMPRESS_BYTES;
  if (compressible) headers.Vary = 'Accept-Encoding';
  const encoding = compressible ? pickEncoding(req.headers['accept-encoding']) : 'identity';
  if (encoding !== 'identity') {
    let body: Buffer;
    try {
      body = await compressedCopy(`${file.real}\0${file.size}\0${file.mtimeMs}`, encoding, () => file.handle.readFile());
    } finally {
      await file.handle.close().catch(() => undefined);
    }
    res.writeHead(200, { ...headers, 'Content-Encoding': encoding, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': file.size });
  if (req.method === 'HEAD') {
    res.end();
    await file.handle.close();
    return;
  }
  pipeline(file.handle.createReadStream(), res, () => undefined);
}

/** Maps a URL path into the static folder, lexically; null for anything that would escape it. */
export function resolveStatic(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const full = normalize(join(root, rel));
  const base = normalize(root).replace(/[\\/]+$/, '') + sep;
  return full.startsWith(base) ? full : null;
}

/**
 * Opens a static file for a URL path: the lexical check, then `realpath` of both the folder and the file, so a symlink
 * inside the folder that points outside it is refused too. Only regular files (opened non-blocking, so a FIFO cannot
 * hang the open). Null when there is nothing to serve.
 */
export async function openStatic(
  root: string,
  pathname: string,
): Promise<{ handle: FileHandle; size: number; ext: string; real: string; mtimeMs: number } | null> {
  const lexical = resolveStatic(root, pathname);
  if (!lexical) return null;
  let rootReal: string;
  let real: string;
  try {
    [rootReal, real] = await Promise.all([realpath(root), realpath(lexical)]);
  } catch {
    return null;
  }
  if (!real.startsWith(rootReal.replace(/[\\/]+$/, '') + sep)) return null;
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return { handle, size: info.size, ext: extname(lexical), real, mtimeMs: info.mtimeMs };
  } catch {
    // fall through: close and refuse
  }
  await handle.close().catch(() => undefined);
  return null;
}
