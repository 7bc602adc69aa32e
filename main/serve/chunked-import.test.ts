/**
 * The largest argument and the frame limit agree: a bundle far over one frame's limit is imported in chunks (the
 * bridge's wire format, `framesOf`), the same bytes in one frame close that socket with 1009, and the host lives on.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { framesOf, WS_MAX_FRAME_BYTES, WS_MAX_MESSAGE_CHARS, WS_PROTOCOL, wsTokenProtocol, type ServerMessage } from '../../preload/wire';
import { bundleText } from '../ipc/schemas';
import { makeBundle } from '../sharing/bundle';
import { sampleFederation } from '../../test/support/state/samples';
import { assertAlive, startServeChild, type ServeChild } from '../../test/support/serve/child';

const TOKEN = 'chunked-import-token-0123456789';
const MiB = 1024 * 1024;
let dir = '';
let child: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-serve-chunks-'));
  await mkdir(join(dir, 'static'));
  await writeFile(join(dir, 'static', 'index.html'), '<!doctype html><title>Clusterdesk</title>');
  child = await startServeChild(join(dir, 'static'), join(dir, 'data'), TOKEN);
});

afterAll(async () => {
  await child?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A client speaking the page's protocol: token as a subprotocol entry, Origin of the page, invokes via `framesOf`. */
async function pageClient() {
  const origin = `http://127.0.0.1:${child.port}`;
  const ws = new WebSocket(`ws://127.0.0.1:${child.port}/ws`, [WS_PROTOCOL, wsTokenProtocol(TOKEN)], { origin });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  let next = 1;
  const waiting = new Map<number, (r: unknown) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as ServerMessage;
    if (msg.type === 'result') waiting.get(msg.id)?.(msg.result);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return {
    ws,
    closed,
    frames: (channel: string, arg: unknown) => {
      const id = next++;
      return { id, frames: framesOf(id, JSON.stringify({ type: 'invoke', id, channel, arg })) };
    },
    invoke: (channel: string, arg: unknown) =>
      new Promise<{ ok: boolean; value?: unknown; error?: unknown }>((resolve, reject) => {
        const id = next++;
        waiting.set(id, resolve as (r: unknown) => void);
        void closed.then((code) => reject(new Error(`closed ${code}`)));
        for (const f of framesOf(id, JSON.stringify({ type: 'invoke', id, channel, arg }))) ws.send(f);
      }),
  };
}

/** A valid federation bundle of at least `bytes`, its strings full of what escaping and chunk splits could break. */
function bigBundle(bytes: number): { text: string; machines: number; lastNotes: string } {
  // Mostly ASCII (cheap to checksum on a loaded machine); every 50th machine carries what escaping could break.
  const special = 'quote " backslash \\ accent é emoji 😀 tab\t; ';
  const notes = (i: number) => `${i}: ${i % 50 === 0 ? special.repeat(500) : 'x'.repeat(22_000)}`;
  const count = Math.ceil(bytes / 22_000) + 10;
  const state = sampleFederation(count, { serial: 1, lineage: randomUUID() });
  const machines = (state.data as { machines: Record<string, unknown>[] }).machines.map((m, i) => ({ ...m, name: `site-${i}`, notes: notes(i) }));
  const bundle = makeBundle({
    app_version: '0.1.0',
    exported_at: new Date().toISOString(),
    workspace: { kind: 'federation', name: 'big-fed' },
    lineage: String(state.lineage),
    serial: 1,
    redacted: { secrets: 0, home_paths: false },
    state: { ...state, data: { ...state.data, machines } },
  });
  const text = `${JSON.stringify(bundle, null, 2)}\n`;
  return { text, machines: count, lastNotes: notes(count - 1) };
}

