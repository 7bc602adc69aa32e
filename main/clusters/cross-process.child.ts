/**
 * A separate process for cross-process.test.ts: `tsx cross-process.child.ts <cluster.yaml> <state.json> start|stop|status|refresh`.
 * The CLI runs one process per command, so start in one process and status in the next must agree.
 */
import { simpleContext } from '../operations/types';
import { StateStore } from '../state';
import { createClusterEnv } from './env';
import { clusterStatus, refreshCluster } from './refresh';
import { startCluster } from './start';
import { stopCluster } from './stop';

const [configFile, statePath, action] = process.argv.slice(2) as [string, string, string];
const env = createClusterEnv({ store: new StateStore(), processEnv: {}, stopTimeoutSec: 5, pollIntervalMs: 20 });
const ws = { configFile, statePath };
try {
  let out: unknown;
  if (action === 'start') out = await startCluster(env, ws, simpleContext());
  else if (action === 'stop') out = await stopCluster(env, ws, simpleContext());
  else if (action === 'refresh') out = await refreshCluster(env, ws, simpleContext(), { apply: true });
  else if (action === 'status') out = await clusterStatus(env, ws);
  else throw new Error(`unknown action ${action}`);
  process.stdout.write(JSON.stringify({ pid: process.pid, out }));
} finally {
  await env.dispose();
}
