import WebSocket from 'ws';
import type { Channel, InvokeArg, InvokeResult, Result } from '../../../preload/contract';

/**
 * One invoke against a running `serve` as a non-browser client (Bearer token), waiting for the result with its id —
 * events the host broadcasts meanwhile are skipped. For what only IPC shows (the tray's template, a tray click).
 */
export async function serveInvoke<C extends Channel>(origin: string, token: string, channel: C, arg: InvokeArg<C>): Promise<Result<InvokeResult<C>>> {
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return await new Promise((resolve, reject) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; id?: number; result?: Result<InvokeResult<C>> };
        if (msg.type === 'result' && msg.id === 1 && msg.result) resolve(msg.result);
      });
      ws.once('close', (code) => reject(new Error(`closed ${code}`)));
      ws.send(JSON.stringify({ type: 'invoke', id: 1, channel, arg }));
    });
  } finally {
    ws.close();
  }
}
