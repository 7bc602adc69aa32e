import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { StateStore, type StateTarget } from '../state';
import { exportState, importState, previewStateImport, type ShareTarget } from './service';

let dir = '';
const store = new StateStore({ lockTimeoutMs: 2_000 });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-share-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cluster(name: string, vms: string[], status = 'running') {
  const now = '2026-11-23T10:00:00.000+00:00';
  return {
    cluster_name: name,
    cluster_type: 'hpc',
    status,
    created_at: now,
    last_modified: now,
    vms: vms.map((vm) => ({
      name: vm,
      cpu_cores: 2,
      memory_gb: 4,
      state: 'RUNNING',
      ip_address: null,
      gpu_count: 0,
      volumes: [],
      created_at: now,
      last_seen: now,
    })),
    networks: [{ name: `${name}-network`, subnet: '192.168.100.0/24', bridge: 'virbr100', active_ips: [] }],
    volumes: [],
  };
}

function ws(file: string, name = 'hpc'): ShareTarget {
  return { kind: 'cluster', name, target: { kind: 'cluster', file, clusterName: name } };
}

async function seed(file: string, vms: string[], times = 1) {
  const target: StateTarget = { kind: 'cluster', file, clusterName: 'hpc' };
  for (let i = 0; i < times; i++) await store.update(target, 'seed', () => cluster('hpc', vms) as never);
}

const exported = async (file: string, out?: string) => (await exportState(store, ws(file), { appVersion: '0.1.0', ...(out ? { file: out } : {}) })).content;

