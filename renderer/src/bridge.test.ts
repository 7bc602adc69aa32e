import { describe, expect, it, vi } from 'vitest';
import type { WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { WS_CHUNK_CHARS, WS_MAX_FRAME_BYTES, WS_MAX_MESSAGE_CHARS, wsTokenProtocol, type WireChunk } from '../../preload/wire';
import { createWebSocketClient, socketUrl, takeToken, type SocketLike } from './bridge';

/** A scripted stand-in for the DOM WebSocket: the test drives open/message/close by hand. */
class FakeSocket implements SocketLike {
  static readonly all: FakeSocket[] = [];
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  readonly sent: unknown[] = [];
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }
}

function setup() {
  FakeSocket.all.length = 0;
  const timers: { fn: () => void; ms: number }[] = [];
  const client = createWebSocketClient({
    url: 'ws://host/ws',
    createSocket: (url) => new FakeSocket(url),
    initialDelayMs: 100,
    maxDelayMs: 400,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => undefined,
  });
  const last = () => FakeSocket.all[FakeSocket.all.length - 1]!;
  return { client, timers, last };
}

const entry: WorkspaceEntry = {
  id: 'w1',
  kind: 'cluster',
  name: 'hpc',
  path: '/x/cluster.yaml',
  statePath: '/x/output/state.json',
  addedAt: '2024-01-01T00:00:00Z',
};

describe('createWebSocketClient', () => {
  it('queues invokes made while connecting and pairs results by id', async () => {
    const { client, last } = setup();
    expect(client.transport).toBe('websocket');
    const a = client.invoke('workspaces:list', {});
    const b = client.invoke('workspaces:remove', { workspaceId: 'w1' });
    const sock = last();
    expect(sock.sent).toEqual([]);
    sock.open();
    expect(sock.sent).toEqual([
      { type: 'invoke', id: 1, channel: 'workspaces:list', arg: {} },
      { type: 'invoke', id: 2, channel: 'workspaces:remove', arg: { workspaceId: 'w1' } },
    ]);
    // Replies may arrive out of order.
    sock.receive({ type: 'result', id: 2, result: { ok: true, value: { removed: true } } });
    sock.receive({ type: 'result', id: 1, result: { ok: true, value: [entry] } });
    await expect(a).resolves.toEqual({ ok: true, value: [entry] });
    await expect(b).resolves.toEqual({ ok: true, value: { removed: true } });
  });

  it('passes error results through untouched', async () => {
    const { client, last } = setup();
    last().open();
    const p = client.invoke('workspaces:add', { path: '/nope' });
    const error = { code: 'workspace-unknown', message: 'no config', path: '/nope' };
    last().receive({ type: 'result', id: 1, result: { ok: false, error } });
    await expect(p).resolves.toEqual({ ok: false, error });
  });

  it('resolves pending invokes with an internal error when the socket drops', async () => {
    const { client, last } = setup();
    last().open();
    const p = client.invoke('cluster:start', { workspaceId: 'w1' });
    last().drop();
    const r = await p;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('internal');
  });

  it('fails fast while waiting to reconnect instead of hanging', async () => {
    const { client, last } = setup();
    last().open();
    last().drop();
    expect(client.status).toBe('reconnecting');
    const r = await client.invoke('workspaces:list', {});
    expect(r.ok).toBe(false);
  });

  it('reconnects with doubling, capped backoff and reports open again', () => {
    const { client, timers, last } = setup();
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    last().drop();
    // No new socket until the timer fires.
    expect(FakeSocket.all).toHaveLength(1);
    expect(timers.map((t) => t.ms)).toEqual([100]);
    timers[0]!.fn();
    expect(FakeSocket.all).toHaveLength(2);
    last().drop();
    timers[1]!.fn();
    last().drop();
    timers[2]!.fn();
    last().drop();
    expect(timers.map((t) => t.ms)).toEqual([100, 200, 400, 400]);
    timers[3]!.fn();
    last().open();
    expect(statuses.at(-1)).toBe('open');
    // A successful open resets the backoff.
    last().drop();
    expect(timers.at(-1)!.ms).toBe(100);
  });

  it('keeps event listeners across reconnects and honours AbortSignal', () => {
    const { client, timers, last } = setup();
    const seen: string[] = [];
    const ctrl = new AbortController();
    client.on('workspace:changed', (s) => seen.push(`a:${s.id}`));
    client.on('workspace:changed', (s) => seen.push(`b:${s.id}`), ctrl.signal);
    client.on('workspaces:changed', () => seen.push('list'));
    last().open();
    const snap = { id: 'w1' } as WorkspaceSnapshot;
    last().receive({ type: 'event', event: 'workspace:changed', payload: snap });
    ctrl.abort();
    last().drop();
    timers[0]!.fn();
    last().open();
    last().receive({ type: 'event', event: 'workspace:changed', payload: snap });
    last().receive({ type: 'event', event: 'no-such-event', payload: {} });
    expect(seen).toEqual(['a:w1', 'b:w1', 'a:w1']);
  });

  it('ignores malformed frames and results for unknown ids', async () => {
    const { client, last } = setup();
    last().open();
    const p = client.invoke('app:info', {});
    last().onmessage?.({ data: 'not json' });
    last().onmessage?.({ data: '{"type":"result"}' });
    last().receive({ type: 'result', id: 99, result: { ok: true, value: 1 } });
    last().receive({ type: 'result', id: 1, result: { ok: true, value: 'info' } });
    await expect(p).resolves.toEqual({ ok: true, value: 'info' });
  });

  it('close() fails pending invokes and stops reconnecting', async () => {
    const { client, timers, last } = setup();
    last().open();
    const p = client.invoke('workspaces:list', {});
    client.close();
    expect((await p).ok).toBe(false);
    expect(timers).toHaveLength(0);
    expect(client.status).toBe('closed');
    expect((await client.invoke('workspaces:list', {})).ok).toBe(false);
  });

  it('a throwing listener does not stop the others', () => {
    const { client, last } = setup();
    const seen: number[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    client.on('workspaces:changed', () => {
      throw new Error('boom');
    });
    client.on('workspaces:changed', (l) => seen.push(l.length));
    last().open();
    last().receive({ type: 'event', event: 'workspaces:changed', payload: [entry] });
    expect(seen).toEqual([1]);
    spy.mockRestore();
  });
});

describe('token and url', () => {
  it('takes the token from the URL, remembers it and strips it from the address bar', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    } as Storage;
    const replaced: string[] = [];
    const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } as unknown as History;
    const loc = { search: '?x=1', pathname: '/', hash: '#token=abc&h=2' } as Location;
    expect(takeToken(loc, storage, history)).toBe('abc');
    expect(replaced).toEqual(['/?x=1#h=2']);
    // A reload without the fragment still finds it.
    expect(takeToken({ search: '', pathname: '/', hash: '' } as Location, storage, history)).toBe('abc');
    // A query-string token is not a way in (query strings land in logs); the stored one stays.
    expect(takeToken({ search: '?token=other', pathname: '/', hash: '' } as Location, storage, history)).toBe('abc');
    // Without storage the token still works for this page.
    expect(takeToken({ search: '', pathname: '/', hash: '#token=mem' } as Location, null, history)).toBe('mem');
  });

  it('builds ws and wss urls on the page host, with no token in them', () => {
    expect(socketUrl('http:', '127.0.0.1:4000')).toBe('ws://127.0.0.1:4000/ws');
    expect(socketUrl('https:', 'h')).toBe('wss://h/ws');
  });

  it('offers its protocols on every connection', () => {
    const seen: string[][] = [];
    const client = createWebSocketClient({
      url: 'ws://h/ws',
      protocols: ['clusterdesk.v1', wsTokenProtocol('tok')],
      createSocket: (url, protocols) => {
        seen.push(protocols);
        return new FakeSocket(url);
      },
    });
    expect(seen).toEqual([['clusterdesk.v1', 'clusterdesk.token.746f6b']]);
    client.close();
  });

  it('sends an invoke longer than one chunk as ordered chunks that join back to the same JSON', async () => {
    const { client, last } = setup();
    const sock = last();
    sock.open();
    // Quotes, backslashes and a surrogate pair straddling chunk boundaries must survive the split.
    const content = '"\\é😀x'.repeat(Math.ceil((WS_CHUNK_CHARS * 2.5) / 7));
    const done = client.invoke('state:import-preview', { workspaceId: 'w1', content });
    const chunks = sock.sent as WireChunk[];
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((c) => [c.type, c.id, c.seq, c.last])).toEqual(chunks.map((_, i) => ['chunk', 1, i, i === chunks.length - 1]));
    for (const c of chunks) expect(new TextEncoder().encode(JSON.stringify(c)).length).toBeLessThan(WS_MAX_FRAME_BYTES);
    expect(JSON.parse(chunks.map((c) => c.data).join(''))).toEqual({
      type: 'invoke',
      id: 1,
      channel: 'state:import-preview',
      arg: { workspaceId: 'w1', content },
    });
    sock.receive({ type: 'result', id: 1, result: { ok: true, value: null } });
    expect(await done).toEqual({ ok: true, value: null });
  });

  it('refuses an invoke larger than the host accepts before sending anything', async () => {
    const { client, last } = setup();
    const sock = last();
    sock.open();
    const r = await client.invoke('state:import', { workspaceId: 'w1', content: 'x'.repeat(WS_MAX_MESSAGE_CHARS) });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(sock.sent).toEqual([]);
  });
});

