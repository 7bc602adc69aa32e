import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceChange, WorkspaceSnapshot } from '../../preload/contract';
import { composeServices } from '../compose';
import type { AppServices } from '../services';
import { confBackend } from '../settings/conf-backend';
import { runCli } from '../../test/support/run-cli';

let dir = '';
let services: AppServices;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-app-cli-'));
  const dataDir = join(dir, 'app-data');
  // Enough history that the seed generation the CLI restores is still there at the end.
  for (const d of [dataDir, join(dir, 'cli-data')]) {
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'config.json'), JSON.stringify({ historyLimit: 100 }));
  }
  services = await composeServices({ dataDir, settingsBackend: confBackend(dataDir), host: 'serve', warn: () => undefined });
});

afterAll(async () => {
  services?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('the CLI and the app on one workspace', () => {
  it('lose no update when both write at once, and the app’s snapshot follows the CLI', async () => {
    const fed = join(dir, 'fed');
    await mkdir(fed);
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const entry = await services.addWorkspace(fed);
    const target = { kind: 'federation' as const, file: entry.statePath };
    const machine = (n: number) => ({
      name: `m${n}`,
      kind: 'local' as const,
      host: 'localhost',
      port: 22,
      user: 'root',
      tmp_dir: `/tmp/clusterdesk-00000000-${n}`,
      started_at: new Date().toISOString(),
    });
    await services.store.update(target, 'seed', () => ({ type: 'dirty', data: { deployed_files_path: fed, machines: [machine(0)] } }) as never);
    const backups = await services.store.backups(target);
    const seedId = backups.find((b) => b.valid && b.serial === 1)!.id;

    const events: WorkspaceSnapshot[] = [];
    const off = services.events.subscribe((e, p) => {
      if (e === 'workspace:changed' && (p as WorkspaceChange).id === entry.id) events.push((p as WorkspaceChange).snapshot!);
    });
    // The app appends machines while two CLI processes restore the seed generation: every write holds the lock.
    const APP_WRITES = 40;
    const appSide = (async () => {
      for (let i = 1; i <= APP_WRITES; i++) {
        await services.store.update(target, 'app', (cur) => {
          const data = (cur as { data: { machines: unknown[] } }).data;
          return { type: 'dirty', data: { deployed_files_path: fed, machines: [...data.machines, machine(i)] } } as never;
        });
      }
    })();
    const cliSide = Promise.all([0, 1, 2, 3].map(() => runCli(['state', 'restore', seedId, fed], { dataDir: join(dir, 'cli-data') })));
    const [, runs] = await Promise.all([appSide, cliSide]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    const final = await services.store.load(target);
    // 1 seed + 40 app writes + 4 restores, each one generation: nothing was lost.
    expect(final?.serial).toBe(1 + APP_WRITES + 4);
    await expect.poll(() => events.at(-1)?.serial, { timeout: 5_000 }).toBe(final?.serial);
    off();
  });
});
