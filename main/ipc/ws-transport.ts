import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerMessage } from '../../preload/wire';
import { dispatch, type DispatchLog, type HandlerTable } from './dispatch';
import type { EventHub } from './events';

/** The largest message a client may send; invokes are small (paths, ids, an imported bundle). */
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/**
 * Binds the handler table to WebSocket clients: `{type:'invoke',id,channel,arg}` in, `{type:'result',id,result}` and
 * `{type:'event',event,payload}` out. Authentication happens before the upgrade (see `http-host.ts`).
 */
export class WebSocketTransport {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly unsubscribe: () => void;

  constructor(
    private readonly table: HandlerTable,
    events: EventHub,
    private readonly log?: DispatchLog,
  ) {
    this.unsubscribe = events.subscribe((event, payload) => {
      const text = JSON.stringify({ type: 'event', event, payload } satisfies ServerMessage);
      for (const client of this.wss.clients) if (client.readyState === client.OPEN) client.send(text);
    });
    this.wss.on('connection', (socket) => this.onConnection(socket));
  }

  /** Completes an already-authenticated upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  /** Closes every client and stops broadcasting. */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const client of this.wss.clients) client.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.close(1003, 'text frames only');
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return socket.close(1007, 'invalid JSON');
      }
      if (!isInvoke(msg)) return socket.close(1008, 'unexpected message');
      void dispatch(this.table, msg.channel, msg.arg, this.log).then((result) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'result', id: msg.id, result } as ServerMessage));
      });
    });
  }
}

function isInvoke(msg: unknown): msg is { type: 'invoke'; id: number; channel: unknown; arg: unknown } {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  return m.type === 'invoke' && typeof m.id === 'number' && Number.isSafeInteger(m.id);
}
