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

export type ClientMessage = WireInvoke;
export type ServerMessage = WireResult | WireEvent;

/** Path of the WebSocket endpoint; the token travels as `?token=` (or the session cookie set by the page load). */
export const WS_PATH = '/ws';
/** Cookie set when the page is loaded with a valid `?token=`, so sub-resources need no query string. */
export const TOKEN_COOKIE = 'clusterdesk_token';
