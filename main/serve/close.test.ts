/**
 * `serve`'s close() cancels running operations and waits for them: the state lock each held is released by the
 * operation itself (never left behind to be broken as stale by the next writer), and the state file is the last
 * generation the operation committed. Real serve over WebSocket, real `hpc start` on libvirt's test driver.
 */
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ProgressEvent, Result, WorkspaceEntry } from '../../preload/contract';
import { WS_PROTOCOL, wsTokenProtocol, type ServerMessage } from '../../preload/wire';
import { StateStore } from '../state';
import { siblingPaths } from '../state/locations';
import { clusterFixture, type ClusterFixture } from '../../test/support/clusters';
import { startServe } from './serve';

const TOKEN = 'close-test-token-0123456789';
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('serve close()', () => {
  it('cancels a running hpc start and waits for it: no lock file remains, the state is its last committed generation', { timeout: 240_000 }, async () => {
    // Enough VMs that the start is still running when close() comes (each one is created and checkpointed in turn).
    const fx: ClusterFixture = await clusterFixture({ computeNodes: 40 });
    cleanups.push(() => fx.cleanup());
    const dir = await mkdtemp(join(tmpdir(), 'cd-close-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const staticDir = join(dir, 'static');
    await mkdir(staticDir, { recursive: true });
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title>');
    const serve = await startServe({ host: '127.0.0.1', port: 0, token: TOKEN, dataDir: join(dir, 'data'), staticDir });
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : serve.close()));

    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws`, [WS_PROTOCOL, wsTokenProtocol(TOKEN)]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined); // the server goes away mid-test
    let next = 1;
    const waiting = new Map<number, (r: Result<unknown>) => void>();
    const progress: ProgressEvent[] = [];
    let onProgress = () => undefined as void;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as ServerMessage;
      if (msg.type === 'result') waiting.get(msg.id)?.(msg.result);
      else if (msg.event === 'operation:progress') {
        progress.push(msg.payload as ProgressEvent);
        onProgress();
      }
    });
    const invoke = (channel: string, arg: unknown) =>
      new Promise<Result<unknown>>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, arg }));
      });

    const added = (await invoke('workspaces:add', { path: fx.dir })) as Result<WorkspaceEntry>;
    expect(added.ok).toBe(true);
    if (!added.ok) return;
    const lock = siblingPaths(fx.ws.statePath).lock;

    // Start, and close once a few VMs were created (the state has been checkpointed, the lock is held).
    const started = invoke('cluster:start', { workspaceId: added.value.id });
    const defined = () => progress.filter((p) => p.step === 'define').length;
    await new Promise<void>((resolve) => {
      onProgress = () => {
        if (defined() >= 3) resolve();
      };
    });
    expect(await exists(lock)).toBe(true);
    await serve.close();
    closed = true;

    // close() returned: the operation had ended, so its lock is gone now — not later, and not by a stale break.
    expect(await exists(lock)).toBe(false);
    const store = new StateStore();
    const state = await store.load({ kind: 'cluster', file: fx.ws.statePath });
    expect(state).not.toBeNull();
    // The file is the newest generation in its history (the operation's last checkpoint), and a partial start.
    const history = (await readdir(siblingPaths(fx.ws.statePath).history)).filter((f) => f.endsWith('.json')).sort();
    expect(history.length).toBeGreaterThan(0);
    const newest = await store.load({ kind: 'cluster', file: join(siblingPaths(fx.ws.statePath).history, history.at(-1)!) });
    expect(newest?.serial).toBe(state?.serial);
    expect(state!.vms.length).toBeLessThan(41);
    // The start did not run on after close: nothing writes the file any more.
    const serial = state!.serial;
    await new Promise((r) => setTimeout(r, 500));
    expect((await store.load({ kind: 'cluster', file: fx.ws.statePath }))?.serial).toBe(serial);
    // The client got the start's answer (cancelled) or lost the connection; either way it never hangs the test.
    await Promise.race([started, new Promise((r) => ws.once('close', r))]);
    ws.terminate();
  });
});
