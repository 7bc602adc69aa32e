import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { WS_MAX_FRAME_BYTES, WS_MAX_MESSAGE_CHARS, WS_PROTOCOL, type ServerMessage } from '../../preload/wire';
import { dispatch, type DispatchLog, type HandlerTable } from './dispatch';
import { wirePayload, type EventHub } from './events';

/** One line per closed-for-cause socket (protocol violation, oversized or malformed message). */
export type TransportWarn = (line: string) => void;

const defaultWarn: TransportWarn = (line) => void process.stderr.write(`clusterdesk serve: ${line}\n`);

/** A chunked invoke being reassembled (see `WireChunk`). */
interface Assembly {
  readonly id: number;
  next: number;
  chars: number;
  readonly parts: string[];
}

/** How many chunked invokes one connection may have in flight at once (together bounded by `WS_MAX_MESSAGE_CHARS`). */
const MAX_ASSEMBLIES = 4;

/**
 * Binds the handler table to WebSocket clients: `{type:'invoke',id,channel,arg}` (or its `chunk` pieces) in,
 * `{type:'result',id,result}` and `{type:'event',event,payload}` out. Authentication happens before the upgrade (see
 * `main/serve/http-host.ts`).
 *
 * Nothing a client sends can take the host down: protocol violations (ws closes with 1002/1007/1009) and malformed
 * messages close that one socket with the matching code and log one line; every handler result is serialized under a
 * guard.
 */
export class WebSocketTransport {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_FRAME_BYTES,
    // Select our protocol, never echo another entry: the token itself travels as one of the offered entries.
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  private readonly unsubscribe: () => void;

  constructor(
    private readonly table: HandlerTable,
    events: EventHub,
    private readonly log?: DispatchLog,
    private readonly warn: TransportWarn = defaultWarn,
  ) {
    // Serialized once per event, into one buffer every client is sent (ws frames it without copying it per client).
    this.unsubscribe = events.subscribe((event, payload) => {
      if (this.wss.clients.size === 0) return;
      let frame: Buffer;
      try {
        frame = Buffer.from(JSON.stringify({ type: 'event', event, payload: wirePayload(event, payload) } satisfies ServerMessage));
      } catch (err) {
        return this.warn(`event ${event} could not be serialized: ${String(err)}`);
      }
      for (const client of this.wss.clients) if (client.readyState === client.OPEN) client.send(frame, { binary: false });
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
    // ws has already sent the close frame with the violation's code (1002, 1007, 1009) when it emits 'error'.
    socket.on('error', (err: Error & { code?: string }) => this.warn(`closed a WebSocket: ${err.code ?? 'error'}: ${err.message}`));
    const assemblies = new Map<number, Assembly>();
    let pendingChars = 0;
    let refused = false;
    const refuse = (code: number, reason: string) => {
      this.warn(`closed a WebSocket (${code}): ${reason}`);
      refused = true;
      assemblies.clear();
      socket.close(code, reason);
    };
    socket.on('message', (data: RawData, isBinary: boolean) => {
      // Frames that arrive during the closing handshake after a refusal are dropped.
      if (refused) return;
      if (isBinary) return refuse(1003, 'text frames only');
      const msg = parseJson(data.toString());
      if (msg === undefined) return refuse(1007, 'invalid JSON');
      if (isChunk(msg)) {
        let a = assemblies.get(msg.id);
        if (!a) {
          if (msg.seq !== 0) return refuse(1008, 'chunk out of order');
          if (assemblies.size >= MAX_ASSEMBLIES) return refuse(1008, 'too many chunked messages at once');
          a = { id: msg.id, next: 0, chars: 0, parts: [] };
          assemblies.set(msg.id, a);
        }
        if (msg.seq !== a.next) return refuse(1008, 'chunk out of order');
        a.next += 1;
        a.chars += msg.data.length;
        pendingChars += msg.data.length;
        if (pendingChars > WS_MAX_MESSAGE_CHARS) return refuse(1009, `chunked messages over ${WS_MAX_MESSAGE_CHARS} characters`);
        a.parts.push(msg.data);
        if (!msg.last) return;
        assemblies.delete(msg.id);
        pendingChars -= a.chars;
        const whole = parseJson(a.parts.join(''));
        if (whole === undefined) return refuse(1007, 'invalid JSON in a chunked message');
        if (!isInvoke(whole) || whole.id !== msg.id) return refuse(1008, 'unexpected chunked message');
        return this.run(socket, whole);
      }
      if (!isInvoke(msg)) return refuse(1008, 'unexpected message');
      this.run(socket, msg);
    });
  }

  private run(socket: WebSocket, msg: { id: number; channel: unknown; arg: unknown }): void {
    void dispatch(this.table, msg.channel, msg.arg, this.log).then((result) => {
      if (socket.readyState !== socket.OPEN) return;
      let text: string;
      try {
        text = JSON.stringify({ type: 'result', id: msg.id, result } as ServerMessage);
      } catch (err) {
        this.warn(`result of ${String(msg.channel)} could not be serialized: ${String(err)}`);
        text = JSON.stringify({
          type: 'result',
          id: msg.id,
          result: {
            ok: false,
            error: { code: 'internal', message: 'The result could not be sent.', hint: 'This is a bug in Clusterdesk; please report it with the log.' },
          },
        } satisfies ServerMessage);
      }
      socket.send(text);
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isInvoke(msg: unknown): msg is { type: 'invoke'; id: number; channel: unknown; arg: unknown } {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  return m.type === 'invoke' && typeof m.id === 'number' && Number.isSafeInteger(m.id);
}

function isChunk(msg: unknown): msg is { type: 'chunk'; id: number; seq: number; last: boolean; data: string } {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  return (
    m.type === 'chunk' &&
    typeof m.id === 'number' &&
    Number.isSafeInteger(m.id) &&
    typeof m.seq === 'number' &&
    Number.isSafeInteger(m.seq) &&
    typeof m.last === 'boolean' &&
    typeof m.data === 'string'
  );
}
