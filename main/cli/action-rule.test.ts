/** The CLI refuses what the window and the tray disable, with the same sentence (preload/workspace-actions.ts). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterActions, federationActions, type Verdict } from '../../preload/workspace-actions';
import { createDemoCluster } from '../clusters/demo';
import { StateStore } from '../state';
import { runCli } from '../../test/support/run-cli';

let dir = '';
let dataDir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-rule-'));
  dataDir = join(dir, 'data');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const reason = (v: Verdict) => (v.allowed ? '' : v.reason);

describe('CLI refusals follow the shared action rule', () => {
  it('hpc stop with nothing recorded is refused with the rule’s sentence, before libvirt is touched', async () => {
    const demo = await createDemoCluster(dataDir, join(dir, 'cluster'));
    const r = await runCli(['--json', 'hpc', 'stop', demo.configFile], { dataDir });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'state-wrong-status', message: reason(clusterActions({ status: 'none', busy: false }).stop) } });
  });

  it('fed start on a running federation and clean without --force are refused; a repeated stop is a no-op that runs', async () => {
    const folder = join(dir, 'fed');
    await mkdir(folder);
    await writeFile(join(folder, 'refedez.yaml'), 'refedez:\n  folder: .refedez\nmachines: {}\n');
    const machine = { name: 'm', kind: 'local' as const, host: 'localhost', port: 22, user: 'root', tmp_dir: '/tmp/clusterdesk-00000000-rule', started_at: '' };
    const target = { kind: 'federation' as const, file: join(folder, '.refedez', 'state.json') };
    await new StateStore().update(target, 'test', () => ({ type: 'running', data: { deployed_files_path: folder, machines: [machine] } }) as never);

    const start = await runCli(['--json', 'fed', 'start', folder], { dataDir });
    expect(start.json()).toMatchObject({
      ok: false,
      error: { code: 'state-wrong-status', message: reason(federationActions({ status: 'running', busy: false }).start) },
    });
    const clean = await runCli(['--json', 'fed', 'clean', folder], { dataDir });
    expect(clean.json()).toMatchObject({
      ok: false,
      error: { code: 'state-wrong-status', message: reason(federationActions({ status: 'running', busy: false }).clean) },
    });

    await new StateStore().update(target, 'test', () => ({ type: 'dirty', data: { deployed_files_path: folder, machines: [machine] } }) as never);
    const stop = await runCli(['--json', 'fed', 'stop', folder], { dataDir });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.json()).toMatchObject({ ok: true, outcomes: [{ result: 'already stopped' }] });
  });
});