describe('serve: a bundle larger than one frame', { timeout: 180_000 }, () => {
  it('the frame limit, the chunk size and the largest accepted bundle agree', () => {
    const L = 64 * MiB;
    expect(bundleText.safeParse('x'.repeat(L)).success).toBe(true);
    expect(bundleText.safeParse('x'.repeat(L + 1)).success).toBe(false);
    // A bundle is JSON text: as a string inside the invoke its escaped form is at most twice as long (quotes and
    // backslashes double; raw control characters cannot occur in JSON), so the largest valid one fits.
    const envelope = JSON.stringify({
      type: 'invoke',
      id: Number.MAX_SAFE_INTEGER,
      channel: 'state:import',
      arg: { workspaceId: 'w'.repeat(200), content: '', force: true, adopt: true },
    }).length;
    expect(envelope + 2 * L).toBeLessThanOrEqual(WS_MAX_MESSAGE_CHARS);
    // Each chunk frame stays under the frame limit whatever the text: the worst case is escapes and 3-byte characters.
    const nasty = JSON.stringify({ content: '"\\\u0001€😀'.repeat(MiB) });
    for (const f of framesOf(1, nasty)) expect(Buffer.byteLength(f)).toBeLessThan(WS_MAX_FRAME_BYTES);
  });

  // Generous: a 40 MiB preview and import on a shared 2-core machine under load; nothing here is timed.
  it('a 40 MiB bundle is previewed and imported in chunks, byte for byte', { timeout: 600_000 }, async () => {
    const folder = join(dir, 'big-fed');
    await mkdir(folder);
    await writeFile(join(folder, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const big = bigBundle(40 * MiB);
    expect(big.text.length).toBeGreaterThanOrEqual(40 * MiB);

    const c = await pageClient();
    const added = (await c.invoke('workspaces:add', { path: folder })) as { ok: true; value: { id: string } };
    expect(added).toMatchObject({ ok: true });
    const workspaceId = added.value.id;
    const preview = await c.invoke('state:import-preview', { workspaceId, content: big.text });
    expect(preview).toMatchObject({ ok: true, value: { verdict: 'accept' } });
    const imported = await c.invoke('state:import', { workspaceId, content: big.text });
    expect(imported).toMatchObject({ ok: true });
    c.ws.close();

    const written = JSON.parse(await readFile(join(folder, '.refedez', 'state.json'), 'utf8')) as { data: { machines: { notes: string }[] } };
    expect(written.data.machines).toHaveLength(big.machines);
    expect(written.data.machines.at(-1)?.notes).toBe(big.lastNotes);
    await assertAlive(child, TOKEN);
  });

  it('the same bundle as one frame closes that socket with 1009 and nothing else', async () => {
    const c = await pageClient();
    c.ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'state:import-preview', arg: { workspaceId: 'x', content: 'x'.repeat(WS_MAX_FRAME_BYTES) } }));
    expect(await c.closed).toBe(1009);
    await assertAlive(child, TOKEN);
  });

  it('broken chunk sequences close that socket with a policy or data code', async () => {
    const outOfOrder = await pageClient();
    const { frames } = outOfOrder.frames('state:import-preview', { workspaceId: 'x', content: 'y'.repeat(3 * MiB) });
    outOfOrder.ws.send(frames[1]!);
    expect(await outOfOrder.closed).toBe(1008);

    const badJson = await pageClient();
    badJson.ws.send(JSON.stringify({ type: 'chunk', id: 7, seq: 0, last: false, data: '{"type":"invoke",' }));
    badJson.ws.send(JSON.stringify({ type: 'chunk', id: 7, seq: 1, last: true, data: 'nonsense' }));
    expect(await badJson.closed).toBe(1007);

    const wrongId = await pageClient();
    wrongId.ws.send(
      JSON.stringify({ type: 'chunk', id: 8, seq: 0, last: true, data: JSON.stringify({ type: 'invoke', id: 9, channel: 'app:info', arg: {} }) }),
    );
    expect(await wrongId.closed).toBe(1008);
    await assertAlive(child, TOKEN);
  });
});