describe('connection loss explained (probeHost)', () => {
  function probed(up: () => boolean) {
    FakeSocket.all.length = 0;
    const timers: { fn: () => void; ms: number }[] = [];
    const client = createWebSocketClient({
      url: 'ws://h/ws',
      createSocket: (url) => new FakeSocket(url),
      initialDelayMs: 100,
      maxDelayMs: 400,
      setTimer: (fn, ms) => {
        timers.push({ fn, ms });
        return timers.length;
      },
      clearTimer: () => undefined,
      probeHost: async () => up(),
    });
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    return { client, timers, statuses, last: () => FakeSocket.all.at(-1)! };
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it('a drop says reconnecting; attempts that fail while nothing answers say host-gone, and it stays until open', async () => {
    let up = false;
    const { client, timers, statuses, last } = probed(() => up);
    last().open();
    last().drop();
    expect(client.status).toBe('reconnecting');
    timers.at(-1)!.fn();
    last().drop();
    await settle();
    expect(client.status).toBe('host-gone');
    timers.at(-1)!.fn();
    expect(client.status).toBe('host-gone');
    up = true;
    last().open();
    expect(statuses).toEqual(['open', 'reconnecting', 'connecting', 'host-gone', 'open']);
  });

  it('attempts refused twice while the host answers say token-rejected', async () => {
    const { client, timers, last } = probed(() => true);
    last().drop();
    await settle();
    expect(client.status).toBe('reconnecting');
    expect(timers.at(-1)!.ms).toBe(0);
    timers.at(-1)!.fn();
    last().drop();
    await settle();
    expect(client.status).toBe('token-rejected');
    expect(timers.at(-1)!.ms).toBe(400);
    // Still tries (the host may be restarted with the old token again), and says so until one opens.
    timers.at(-1)!.fn();
    expect(client.status).toBe('token-rejected');
    last().open();
    expect(client.status).toBe('open');
  });
});
