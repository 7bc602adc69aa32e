/**
 * Issue #10: a huge config parsed for one client never stalls the others. Before the config worker, a
 * `cluster:validate` of a large cluster.yaml held serve's event loop for tens of seconds and every other client's
 * call waited behind it. Here a second WebSocket client's calls are answered while the validate is still running.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Result, ValidationReport, WorkspaceEntry } from '../../preload/contract';
import { WS_PROTOCOL, wsTokenProtocol, type ServerMessage } from '../../preload/wire';
import { stopOffThread } from '../workers/off-thread';
import { startServe, type RunningServe } from './serve';

let dir = '';
let serve: RunningServe;
const TOKEN = 'heavy-parse-token-0123456789';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-heavy-'));
  const staticDir = join(dir, 'static');
  await mkdir(staticDir, { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Clusterdesk</title>');
  serve = await startServe({ host: '127.0.0.1', port: 0, token: TOKEN, dataDir: join(dir, 'data'), staticDir });
});

afterAll(async () => {
  await serve?.close();
  await stopOffThread();
  await rm(dir, { recursive: true, force: true });
});

async function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws`, [WS_PROTOCOL, wsTokenProtocol(TOKEN)]);
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

/** A large list-form config: 4,000 nodes (~240 KB; the YAML parser needs seconds for it on a busy machine). */
function hugeConfig(): string {
  const nodes: string[] = [];
  for (let i = 0; i < 4_000; i++) nodes.push(`      - { cpu_cores: 1, memory_gb: 1, disk_gb: 10, ip: DHCP }`);
  return [
    'version: "1.0"',
    'metadata: { name: huge }',
    'clusterdesk: { max_compute_nodes: 10000, libvirt_uri: "test:///default" }',
    'clusters:',
    '  hpc:',
    '    name: huge',
    '    base_image_path: /images/base.qcow2',
    '    network: { subnet: "10.30.0.0/16", bridge: virbr30 }',
    '    controller: { cpu_cores: 2, memory_gb: 4, disk_gb: 50, ip_address: "10.30.0.10" }',
    '    compute_nodes:',
    ...nodes,
    '',
  ].join('\n');
}

describe('serve: heavy parses run off the event loop', () => {
  it('another client is answered while a huge cluster:validate runs', { timeout: 240_000 }, async () => {
    const folder = join(dir, 'huge');
    await mkdir(folder);
    await writeFile(join(folder, 'cluster.yaml'), hugeConfig());
    const a = await connect();
    const b = await connect();
    const added = (await a.invoke('workspaces:add', { path: folder })) as Result<WorkspaceEntry>;
    expect(added.ok).toBe(true);
    if (!added.ok) return;

    let validated = false;
    const validate = a.invoke('cluster:validate', { workspaceId: added.value.id }).then((r) => {
      validated = true;
      return r as Result<ValidationReport>;
    });
    // Client B keeps calling until A's validate ends; at least one answer must arrive before it does.
    let answeredDuring = 0;
    while (!validated) {
      const info = await b.invoke('app:info', {});
      expect(info.ok).toBe(true);
      if (!validated) answeredDuring++;
      const res = await fetch(`http://127.0.0.1:${serve.port}/`);
      expect(res.status).toBe(200);
    }
    const report = await validate;
    expect(report.ok).toBe(true);
    if (report.ok) {
      expect(report.value.valid).toBe(true);
      expect(report.value.plan.filter((p) => p.resource === 'vm')).toHaveLength(4_001);
    }
    expect(answeredDuring).toBeGreaterThan(0);
    a.ws.close();
    b.ws.close();
  });
});
