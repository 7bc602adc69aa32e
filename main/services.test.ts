import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceChange, WorkspaceSnapshot } from '../preload/contract';
import { composeServices } from './compose';
import { dispatch } from './ipc/dispatch';
import { createHandlerTable } from './ipc/table';
import type { AppServices } from './services';
import { confBackend } from './settings/conf-backend';
import { StateStore } from './state';

let dir = '';
let services: AppServices;
// Another process's view of the same files (the CLI): its own store, no shared memory with the app.
const other = new StateStore();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-services-'));
  services = await composeServices({ dataDir: join(dir, 'data'), settingsBackend: confBackend(join(dir, 'data')), host: 'serve', warn: () => undefined });
});

afterAll(async () => {
  services?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const machine = { name: 'm', kind: 'local' as const, host: 'localhost', port: 22, user: 'root', tmp_dir: '/tmp/clusterdesk-00000000-aaaaaa', started_at: '' };

describe('AppServices follows a workspace changed from outside', () => {
  it('sees the state folder appear, go (clean) and come back with a new lineage, which is not foreign', async () => {
    const fed = join(dir, 'fed');
    await mkdir(fed);
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const entry = await services.addWorkspace(fed);
    const target = { kind: 'federation' as const, file: entry.statePath };
    const seen: WorkspaceSnapshot[] = [];
    const off = services.events.subscribe((e, p) => {
      if (e === 'workspace:changed' && (p as WorkspaceChange).id === entry.id) seen.push((p as WorkspaceChange).snapshot!);
    });
    const last = () => seen.at(-1);

    const first = await other.update(target, 'cli', () => ({ type: 'running', data: { deployed_files_path: fed, machines: [machine] } }) as never);
    await expect.poll(() => last()?.status, { timeout: 5000 }).toBe('running');
    expect(services.registry.get(entry.id).lineage).toBe(first.lineage);

    // Clean from the CLI removes the whole state folder.
    await other.transaction(target, 'cli', (tx) => tx.remove({ folder: true }));
    await expect.poll(() => last()?.status, { timeout: 5000 }).toBe('clean');
    expect(services.registry.get(entry.id).lineage).toBeUndefined();

    // A new start: a new lineage, followed (the folder is watched again once it reappears).
    const second = await other.update(target, 'cli', () => ({ type: 'running', data: { deployed_files_path: fed, machines: [machine] } }) as never);
    expect(second.lineage).not.toBe(first.lineage);
    await expect.poll(() => last()?.status, { timeout: 5000 }).toBe('running');
    expect(last()?.error).toBeNull();
    expect(services.registry.get(entry.id).lineage).toBe(second.lineage);
    off();
  });

  it('reports a replaced state as foreign until the user adopts it', async () => {
    const fed = join(dir, 'fed2');
    await mkdir(fed);
    await writeFile(join(fed, 'refedez.yaml'), 'machines: {}\n');
    const entry = await services.addWorkspace(fed);
    const target = { kind: 'federation' as const, file: entry.statePath };
    await other.update(target, 'cli', () => ({ type: 'dirty', data: { deployed_files_path: fed, machines: [machine] } }) as never);
    expect((await services.snapshot(entry.id)).status).toBe('dirty');
    // Someone copies another deployment's state file over it.
    const elsewhere = join(dir, 'elsewhere', 'state.json');
    const foreign = await other.update(
      { kind: 'federation', file: elsewhere },
      'cli',
      () => ({ type: 'running', data: { deployed_files_path: fed, machines: [machine] } }) as never,
    );
    await writeFile(entry.statePath, JSON.stringify(foreign));
    const snap = await services.snapshot(entry.id);
    expect(snap.error?.code).toBe('state-foreign');
    const published: WorkspaceSnapshot[] = [];
    const off = services.events.subscribe((e, p) => void (e === 'workspace:changed' && published.push((p as WorkspaceChange).snapshot!)));
    const adopted = await dispatch(createHandlerTable(services), 'workspace:adopt-lineage', { workspaceId: entry.id });
    off();
    expect(adopted).toMatchObject({ ok: true, value: { outcomes: [] } });
    expect(published.filter((p) => p.id === entry.id)).toMatchObject([{ error: null, status: 'running', lineage: foreign.lineage }]);
  });
});
