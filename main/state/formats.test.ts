import { chmod, copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppError } from '../errors';
import { isAppError } from '../errors';
import { lineColumn, locateJsonError } from './parse';
import { StateStore, summarize, vmStateFromName, type StateTarget } from './index';
import { tempDir } from '../../test/support/state/samples';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

async function placed(fixture: string, sub: string): Promise<string> {
  const file = join(dir, sub, 'state.json');
  await mkdir(dirname(file), { recursive: true });
  await copyFile(join(fixtures, fixture), file);
  return file;
}

describe('ReFedEz-written state files', () => {
  it('loads a running state: machines flattened, password dropped, closure details kept', async () => {
    const file = await placed('refedez-running.json', '.refedez');
    const store = new StateStore();
    const loaded = await store.loadWithFormat({ kind: 'federation', file });
    expect(loaded!.format).toBe('refedez');
    const state = loaded!.state;
    expect(state.type).toBe('running');
    if (state.type !== 'running') throw new Error('narrowing');
    expect(state.data.deployed_files_path).toBe('/home/ana/cifar-10/.refedez/workspace');
    expect(state.data.machines).toEqual([
      {
        name: 'server',
        kind: 'local',
        host: 'localhost',
        port: 0,
        user: '',
        tmp_dir: '/tmp/439eadc9-69db-4d3c-a635-d25b16cc3cb7',
        started_at: null,
        refedez_closure: { identifier: '/nix/store/3x1k9w6x0a5q-python3-3.12-env', src_uv_project_path: '/home/ana/cifar-10' },
      },
      {
        name: 'site-1',
        kind: 'remote',
        host: '10.0.0.21',
        port: 2222,
        user: 'fl',
        tmp_dir: '/tmp/a729c318-4236-433b-9cee-0c3fa6ce8f00',
        started_at: null,
        refedez_closure: { identifier: '/nix/store/9f8e7d6c5b4a-python3-3.12-env', src_uv_project_path: '/tmp/5e1f0c' },
      },
    ]);
    expect(JSON.stringify(state)).not.toContain('hunter2');
    expect(summarize(state)).toEqual({ status: 'running', count: 2 });
  });

  it('is operated only after an explicit adoption: our format, header added, original in history redacted', async () => {
    const file = await placed('refedez-running.json', '.refedez');
    await chmod(file, 0o644);
    const store = new StateStore();
    const t: StateTarget<'federation'> = { kind: 'federation', file };
    // A lifecycle operation on the unadopted file is refused, and nothing is written.
    const refused = await store.update(t, 'stop', (cur) => ({ ...cur!, type: 'dirty' }) as typeof cur & object).catch((e: unknown) => e);
    expect(isAppError(refused, 'state-foreign')).toBe(true);
    expect((refused as AppError).fields.details).toMatchObject({ format: 'refedez', needsAdoption: true });
    expect(await readFile(file, 'utf8')).toBe(await readFile(join(fixtures, 'refedez-running.json'), 'utf8'));

    const written = await store.adopt(t, (loaded) => loaded.state);
    expect(written.serial).toBe(1);
    expect(written.lineage).toMatch(/^[0-9a-f-]{36}$/);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('password');
    expect((await store.loadWithFormat(t))!.format).toBe('clusterdesk');
    // The original (redacted, 0600) is the first history generation and the backup; no file keeps the password.
    const original = join(`${file}.history`, '000000.json');
    expect((await stat(original)).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(await readFile(original, 'utf8')) as {
      data: { machines: { closure: { machine: { connection: { remote_credentials: unknown } } } }[] };
    };
    expect(kept.data.machines[1]!.closure.machine.connection.remote_credentials).toEqual({ user: 'fl', ip: '10.0.0.21', port: 2222 });
    expect(await readFile(`${file}.backup`, 'utf8')).toBe(await readFile(original, 'utf8'));
    for (const name of await readdir(join(dir, '.refedez'), { recursive: true })) {
      const p = join(dir, '.refedez', name);
      if ((await stat(p)).isFile()) expect(await readFile(p, 'utf8'), p).not.toContain('hunter2');
    }
    // Now operated normally; adopting again is refused.
    expect((await store.update(t, 'stop', (cur) => ({ ...cur!, type: 'dirty' }) as typeof cur & object)).serial).toBe(2);
    expect(isAppError(await store.adopt(t, (l) => l.state).catch((e: unknown) => e), 'invalid-argument')).toBe(true);
  });

  it('loads ReFedEz’s empty dirty state as dirty with no machines', async () => {
    const file = await placed('refedez-dirty.json', '.refedez');
    const state = await new StateStore().loadFederation(file);
    expect(state).toMatchObject({ type: 'dirty', data: { machines: [] } });
    expect(summarize(state!)).toEqual({ status: 'dirty', count: 0 });
  });
});

describe('AI-HOW state files', () => {
  it('converts the implementation’s controller/compute_nodes/network_config layout', async () => {
    const file = await placed('ai-how-implementation.json', 'output');
    const loaded = await new StateStore().loadWithFormat({ kind: 'cluster', file, clusterName: 'hpc-demo' });
    expect(loaded!.format).toBe('ai-how-implementation');
    const s = loaded!.state;
    expect(s.vms.map((v) => [v.name, v.state, v.role, v.gpu_count, v.ip_address])).toEqual([
      ['hpc-demo-controller', 'RUNNING', 'controller', 0, '192.168.100.10'],
      ['hpc-demo-compute-01', 'SHUTOFF', 'compute', 1, null],
      ['hpc-demo-compute-02', 'PAUSED', 'compute', 0, '192.168.100.12'],
    ]);
    expect(s.vms[0]!.volumes).toEqual(['/var/lib/libvirt/images/hpc-demo/hpc-demo-controller.qcow2']);
    expect(s.vms[0]!.vm_type).toBe('controller');
    expect(s.vms[1]!.created_at).toBe('2025-09-30T11:02:13.511204');
    expect(s.volumes).toEqual([
      { name: 'hpc-demo-controller.qcow2', path: '/var/lib/libvirt/images/hpc-demo/hpc-demo-controller.qcow2', size_gb: 100, format: 'qcow2' },
    ]);
    expect(s.networks).toEqual([
      {
        name: 'hpc-demo-network',
        subnet: '192.168.100.0/24',
        bridge: 'virbr100',
        dhcp_start: '192.168.100.100',
        active_ips: ['192.168.100.10', '192.168.100.12'],
      },
    ]);
    expect(s.status).toBe('partial');
    expect(s.last_modified).toBe('2025-09-30T11:09:47.000912');
    expect('controller' in s).toBe(false);
  });

  it('reads the documented format as is and keeps its unknown fields through a rewrite', async () => {
    const file = await placed('ai-how-documented.json', 'output');
    const store = new StateStore();
    const t: StateTarget<'cluster'> = { kind: 'cluster', file, clusterName: 'hpc-docs' };
    expect((await store.loadWithFormat(t))!.format).toBe('ai-how');
    await store.update(t, 'refresh', (cur) => cur!);
    const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { vms: Record<string, unknown>[] };
    expect(raw.extension_from_the_future).toBe(true);
    expect(raw.vms[0]!.future_field).toEqual({ nested: [1, 2, 3] });
    expect(raw.serial).toBe(1);
  });

  it('maps state names like libvirt does', () => {
    expect(['running', 'blocked', 'paused', 'shutoff', 'shut off', 'shutdown', 'crashed', 'pmsuspended', 'nostate', 42].map(vmStateFromName)).toEqual([
      'RUNNING',
      'RUNNING',
      'PAUSED',
      'SHUTOFF',
      'SHUTOFF',
      'DYING',
      'CRASHED',
      'PMSUSPENDED',
      'UNDEFINED',
      'UNDEFINED',
    ]);
  });
});

describe('JSON error location', () => {
  it('finds the first syntax error where V8 gives no position', () => {
    expect(locateJsonError('{"a": 1}')).toBe(-1);
    expect(locateJsonError('{\n  "vms": [,]\n}')).toBe(12);
    expect(locateJsonError('{"a": ')).toBe(6);
    expect(locateJsonError('abc')).toBe(0);
    expect(locateJsonError('{"a":1,}')).toBe(7);
    expect(locateJsonError('"\\x"')).toBe(2);
    expect(locateJsonError('[1] x')).toBe(4);
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
  });
});
