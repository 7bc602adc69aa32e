/**
 * A headless host in its own process, for tests that must see whether input kills it: a crash shows up as the child
 * exiting, not as an error swallowed by the test runner. argv: staticDir dataDir token [host].
 */
import { startServe } from '../../../main/serve/serve';

const [staticDir, dataDir, token, host] = process.argv.slice(2);
if (!staticDir || !dataDir || !token) throw new Error('usage: serve-child STATIC_DIR DATA_DIR TOKEN [HOST]');
const running = await startServe({ host: host ?? '127.0.0.1', port: 0, token, dataDir, staticDir });
process.stdout.write(`LISTENING ${running.port} ${running.url}\n`);
process.on('SIGTERM', () => {
  void running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