describe('export / import', () => {
  it('round-trips between two workspaces (two data dirs) and keeps the serial', async () => {
    const a = join(dir, 'alice', 'output', 'state.json');
    const b = join(dir, 'bob', 'output', 'state.json');
    await seed(a, ['hpc-controller', 'hpc-compute-01'], 3);
    const bundleFile = join(dir, 'hpc.cdstate');
    const content = await exported(a, bundleFile);
    expect((await stat(bundleFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(bundleFile, 'utf8')).toBe(content);

    const preview = await previewStateImport(store, ws(b), content);
    expect(preview).toMatchObject({ verdict: 'accept', added: ['hpc-controller', 'hpc-compute-01'], removed: [] });
    const r = await importState(store, ws(b), content, { force: false, adopt: false });
    expect(r.written).toBe(true);
    const sa = await store.load({ kind: 'cluster', file: a });
    const sb = await store.load({ kind: 'cluster', file: b });
    const strip = (s: unknown) => ({ ...(s as object), last_modified: undefined });
    expect(strip(sb)).toEqual(strip(sa));
    expect(sb?.lineage).toBe(sa?.lineage);
    expect(sb?.serial).toBe(3);
    // Importing the same bundle again is a no-op.
    expect(await importState(store, ws(b), content, { force: false, adopt: false })).toMatchObject({ written: false, preview: { verdict: 'identical' } });
  });

  it('the preview announces the serial the import really writes: past the history, never below the bundle', async () => {
    const a = join(dir, 'a2', 'output', 'state.json');
    const b = join(dir, 'b2', 'output', 'state.json');
    await seed(a, ['hpc-controller'], 2);
    const first = await exported(a);
    // b takes a's deployment at serial 2, then moves to serial 6 on its own; a forced import of the old bundle
    // writes a new generation (7), not the bundle's 2.
    await importState(store, ws(b), first, { force: false, adopt: false });
    await seed(b, ['hpc-controller', 'hpc-compute-01'], 4);
    const stale = await previewStateImport(store, ws(b), first);
    expect(stale).toMatchObject({ verdict: 'needs-force', incoming: { serial: 2 }, writeSerial: 7 });
    await importState(store, ws(b), first, { force: true, adopt: false });
    expect((await store.load({ kind: 'cluster', file: b }))?.serial).toBe(7);
    // A bundle newer than everything here keeps its own serial; a no-op writes nothing.
    await seed(a, ['hpc-controller', 'hpc-compute-09'], 9);
    const newer = await exported(a);
    expect(await previewStateImport(store, ws(b), newer)).toMatchObject({ verdict: 'accept', incoming: { serial: 11 }, writeSerial: 11 });
    await importState(store, ws(b), newer, { force: false, adopt: false });
    expect((await store.load({ kind: 'cluster', file: b }))?.serial).toBe(11);
    expect(await previewStateImport(store, ws(b), newer)).toMatchObject({ verdict: 'identical', writeSerial: null });
  });

  it('refuses a tampered bundle', async () => {
    const a = join(dir, 'a', 'state.json');
    await seed(a, ['hpc-controller']);
    const tampered = (await exported(a)).replace('"cpu_cores": 2', '"cpu_cores": 64');
    await expect(importState(store, ws(join(dir, 'b', 'state.json')), tampered, { force: false, adopt: false })).rejects.toSatisfy((e) =>
      isAppError(e, 'bundle-invalid'),
    );
  });

  it('refuses an older serial with other content, then accepts it forced (the current state stays in history)', async () => {
    const a = join(dir, 'a', 'state.json');
    await seed(a, ['hpc-controller']);
    const old = await exported(a);
    await seed(a, ['hpc-controller', 'hpc-compute-01'], 2);
    await expect(importState(store, ws(a), old, { force: false, adopt: false })).rejects.toSatisfy((e) => isAppError(e, 'state-stale'));
    expect((await store.load({ kind: 'cluster', file: a }))?.vms).toHaveLength(2);
    const r = await importState(store, ws(a), old, { force: true, adopt: false });
    expect(r.preview.verdict).toBe('needs-force');
    const after = await store.load({ kind: 'cluster', file: a });
    expect(after?.vms.map((v) => v.name)).toEqual(['hpc-controller']);
    expect(after?.serial).toBe(4);
    const backups = await store.backups({ kind: 'cluster', file: a });
    expect(backups.some((b) => b.valid && b.serial === 3 && b.count === 2)).toBe(true);
  });

  it('refuses another lineage, then adopts it', async () => {
    const a = join(dir, 'a', 'state.json');
    const b = join(dir, 'b', 'state.json');
    await seed(a, ['hpc-controller']);
    await seed(b, ['hpc-controller', 'hpc-compute-09']);
    const fromA = await exported(a);
    await expect(importState(store, ws(b), fromA, { force: false, adopt: false })).rejects.toSatisfy((e) => isAppError(e, 'state-foreign'));
    const r = await importState(store, ws(b), fromA, { force: false, adopt: true });
    const sa = await store.load({ kind: 'cluster', file: a });
    expect(r.lineage).toBe(sa?.lineage);
    expect((await store.load({ kind: 'cluster', file: b }))?.lineage).toBe(sa?.lineage);
  });

  it('refuses a bundle of another cluster or another kind', async () => {
    const a = join(dir, 'a', 'state.json');
    await seed(a, ['hpc-controller']);
    const content = await exported(a);
    await expect(previewStateImport(store, ws(join(dir, 'x', 'state.json'), 'other'), content)).rejects.toSatisfy((e) => isAppError(e, 'state-mismatch'));
    const fed: ShareTarget = { kind: 'federation', name: 'f', target: { kind: 'federation', file: join(dir, 'f', 'state.json') } };
    await expect(previewStateImport(store, fed, content)).rejects.toSatisfy((e) => isAppError(e, 'bundle-invalid'));
  });

  it('never carries passwords or key material, and can replace home paths', async () => {
    const fedDir = join(dir, 'fed', '.refedez');
    await mkdir(fedDir, { recursive: true });
    const file = join(fedDir, 'state.json');
    // A state written by ReFedEz itself, credentials included.
    await writeFile(
      file,
      JSON.stringify({
        type: 'running',
        data: {
          deployed_files_path: `${homedir()}/fl/workspace`,
          machines: [
            {
              closure: {
                machine: {
                  name: 'site1',
                  connection: { type: 'remote', remote_credentials: { user: 'fl', ip: '127.0.0.5', port: 22, password: 'hunter2-secret' } },
                },
              },
              tmp_dir: '/tmp/tmpab12cd34',
            },
          ],
        },
      }),
    );
    const target: ShareTarget = { kind: 'federation', name: 'fed', target: { kind: 'federation', file } };
    // Not adopted yet: no lineage or serial to put in a bundle.
    const refused = await exportState(store, target, { appVersion: '0.1.0' }).catch((e: unknown) => e);
    expect(isAppError(refused, 'state-foreign')).toBe(true);
    const adopted = await store.adopt(target.target, (l) => l.state);
    const { content, bundle } = await exportState(store, target, { appVersion: '0.1.0', redactHome: true });
    expect(bundle.lineage).toBe(adopted.lineage);
    expect(bundle.serial).toBe(adopted.serial);
    expect(content).not.toContain('hunter2-secret');
    expect(content).not.toMatch(/password|PRIVATE KEY|BEGIN OPENSSH/i);
    expect(content).not.toContain(homedir());
    expect(content).toContain('~/fl/workspace');
    expect(bundle.redacted.home_paths).toBe(true);
    // It imports into an empty federation with its lineage and serial.
    const empty: ShareTarget = { kind: 'federation', name: 'fed2', target: { kind: 'federation', file: join(dir, 'fed2', '.refedez', 'state.json') } };
    expect((await previewStateImport(store, empty, content)).verdict).toBe('accept');
    const r = await importState(store, empty, content, { force: false, adopt: false });
    expect(r).toMatchObject({ written: true, lineage: adopted.lineage });
    expect(await store.loadFederation(empty.target.file)).toMatchObject({ type: 'running', lineage: adopted.lineage, serial: adopted.serial });
  });
});
