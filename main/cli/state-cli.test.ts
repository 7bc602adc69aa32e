import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { StateStore } from '../state';
import { runCli } from '../../test/support/run-cli';

let dir = '';
let dataDir = '';
let fed = '';
const store = new StateStore();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-state-'));
  dataDir = join(dir, 'data');
  fed = join(dir, 'fed');
  await mkdir(fed);
  await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
  const target = { kind: 'federation' as const, file: join(fed, '.refedez', 'state.json') };
  const machine = {
    name: 'site-1',
    kind: 'local' as const,
    host: 'localhost',
    port: 22,
    user: 'root',
    tmp_dir: '/tmp/clusterdesk-00000000-x',
    started_at: new Date().toISOString(),
  };
  await store.update(target, 'seed', () => ({ type: 'running', data: { deployed_files_path: fed, machines: [machine] } }) as never);
  await store.update(target, 'seed', () => ({ type: 'dirty', data: { deployed_files_path: fed, machines: [machine] } }) as never);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test runs several CLI processes through tsx: minutes on a loaded 2-core machine. Nothing here is timed.
describe('clusterdesk state', { timeout: 300_000 }, () => {
  it('shows the recorded state, human and --json', async () => {
    const human = await runCli(['state', 'show', fed], { dataDir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('federation fed: dirty');
    expect(human.stdout).toMatch(/site-1\s+local\s+localhost/);
    const json = await runCli(['--json', 'state', 'show', fed], { dataDir });
    expect(json.json()).toMatchObject({ ok: true, status: 'dirty', summary: { count: 1, serial: 2 }, lock: null });
  });

  it('lists backups and restores one, exit 0', async () => {
    const list = (await runCli(['--json', 'state', 'backups', fed], { dataDir })).json<{
      backups: { id: string; serial: number; valid: boolean; status: string }[];
    }>();
    const first = list.backups.find((b) => b.serial === 1 && b.valid);
    expect(first?.status).toBe('running');
    const r = await runCli(['state', 'restore', first!.id, fed], { dataDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status running');
    expect((await store.load({ kind: 'federation', file: join(fed, '.refedez', 'state.json') }))?.type).toBe('running');
  });

  it('adopts a ReFedEz-written state: --dry-run previews, then adopt assigns lineage and serial', async () => {
    const folder = join(dir, 'refedez-made');
    await mkdir(join(folder, '.refedez'), { recursive: true });
    await writeFile(join(folder, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const file = join(folder, '.refedez', 'state.json');
    const tmp = '/tmp/439eadc9-69db-4d3c-a635-d25b16cc3cb7';
    await writeFile(
      file,
      JSON.stringify({
        type: 'running',
        data: {
          machines: [
            {
              closure: {
                identifier: '/nix/store/x',
                machine: {
                  name: 'site1',
                  connection: { type: 'remote', remote_credentials: { user: 'fl', ip: '127.0.0.9', password: 'cli-pw-Secret', port: 22 } },
                },
                src_uv_project_path: null,
              },
              tmp_dir: tmp,
            },
          ],
          deployed_files_path: join(folder, '.refedez', 'workspace'),
        },
      }),
    );
    const stop = await runCli(['fed', 'stop', folder], { dataDir });
    expect(stop.code).not.toBe(0);
    expect(stop.stderr).toContain('state adopt');
    const dry = await runCli(['state', 'adopt', '--dry-run', folder], { dataDir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`+ machine site1 (fl@127.0.0.9: ${tmp})`);
    expect(dry.stdout).toContain('remote_credentials.password');
    expect(await readFile(file, 'utf8')).toContain('cli-pw-Secret');
    const json = (await runCli(['--json', 'state', 'adopt', folder], { dataDir })).json<{ ok: boolean; adopted: boolean; serial: number; lineage: string }>();
    expect(json).toMatchObject({ ok: true, adopted: true, serial: 1 });
    expect(await store.load({ kind: 'federation', file })).toMatchObject({ serial: 1, lineage: json.lineage, type: 'running' });
    expect(await readFile(file, 'utf8')).not.toContain('cli-pw-Secret');
    expect(await readFile(`${file}.backup`, 'utf8')).not.toContain('cli-pw-Secret');
    const again = await runCli(['state', 'adopt', folder], { dataDir });
    expect(again.code).toBe(2); // invalid-argument: usage
    expect(again.stderr).toContain('nothing to adopt');
    // Five CLI processes in a row: generous on a loaded machine.
  }, 300_000);

  it('exports and imports with Terraform’s rules and documented exit codes', async () => {
    const bundle = join(dir, 'fed.cdstate');
    const ex = await runCli(['--json', 'state', 'export', bundle, fed], { dataDir });
    expect(ex.json()).toMatchObject({ ok: true, file: bundle });
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const dry = await runCli(['state', 'import', '--dry-run', bundle, other], { dataDir });
    expect(dry.stdout).toContain('verdict: accept');
    expect((await runCli(['state', 'import', bundle, other], { dataDir })).code).toBe(0);
    // Tampered bundle: exit 1, bundle-invalid.
    await writeFile(bundle, (await readFile(bundle, 'utf8')).replace('site-1', 'site-2'));
    const bad = await runCli(['--json', 'state', 'import', bundle, other], { dataDir });
    expect(bad.code).toBe(1);
    expect(bad.json()).toMatchObject({ ok: false, error: { code: 'bundle-invalid' } });
  });

  it('covers the other output form of each command', async () => {
    const backups = await runCli(['state', 'backups', fed], { dataDir });
    expect(backups.stdout).toMatch(/ID\s+SAVED\s+SERIAL\s+STATUS\s+COUNT\s+VALID/);
    const id = (await runCli(['--json', 'state', 'backups', fed], { dataDir }))
      .json<{ backups: { id: string; valid: boolean }[] }>()
      .backups.find((b) => b.valid)!.id;
    expect((await runCli(['--json', 'state', 'restore', id, fed], { dataDir })).json()).toMatchObject({ ok: true, restored: id });
    const ex = await runCli(['state', 'export', join(dir, 'human.cdstate'), fed], { dataDir });
    expect(ex.stdout).toMatch(/^Exported fed \(serial \d+, lineage [0-9a-f]{8}\) to /);
  });

  it('unlocks only with the exact lock id, and the broken holder cannot write any more', async () => {
    const target = { kind: 'federation' as const, file: join(fed, '.refedez', 'state.json') };
    await expect(
      store.transaction(target, 'held-by-test', async (tx) => {
        const wrong = await runCli(['--json', 'state', 'unlock', 'not-the-id', fed], { dataDir });
        expect(wrong.code).toBe(3);
        expect(wrong.json()).toMatchObject({ ok: false, error: { code: 'state-locked' } });
        const shown = (await runCli(['--json', 'state', 'show', fed], { dataDir })).json<{ lock: { id: string; operation: string } }>();
        expect(shown.lock).toMatchObject({ id: tx.lockId, operation: 'held-by-test' });
        const human = await runCli(['state', 'unlock', tx.lockId, fed], { dataDir });
        expect(human.code, human.stderr).toBe(0);
        expect(human.stdout).toContain(`lock ${tx.lockId}`);
        await tx.write({ type: 'dirty', data: { deployed_files_path: fed, machines: [] } } as never);
      }),
    ).rejects.toSatisfy((e) => isAppError(e, 'state-locked'));
    expect((await runCli(['--json', 'state', 'show', fed], { dataDir })).json()).toMatchObject({ lock: null });
  });

  it('answers usage errors with exit 2 and unknown workspaces with exit 1', async () => {
    expect((await runCli(['state', 'frobnicate'], { dataDir })).code).toBe(2);
    const r = await runCli(['state', 'show', dir], { dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('workspace-unknown');
  });

  it('answers a corrupt state with exit 3', async () => {
    const broken = join(dir, 'broken');
    await mkdir(join(broken, '.refedez'), { recursive: true });
    await writeFile(join(broken, 'refedez.yaml'), 'machines: {}\n');
    await writeFile(join(broken, '.refedez', 'state.json'), '{"type":');
    const r = await runCli(['state', 'show', broken], { dataDir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('state-corrupt');
  });
});
