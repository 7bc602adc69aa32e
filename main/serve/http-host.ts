import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { TOKEN_COOKIE, WS_PATH } from '../../preload/wire';
import { checkToken, originAllowed } from './auth';
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
  /** The URL to open, token included. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The headless host's HTTP side: serves the built renderer and upgrades `/ws` to the IPC WebSocket, after checking
 * the token on every request and the Origin on every upgrade.
 */
export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  let allowedOrigins: string[] = [];
  const server = createServer((req, res) => {
    void serveRequest(req, res, opts).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found');
    const verdict = checkToken(opts.token, url, { cookie: req.headers.cookie, authorization: req.headers.authorization });
    if (verdict !== 'ok') return refuse(verdict === 'missing' ? 401 : 403, verdict === 'missing' ? 'Unauthorized' : 'Forbidden');
    if (!originAllowed(req.headers.origin, allowedOrigins)) return refuse(403, 'Forbidden');
    opts.transport.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  allowedOrigins = [`http://${urlHost}:${port}`, `http://localhost:${port}`, `http://127.0.0.1:${port}`].map((o) => o.toLowerCase());
  return {
    server,
    port,
    url: `http://${urlHost}:${port}/?token=${encodeURIComponent(opts.token)}`,
    close: async () => {
      await opts.transport.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function serveRequest(req: IncomingMessage, res: ServerResponse, opts: HttpHostOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const verdict = checkToken(opts.token, url, { cookie: req.headers.cookie, authorization: req.headers.authorization });
  if (verdict !== 'ok') {
    const status = verdict === 'missing' ? 401 : 403;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    res.end(
      verdict === 'missing'
        ? 'Clusterdesk: this host needs its access token. Open the URL printed by `npm run serve` (it ends in ?token=…).\n'
        : 'Clusterdesk: wrong access token.\n',
    );
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', ...SECURITY_HEADERS });
    res.end();
    return;
  }
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  const queryToken = url.searchParams.get('token');
  if (queryToken) {
    // The page's own scripts and styles are loaded without the query string; the cookie carries the token for them.
    headers['Set-Cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(queryToken)}; Path=/; HttpOnly; SameSite=Strict`;
  }
  const file = resolveStatic(opts.staticDir, url.pathname);
  const info = file ? await stat(file).catch(() => null) : null;
  if (!file || !info?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end('Not found\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size, ...headers });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

/** Maps a URL path into the static folder; null for anything that would escape it. */
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
