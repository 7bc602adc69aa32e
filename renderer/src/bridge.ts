/**
 * The one place the renderer reaches main.
 *
 * In Electron the preload exposes `window.clusterdesk`; in a browser (headless `serve`) the same `ClusterdeskApi` is
 * implemented over a WebSocket. Nothing above this module can tell the two apart, except through the optional
 * connection-status feed, which Electron reports as permanently open.
 */
import {
  EVENTS,
  type Channel,
  type ClusterdeskApi,
  type ErrorData,
  type EventMap,
  type EventName,
  type InvokeArg,
  type InvokeResult,
  type Result,
} from '../../preload/contract';
import { markChangeArrived, perfOn } from './lib/perf';
import { framesOf, WS_MAX_MESSAGE_CHARS, WS_PATH, WS_PROTOCOL, wsTokenProtocol, type ClientMessage, type ServerMessage } from '../../preload/wire';

/**
 * `reconnecting`: the connection dropped, a new attempt is on its way. With a `probeHost` (the page's client), a failed
 * attempt is explained: `host-gone` when the host does not answer at all, `token-rejected` when it answers but refuses
 * this page's token (it was restarted with a new one: only the new URL gets in).
 */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'host-gone' | 'token-rejected' | 'closed';

/** The subset of the DOM `WebSocket` the client uses, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null;
  onclose: ((ev: { readonly code: number; readonly reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface WebSocketClientOptions {
  readonly url: string;
  /** Offered on every connection (the protocol and the token entry; see `wsTokenProtocol`). */
  readonly protocols?: readonly string[];
  readonly createSocket: SocketFactory;
  /** First reconnect delay; doubles per failed attempt up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected for tests; defaults to the global timers. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  /**
   * Asked after an attempt that never opened: does the host answer plain HTTP? No → `host-gone`; yes, twice in a row →
   * `token-rejected` (the upgrade was refused while the host was up). Without it a failed attempt is `reconnecting`.
   */
  readonly probeHost?: () => Promise<boolean>;
}

export interface WebSocketClient extends ClusterdeskApi {
  readonly transport: 'websocket';
  /** Connection status changes; fires `open` again after every successful reconnect so callers can resync. */
  onStatus(listener: (status: ConnectionStatus) => void, signal?: AbortSignal): void;
  readonly status: ConnectionStatus;
  /** Close for good: no reconnect, pending invokes fail. */
  close(): void;
}

// WebSocket.readyState values; spelled out because the global may not exist where tests run.
const OPEN = 1;

const EVENT_SET: ReadonlySet<string> = new Set(EVENTS);

function transportError(message: string, hint?: string): { ok: false; error: ErrorData } {
  return { ok: false, error: { code: 'internal', message, ...(hint ? { hint } : {}) } };
}

interface Pending {
  readonly resolve: (r: Result<unknown>) => void;
  /** The serialized message (one frame, or its chunks); kept so invokes made while connecting can be sent on open. */
  readonly frames: readonly string[];
  sent: boolean;
}

/**
 * A `ClusterdeskApi` over one WebSocket with automatic reconnect.
 *
 * Invokes made while the socket is connecting are queued and sent on open; invokes made while it waits to reconnect
 * fail at once. When the socket drops, every pending invoke resolves with an `internal` error — a caller never hangs
 * on a reply the server can no longer send. Event listeners survive reconnects (the server broadcasts to every
 * connection, so there is nothing to re-send); `onStatus` reports `open` after each reconnect so stores can refetch
 * what they missed.
 */
