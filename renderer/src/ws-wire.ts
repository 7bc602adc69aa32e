/**
 * The renderer's view of the WebSocket wire format.
 *
 * Mirrors `preload/wire.ts` field for field. It is restated here only because `tsconfig.web.json` (a composite
 * project) does not list `preload/wire.ts`, so the renderer cannot import it; once that file is added to the web
 * project's `include`, this module should re-export from it instead.
 */
import type { Channel, EventMap, EventName, InvokeArg, InvokeResult, Result } from '../../preload/contract';

export interface WireInvoke<C extends Channel = Channel> {
  readonly type: 'invoke';
  readonly id: number;
  readonly channel: C;
  readonly arg: InvokeArg<C>;
}

export interface WireResult<C extends Channel = Channel> {
  readonly type: 'result';
  readonly id: number;
  readonly result: Result<InvokeResult<C>>;
}

export interface WireEvent<E extends EventName = EventName> {
  readonly type: 'event';
  readonly event: E;
  readonly payload: EventMap[E];
}

export type ClientMessage = WireInvoke;
export type ServerMessage = WireResult | WireEvent;

export const WS_PATH = '/ws';
