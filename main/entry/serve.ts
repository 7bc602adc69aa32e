/**
 * `npm run serve` — the headless host: the same services and IPC handlers as the desktop app, over a WebSocket, with
 * the same renderer served to a browser.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_VERSION } from '../compose';
import { AppError } from '../errors';
import { isLoopbackHost, isWildcardHost, startServe } from '../serve/serve';
import { redactText } from '../secrets/redact';
import { resolveDataDir } from '../settings/settings';

/**
 * How long a signalled `serve` may spend closing before it exits anyway: longer than the 30 s `services.close()` gives
 * cancelled operations to reach a checkpoint and release their locks, so a clean stop never leaves a lock behind.
 */
const SHUTDOWN_GRACE_MS = 35_000;

const USAGE = `Usage: npm run serve -- [options]

Serves Clusterdesk to a browser on this machine.

Options:
  --port N          port to listen on (default: a free one)
  --host ADDR       the one address to bind (default 127.0.0.1; a LAN address prints a warning;
                    0.0.0.0 and :: are refused: open the page by the address you bind)
  --token TOKEN     access token (default: random per start)
  --data-dir DIR    settings and app data (default: $CLUSTERDESK_DATA_DIR or the platform config folder)
  --version         print the version
  --help            print this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'data-dir': { type: 'string' },
      version: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`${APP_VERSION}\n`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const host = values.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !isWildcardHost(host)) {
    process.stderr.write(`warning: binding ${host}, which is not a loopback address: anyone who can reach it and has the token can operate your clusters.\n`);
  }
  if (values.token !== undefined && values.token.length < 16) throw new Error('--token must be at least 16 characters.');
  const dataDir = resolveDataDir(values['data-dir'], process.env);
  // Signals, from the first moment: during start-up nothing is held, so exit at once; once serving, close (which
  // cancels running operations and releases their locks) but never wait longer than SHUTDOWN_GRACE_MS; a second
  // signal exits at once.
  let running: Awaited<ReturnType<typeof startServe>> | null = null;
  let closing = false;
  const shutdown = (signal: 'SIGINT' | 'SIGTERM') => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (closing || !running) process.exit(code);
    closing = true;
    process.stdout.write(`Received ${signal}, shutting down.\n`);
    setTimeout(() => {
      process.stderr.write(`clusterdesk serve: still closing after ${SHUTDOWN_GRACE_MS / 1000} s; exiting.\n`);
      process.exit(code);
    }, SHUTDOWN_GRACE_MS).unref();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  running = await startServe({
    host,
    port,
    ...(values.token ? { token: values.token } : {}),
    dataDir,
    staticDir: join(import.meta.dirname, '..', 'renderer'),
  });
  process.stdout.write(`Clusterdesk is serving at ${running.url}\n`);
}

main().catch((err: unknown) => {
  const hint = err instanceof AppError && err.fields.hint ? `\n${err.fields.hint}` : '';
  process.stderr.write(`clusterdesk serve: ${redactText(`${err instanceof Error ? err.message : String(err)}${hint}`)}\n`);
  process.exit(2);
});