export function createWebSocketClient(options: WebSocketClientOptions): WebSocketClient {
  const initialDelay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 15_000;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));

  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const statusListeners = new Set<(s: ConnectionStatus) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: SocketLike | null = null;
  let status: ConnectionStatus = 'connecting';
  let attempt = 0;
  let refusedWhileUp = 0;
  let timer: unknown = null;
  let closedForGood = false;

  function setStatus(next: ConnectionStatus): void {
    status = next;
    for (const l of [...statusListeners]) l(next);
  }

  function failAll(message: string): void {
    const all = [...pending.values()];
    pending.clear();
    for (const p of all) p.resolve(transportError(message, 'The connection to the Clusterdesk host was lost; try again.'));
  }

  function dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'result': {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        p.resolve(msg.result as Result<unknown>);
        return;
      }
      case 'event': {
        if (!EVENT_SET.has(msg.event)) return;
        const set = listeners.get(msg.event);
        if (!set) return;
        for (const l of [...set]) {
          try {
            (l as (p: unknown) => void)(msg.payload);
          } catch (err) {
            // One faulty listener must not starve the others.
            console.error(`listener for ${msg.event} threw`, err);
          }
        }
        return;
      }
      default:
        return;
    }
  }

  function parse(data: unknown): ServerMessage | null {
    if (typeof data !== 'string') return null;
    try {
      const msg = JSON.parse(data) as unknown;
      if (typeof msg !== 'object' || msg === null) return null;
      const type = (msg as { type?: unknown }).type;
      if (type === 'result' && typeof (msg as { id?: unknown }).id === 'number') return msg as ServerMessage;
      if (type === 'event' && typeof (msg as { event?: unknown }).event === 'string') return msg as ServerMessage;
      return null;
    } catch {
      return null;
    }
  }

  function connect(): void {
    timer = null;
    let s: SocketLike;
    try {
      s = options.createSocket(options.url, [...(options.protocols ?? [])]);
    } catch {
      scheduleReconnect('reconnecting');
      return;
    }
    socket = s;
    let opened = false;
    s.onopen = () => {
      if (socket !== s) return;
      opened = true;
      attempt = 0;
      refusedWhileUp = 0;
      for (const p of pending.values()) {
        if (p.sent) continue;
        p.sent = true;
        for (const f of p.frames) s.send(f);
      }
      setStatus('open');
    };
    s.onmessage = (ev) => {
      if (socket !== s) return;
      const t0 = perfOn() ? performance.now() : 0;
      const msg = parse(ev.data);
      if (!msg) return;
      if (t0 && msg.type === 'event' && msg.event === 'workspace:changed') {
        const change = msg.payload as { id: string; seq: number };
        markChangeArrived(change.id, change.seq, t0);
      }
      dispatch(msg);
    };
    s.onerror = () => {
      // A close event always follows an error; reconnect is handled there.
    };
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      failAll('Disconnected from the Clusterdesk host.');
      if (closedForGood) return;
      const probe = options.probeHost;
      if (opened || !probe) return scheduleReconnect('reconnecting');
      void probe().then(
        (up) => explain(up),
        () => explain(false),
      );
    };
  }

  /** An attempt that never opened: the host is gone, or (twice while it answers) it refused our token. */
  function explain(up: boolean): void {
    if (closedForGood) return;
    if (!up) {
      refusedWhileUp = 0;
      return scheduleReconnect('host-gone');
    }
    refusedWhileUp += 1;
    // Once is not proof: the host may have come up between the attempt and the probe. Retry at once to be sure.
    if (refusedWhileUp < 2) return scheduleReconnect('reconnecting', 0);
    scheduleReconnect('token-rejected', maxDelay);
  }

  function scheduleReconnect(waiting: ConnectionStatus, delayMs?: number): void {
    const delay = delayMs ?? Math.min(maxDelay, initialDelay * 2 ** attempt);
    attempt += 1;
    // A status that explains the outage stays on screen through the next attempts, until one opens.
    if (status !== waiting) setStatus(waiting);
    timer = setTimer(() => {
      if (closedForGood) return;
      if (status === 'reconnecting') setStatus('connecting');
      connect();
    }, delay);
  }

  function invoke<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<Result<InvokeResult<C>>> {
    if (closedForGood) return Promise.resolve(transportError('The connection was closed.'));
    const s = socket;
    if (!s) {
      return Promise.resolve(transportError('Not connected to the Clusterdesk host; reconnecting.', 'Wait a moment and try again.'));
    }
    const id = nextId++;
    const message: ClientMessage = { type: 'invoke', id, channel, arg } as ClientMessage;
    const frame = JSON.stringify(message);
    if (frame.length > WS_MAX_MESSAGE_CHARS) {
      const mib = (n: number) => `${Math.ceil(n / 1024 / 1024)} MiB`;
      return Promise.resolve({
        ok: false,
        error: {
          code: 'invalid-argument',
          message: `This ${channel} request is ${mib(frame.length)}; the host accepts at most ${mib(WS_MAX_MESSAGE_CHARS)} per call.`,
          hint: 'Use a smaller file.',
        },
      });
    }
    return new Promise((resolve) => {
      const entry: Pending = { resolve: resolve as (r: Result<unknown>) => void, frames: framesOf(id, frame), sent: false };
      pending.set(id, entry);
      if (s.readyState !== OPEN) return; // sent by onopen
      try {
        entry.sent = true;
        for (const f of entry.frames) s.send(f);
      } catch (err) {
        pending.delete(id);
        resolve(transportError(`Could not send ${channel}: ${String(err)}`));
      }
    });
  }

  function on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void, signal?: AbortSignal): void {
    if (signal?.aborted) return;
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    const l = listener as (payload: never) => void;
    set.add(l);
    signal?.addEventListener('abort', () => set.delete(l), { once: true });
  }

  connect();

  return {
    transport: 'websocket',
    invoke,
    on,
    get status() {
      return status;
    },
    onStatus(listener, signal) {
      if (signal?.aborted) return;
      statusListeners.add(listener);
      signal?.addEventListener('abort', () => statusListeners.delete(listener), { once: true });
    },
    close() {
      closedForGood = true;
      if (timer !== null) clearTimer(timer);
      timer = null;
      const s = socket;
      socket = null;
      failAll('The connection was closed.');
      s?.close(1000, 'client closed');
      setStatus('closed');
    },
  };
}

