/**
 * The worker side of `off-thread.ts`: parses and validates configs away from the main event loop, so one client's
 * huge cluster.yaml never stalls another client's calls in `serve` (or the desktop window).
 */
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '../errors';
import type { WorkerReply, WorkerRequest } from './protocol';
import { handleTask } from './tasks';

const port = parentPort;
if (!port) throw new Error('config-worker must run in a worker thread');
port.on('message', (req: WorkerRequest) => {
  void (async () => {
    let reply: WorkerReply;
    try {
      reply = { id: req.id, ok: true, value: await handleTask(req.task) };
    } catch (err) {
      reply = { id: req.id, ok: false, error: toErrorData(err) };
    }
    port.postMessage(reply);
  })();
});
