import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import type { SettingsBackend } from '../settings/settings';

function memoryBackend(): SettingsBackend {
  const data = new Map<string, unknown>();
  return { get: (k) => data.get(k), set: (k, v) => void data.set(k, v), path: ':memory:' };
}

let dataDir: string;
let services: AppServices;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cd-fed-api-'));
  services = await composeServices({ dataDir, settingsBackend: memoryBackend(), host: 'serve', warn: () => undefined });
});

afterAll(async () => {
  services?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

describe('FederationFacade', () => {
  it('demo federation through the runner: start → probe → stop → clean, each answering with a fresh snapshot', async () => {
    const fed = services.federations!;
    const entry = await fed.createDemo();
    expect(entry.kind).toBe('federation');
    expect(entry.path).toBe(join(dataDir, 'demos', 'federation-1'));
    expect((await fed.createDemo()).path).toBe(join(dataDir, 'demos', 'federation-2'));

    const events: string[] = [];
    const off = services.runner.subscribe({ progress: (e) => events.push(`${e.operation}:${e.target}:${e.step}`), finished: () => undefined, changed: () => undefined });
    const started = await fed.start(entry.id);
    off();
    expect(started.snapshot.status).toBe('running');
    expect(started.snapshot.operation).toBeNull();
    expect(started.snapshot.federation?.machines.map((m) => m.name)).toEqual(['server1', 'site-1', 'site-2']);
    expect(started.outcomes.map((o) => o.result)).toEqual(['started', 'started', 'started']);
    expect(events).toContain('federation:start:site-1:upload');
    expect(services.registry.get(entry.id).lineage).toBe(started.snapshot.lineage);

    const logs = await fed.logs(entry.id, 3);
    expect(logs.map((l) => l.machine)).toEqual(['server1', 'site-1', 'site-2']);
    expect(logs.every((l) => !l.error)).toBe(true);
    const probes = await fed.probe(entry.id);
    expect(probes.map((p) => p.reachable)).toEqual([true, true, true]);

    const stopped = await fed.stop(entry.id);
    expect(stopped.snapshot.status).toBe('dirty');
    expect(stopped.outcomes.map((o) => o.target)).toEqual(['server1', 'site-1', 'site-2']);
    const again = await fed.stop(entry.id);
    expect(again.outcomes.map((o) => o.result)).toEqual(['already stopped']);
    // Dirty with folders to clean: start is refused (they would be forgotten).
    await expect(fed.start(entry.id)).rejects.toMatchObject({ code: 'state-wrong-status' });
    const cleaned = await fed.clean(entry.id, false);
    expect(cleaned.snapshot.status).toBe('clean');
    expect(existsSync(join(entry.path, '.refedez'))).toBe(false);
  });

  it('busy: a second mutation while one runs is refused', async () => {
    const fed = services.federations!;
    const entry = await fed.createDemo();
    const first = fed.start(entry.id);
    await expect(fed.stop(entry.id)).rejects.toMatchObject({ code: 'busy' });
    expect((await first).snapshot.status).toBe('running');
    expect((await fed.clean(entry.id, true)).snapshot.status).toBe('clean');
  });

  it('trust-host for a host the federation does not use is refused', async () => {
    const fed = services.federations!;
    const entry = await fed.createDemo();
    await expect(fed.trustHost(entry.id, '127.0.0.99', 22, `SHA256:${'A'.repeat(43)}`)).rejects.toMatchObject({ code: 'not-found' });
    await expect(fed.trustHost(entry.id, '127.0.0.99', 22, 'md5:xx')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