const TOKEN_KEY = 'clusterdesk.token';

/**
 * The session token: from the URL fragment (`#token=…`) on first load — the fragment is never sent to any server —
 * then kept in sessionStorage (scoped to this origin *and port*, unlike a cookie) for reloads, and removed from the
 * address bar at once. Null when neither has one.
 */
export function takeToken(loc: Location, storage: Storage | null, history: History): string | null {
  const params = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const fromUrl = params.get('token');
  if (fromUrl) {
    try {
      storage?.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage disabled: the token lives in memory for this page only.
    }
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', `${loc.pathname}${loc.search}${rest ? `#${rest}` : ''}`);
    return fromUrl;
  }
  try {
    return storage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

/** `ws(s)://<host>/ws` for the page's own origin; the token travels in the subprotocol list, not the URL. */
export function socketUrl(protocol: string, host: string): string {
  const scheme = protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${host}${WS_PATH}`;
}

let pageToken: string | null | undefined;

/** The page's token, read once (see `takeToken`); the first call also strips it from the address bar. */
function browserToken(): string | null {
  if (pageToken === undefined) {
    let storage: Storage | null = null;
    try {
      storage = window.sessionStorage;
    } catch {
      storage = null;
    }
    pageToken = takeToken(window.location, storage, window.history);
  }
  return pageToken;
}

/**
 * True in a browser page that has no token (opened without the `#token=…` of the printed URL): it cannot reach its
 * host, so the page says how to open it instead. Call it first thing, so the fragment leaves the address bar at once.
 */
export function missingToken(): boolean {
  if (window.clusterdesk) return false;
  return browserToken() === null;
}

let api: ClusterdeskApi | null = null;
let wsClient: WebSocketClient | null = null;

/** The process-wide API: the preload's object in Electron, else a WebSocket client to the page's own host. */
export function getApi(): ClusterdeskApi {
  if (api) return api;
  if (window.clusterdesk) {
    api = window.clusterdesk;
    return api;
  }
  const token = browserToken();
  // The new URL of a restarted host opened in this tab changes only the fragment (no reload): take its token and
  // start afresh with it.
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token')) return;
    pageToken = undefined;
    browserToken();
    window.location.reload();
  });
  wsClient = createWebSocketClient({
    url: socketUrl(window.location.protocol, window.location.host),
    protocols: token ? [WS_PROTOCOL, wsTokenProtocol(token)] : [WS_PROTOCOL],
    createSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike,
    maxDelayMs: 5_000,
    probeHost: async () => {
      try {
        const r = await fetch('/', { method: 'HEAD', cache: 'no-store' });
        return r.ok;
      } catch {
        return false;
      }
    },
  });
  api = wsClient;
  return api;
}

/** Connection status feed; Electron's IPC has no connection to lose, so it reports `open` once. */
export function onConnectionStatus(listener: (status: ConnectionStatus) => void, signal?: AbortSignal): void {
  getApi();
  if (wsClient) {
    wsClient.onStatus(listener, signal);
    listener(wsClient.status);
  } else {
    listener('open');
  }
}
