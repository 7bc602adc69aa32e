/**
 * Issue #10: a huge state read for one client's snapshot never stalls the others. Reading, parsing, validating and
 * redacting a 40,000-VM state (~14 MB) held serve's event loop for hundreds of milliseconds per snapshot (seconds on a
 * loaded machine); it now runs in the worker. Here a second WebSocket client's calls are answered while the first
 * client's `workspace:snapshot` of that state is being loaded, and the load is seen to have run in the worker.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Result, WorkspaceEntry, WorkspaceSnapshot } from '../../preload/contract';
import { WS_PROTOCOL, wsTokenProtocol, type ServerMessage } from '../../preload/wire';
import { StateStore } from '../state';
import { offThreadCounts, stopOffThread } from '../workers/off-thread';
import { sampleCluster } from '../../test/support/state/samples';
import { startServe, type RunningServe } from './serve';

let dir = '';
let serve: RunningServe;
const TOKEN = 'heavy-state-token-0123456789';
const VMS = 40_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-heavy-state-'));
  const staticDir = join(dir, 'static');
  await mkdir(staticDir, { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title>');
  serve = await startServe({ host: '127.0.0.1', port: 0, token: TOKEN, dataDir: join(dir, 'data'), staticDir });
}, 60_000);

afterAll(async () => {
  await serve?.close();
  await stopOffThread();
  await rm(dir, { recursive: true, force: true });
});

async function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws`, [WS_PROTOCOL, wsTokenProtocol(TOKEN)], { maxPayload: 256 * 2 ** 20 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, (r: Result<unknown>) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as ServerMessage;
    if (msg.type === 'result') waiting.get(msg.id)?.(msg.result);
  });
  return {
    ws,
    invoke: (channel: string, arg: unknown) =>
      new Promise<Result<unknown>>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, arg }));
      }),
  };
}

describe('serve: big state loads run off the event loop', () => {
  it('another client is answered while a 40,000-VM state is loaded for a snapshot', { timeout: 240_000 }, async () => {
    const folder = join(dir, 'big');
    await mkdir(join(folder, 'output'), { recursive: true });
    await writeFile(join(folder, 'cluster.yaml'), 'version: "1.0"\nmetadata: { name: big }\nclusters: { hpc: { name: big } }\n');
    const statePath = join(folder, 'output', 'state.json');
    await new StateStore().update({ kind: 'cluster', file: statePath }, 'test', () => sampleCluster(VMS, 'big'));

    const a = await connect();
    const b = await connect();
    const added = (await a.invoke('workspaces:add', { path: folder })) as Result<WorkspaceEntry>;
    expect(added.ok).toBe(true);
    if (!added.ok) return;

    const before = offThreadCounts['load-state'];
    let loaded = false;
    const snapshot = a.invoke('workspace:snapshot', { workspaceId: added.value.id }).then((r) => {
      loaded = true;
      return r as Result<WorkspaceSnapshot>;
    });
    // Client B keeps calling until A's snapshot arrives; at least one answer must come before it does.
    let answeredDuring = 0;
    while (!loaded) {
      const info = await b.invoke('app:info', {});
      expect(info.ok).toBe(true);
      if (!loaded) answeredDuring++;
    }
    const snap = await snapshot;
    expect(snap.ok).toBe(true);
    if (snap.ok) {
      expect(snap.value.error).toBeNull();
      expect(snap.value.cluster?.vms).toHaveLength(VMS);
    }
    expect(answeredDuring).toBeGreaterThan(0);
    expect(offThreadCounts['load-state']).toBeGreaterThan(before);

    // Typed errors come back from the worker as they are: a truncated big file answers state-corrupt with its line.
    await writeFile(statePath, `${JSON.stringify(sampleCluster(VMS, 'big')).slice(0, -10)}`);
    const broken = (await a.invoke('workspace:snapshot', { workspaceId: added.value.id })) as Result<WorkspaceSnapshot>;
    expect(broken.ok).toBe(false);
    if (!broken.ok) {
      expect(broken.error.code).toBe('state-corrupt');
      expect(broken.error.path).toBe(statePath);
      expect(broken.error.line).toBe(1);
    }
    a.ws.close();
    b.ws.close();
  });
});
