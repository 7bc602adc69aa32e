import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '../compose';
import { WebSocketTransport } from '../ipc/ws-transport';
import { createHandlerTable } from '../ipc/table';
import { startAutoRefresh } from '../workspaces/auto-refresh';
import { confBackend } from '../settings/conf-backend';
import type { AppServices } from '../services';
import { isLoopbackHost, isWildcardHost } from './auth';
import { assertBindable, startHttpHost, type HttpHost } from './http-host';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly dataDir: string;
  readonly staticDir: string;
}

export interface RunningServe {
  readonly url: string;
  readonly port: number;
  readonly services: AppServices;
  readonly http: HttpHost;
  close(): Promise<void>;
}

/** Starts the headless host: the app's services, the handler table over WebSocket, and the built renderer. */
export async function startServe(opts: ServeOptions): Promise<RunningServe> {
  assertBindable(opts.host);
  if (!existsSync(join(opts.staticDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${opts.staticDir}/index.html is missing). Run \`npm run build\` first.`);
  }
  const services = await composeServices({ dataDir: opts.dataDir, settingsBackend: confBackend(opts.dataDir), host: 'serve' });
  const table = createHandlerTable(services);
  const transport = new WebSocketTransport(table, services.events);
  const token = opts.token ?? randomBytes(24).toString('base64url');
  let http: HttpHost;
  try {
    http = await startHttpHost({ host: opts.host, port: opts.port, token, staticDir: opts.staticDir, transport });
  } catch (err) {
    services.dispose();
    await transport.close();
    throw err;
  }
  const stopAutoRefresh = startAutoRefresh(table, services);
  return {
    url: http.url,
    port: http.port,
    services,
    http,
    // Running operations are cancelled and awaited first (their locks released, the state at its last checkpoint),
    // while the sockets are still open to carry their last progress; then the transport and the HTTP server close.
    close: async () => {
      stopAutoRefresh();
      await services.close();
      await http.close();
    },
  };
}

export { isLoopbackHost, isWildcardHost };
