/**
 * The WebSocket wire format of the headless host (`serve`). The Electron transport does not use it: there the same
 * invoke/event pairs travel over `ipcRenderer.invoke` and `webContents.send`.
 */
import type { Channel, EventName, EventMap, InvokeArg, InvokeResult, Result } from './contract';

/** Client → server: call one channel. `id` pairs the reply. */
export interface WireInvoke<C extends Channel = Channel> {
  readonly type: 'invoke';
  readonly id: number;
  readonly channel: C;
  readonly arg: InvokeArg<C>;
}

/** Server → client: the result of one invoke. */
export interface WireResult<C extends Channel = Channel> {
  readonly type: 'result';
  readonly id: number;
  readonly result: Result<InvokeResult<C>>;
}

/** Server → client: an event for every connected client. */
export interface WireEvent<E extends EventName = EventName> {
  readonly type: 'event';
  readonly event: E;
  readonly payload: EventMap[E];
}

/**
 * Client → server: one piece of an invoke too big for one frame. The pieces of message `id` arrive in order (`seq` from
 * 0); their `data` strings joined are the invoke's JSON text, which the server parses once `last` is true. Frames stay
 * far below the server's frame limit whatever the argument (see `WS_CHUNK_CHARS`).
 */
export interface WireChunk {
  readonly type: 'chunk';
  readonly id: number;
  readonly seq: number;
  readonly last: boolean;
  readonly data: string;
}

export type ClientMessage = WireInvoke | WireChunk;
export type ServerMessage = WireResult | WireEvent;

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/**
 * The subprotocol the server selects. A browser client offers it together with `wsTokenProtocol(token)`: the token
 * travels in the `Sec-WebSocket-Protocol` handshake header (never a cookie, never a query string that lands in logs),
 * and the server never echoes it back.
 */
export const WS_PROTOCOL = 'clusterdesk.v1';
/** Prefix of the subprotocol that carries the token (hex of its UTF-8 bytes, so any token is a valid header token). */
export const WS_TOKEN_PROTOCOL_PREFIX = 'clusterdesk.token.';

/** The subprotocol entry that carries `token`. */
export function wsTokenProtocol(token: string): string {
  let hex = '';
  for (const byte of new TextEncoder().encode(token)) hex += byte.toString(16).padStart(2, '0');
  return `${WS_TOKEN_PROTOCOL_PREFIX}${hex}`;
}

const MiB = 1024 * 1024;
/**
 * The largest frame (and message) the server accepts (`maxPayload`): anything larger closes the socket with 1009.
 * Clients never come near it: invokes longer than `WS_CHUNK_CHARS` are sent as chunks.
 */
export const WS_MAX_FRAME_BYTES = 8 * MiB;
/**
 * Invokes whose JSON is longer than this many UTF-16 units go as `chunk` messages of this many units each. A chunk
 * frame is at most 3 bytes of UTF-8 per unit plus its envelope (JSON text only escapes quotes and backslashes, which
 * double, and has no raw control characters), so ≤ 3 MiB + 100 bytes, well under `WS_MAX_FRAME_BYTES`.
 */
export const WS_CHUNK_CHARS = 1 * MiB;
/**
 * The largest invoke the server reassembles, in UTF-16 units of its JSON text. Sized for the largest accepted argument
 * (a 64 MiB bundle, `bundleText` in main/ipc/schemas.ts): a bundle is JSON, so its escaped form is at most twice its
 * length; the margin holds the rest of the invoke.
 */
export const WS_MAX_MESSAGE_CHARS = 2 * 64 * MiB + MiB;

/**
 * One invoke's frames: the JSON itself, or — when longer than `WS_CHUNK_CHARS` — `chunk` messages the server joins
 * back, so no frame comes near the server's frame limit whatever the argument (a 64 MiB bundle).
 */
export function framesOf(id: number, frame: string, chunkChars: number = WS_CHUNK_CHARS): string[] {
  if (frame.length <= chunkChars) return [frame];
  const out: string[] = [];
  for (let seq = 0, at = 0; at < frame.length; seq++, at += chunkChars) {
    const chunk: WireChunk = { type: 'chunk', id, seq, last: at + chunkChars >= frame.length, data: frame.slice(at, at + chunkChars) };
    out.push(JSON.stringify(chunk));
  }
  return out;
}
