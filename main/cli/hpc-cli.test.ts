import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoCluster } from '../clusters/service';
import { runCli } from '../../test/support/run-cli';

let dir = '';
let dataDir = '';
let config = '';
let name = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-cli-hpc-'));
  dataDir = join(dir, 'data');
  const demo = await createDemoCluster(dataDir, join(dir, 'demo'));
  config = demo.configFile;
  name = demo.clusterName;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test runs several CLI processes through tsx: minutes on a loaded 2-core machine. Nothing here is timed.
describe('clusterdesk hpc (libvirt test driver, one process per command)', { timeout: 300_000 }, () => {
  it('validates the config', async () => {
    const r = await runCli(['hpc', 'validate', config], { dataDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${name}-controller`);
    expect((await runCli(['--json', 'hpc', 'validate', config], { dataDir })).json()).toMatchObject({ ok: true, valid: true, errors: [] });
  });

  it('starts, reports status from another process, stops and destroys', async () => {
    const start = await runCli(['--json', 'hpc', 'start', config], { dataDir });
    expect(start.code, start.stderr).toBe(0);
    const started = start.json<{ status: string; outcomes: { target: string; result: string }[] }>();
    expect(started.status).toBe('running');
    expect(started.outcomes.length).toBeGreaterThan(0);
    expect(start.stderr).toContain('progress'); // JSON progress lines go to stderr

    const status = await runCli(['hpc', 'status', config], { dataDir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${name}-controller\\s+RUNNING`));
    expect(status.stdout).toContain('No drift');

    const refresh = await runCli(['--json', 'hpc', 'refresh', config], { dataDir });
    expect(refresh.json()).toMatchObject({ ok: true, drift: [], applied: false });
    expect((await runCli(['hpc', 'refresh', config], { dataDir })).stdout).toContain('No drift');
    expect((await runCli(['--json', 'hpc', 'status', config], { dataDir })).json()).toMatchObject({ ok: true, drift: [], recorded: { status: 'running' } });

    const stop = await runCli(['hpc', 'stop', '--timeout', '5', config], { dataDir });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/stopped/);
    const state = JSON.parse(await readFile(join(dir, 'demo', 'output', 'state.json'), 'utf8')) as { status: string; vms: { state: string }[] };
    expect(state.status).toBe('stopped');
    expect(state.vms.every((v) => v.state === 'SHUTOFF')).toBe(true);

    const refused = await runCli(['hpc', 'destroy', config], { dataDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    const destroy = await runCli(['hpc', 'destroy', '--force', config], { dataDir });
    expect(destroy.code, destroy.stderr).toBe(0);
    await expect(stat(join(dir, 'demo', 'output', 'state.json'))).rejects.toThrow();
  });

  it('honours AI_HOW_STATE_FILE and --state', async () => {
    const other = join(dir, 'elsewhere', 'state.json');
    const r = await runCli(['hpc', 'start', config], { dataDir, env: { AI_HOW_STATE_FILE: other } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await readFile(other, 'utf8'))).toMatchObject({ cluster_name: name, status: 'running' });
    const shown = await runCli(['--json', 'state', 'show', '--state', other, config], { dataDir });
    expect(shown.json()).toMatchObject({ status: 'running' });
    expect((await runCli(['hpc', 'destroy', '--force', '--state', other, config], { dataDir })).code).toBe(0);
  });

  it('an imported cluster state can be operated from the importing workspace', async () => {
    expect((await runCli(['hpc', 'start', config], { dataDir })).code).toBe(0);
    const bundle = join(dir, 'demo.cdstate');
    expect((await runCli(['state', 'export', bundle, config], { dataDir })).code).toBe(0);
    // A colleague's checkout of the same cluster.yaml (same libvirt URI), with no state of its own.
    const theirs = join(dir, 'colleague');
    await mkdir(theirs);
    await copyFile(config, join(theirs, 'cluster.yaml'));
    const imported = await runCli(['--json', 'state', 'import', bundle, theirs], { dataDir: join(dir, 'colleague-data') });
    expect(imported.json()).toMatchObject({ ok: true, written: true, preview: { verdict: 'accept' } });
    const stop = await runCli(['--json', 'hpc', 'stop', '--timeout', '5', theirs], { dataDir: join(dir, 'colleague-data') });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.json()).toMatchObject({ status: 'stopped' });
    // The original workspace sees the VMs off on its next status.
    const status = await runCli(['hpc', 'status', config], { dataDir });
    expect(status.stdout).toMatch(new RegExp(`${name}-controller\\s+RUNNING`));
    expect(status.stdout).toMatch(/state-differs\s+vm/);
    expect((await runCli(['hpc', 'destroy', '--force', theirs], { dataDir: join(dir, 'colleague-data') })).code).toBe(0);
    await rm(join(dir, 'demo', 'output'), { recursive: true, force: true });
  });

  it('answers an invalid config with exit 1 and the line', async () => {
    const bad = join(dir, 'bad.yaml');
    await (await import('node:fs/promises')).writeFile(bad, 'version: "1.0"\nclusters:\n  hpc:\n    name: "bad name!"\n');
    const r = await runCli(['--json', 'hpc', 'validate', bad], { dataDir });
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ valid: false });
  });
});
