/**
 * Adopting an AI-HOW implementation-format state whose VMs exist on the real test driver (same UUIDs): preview, adopt,
 * stop (graceful then forced), start, destroy — exactly the adopted resources go, a foreign domain and a foreign volume
 * with similar names survive. No libvirt mocks.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { rejection } from '../../test/support/rejection';
import { adoptCluster, previewClusterAdoption, withOwnerMark } from './adopt';
import { destroyCluster } from './destroy';
import { saveTestHost } from './libvirt/test-host';
import { childText, ownerOf } from './libvirt/xml';
import { startCluster } from './start';
import { stopCluster } from './stop';
import { clusterFixture, hostDomains, recordingContext, type ClusterFixture } from '../../test/support/clusters';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

const SECRET = 'aihow-Secret-0f1e2d';

/** Every file under `dir`, recursively. */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function expectNoSecretAnywhere(dir: string): Promise<void> {
  for (const f of await allFiles(dir)) expect(await readFile(f, 'utf8'), f).not.toContain(SECRET);
}

/** A test host as AI-HOW would have left it, plus the state.json its state manager writes. */
async function aiHowDeployment(): Promise<{ f: ClusterFixture; uuids: Record<string, string>; paths: Record<string, string> }> {
  const f = await clusterFixture({
    name: 'hpc-demo',
    computeNodes: 2,
    stopTimeoutSec: 1,
    seed: {
      pools: [{ name: 'aihow-pool', volumes: ['hpc-demo-controller.qcow2', 'hpc-demo-compute-01.qcow2', 'hpc-demo-compute-01-old.qcow2'] }],
      domains: [
        { name: 'hpc-demo-controller', state: 'RUNNING' },
        { name: 'hpc-demo-compute-01', state: 'SHUTOFF' },
        // Someone else's VMs with similar names.
        { name: 'hpc-demo-compute-01-copy', state: 'RUNNING' },
        { name: 'hpc-demo-compute-02', state: 'RUNNING' },
      ],
    },
  });
  const h = await f.host.open();
  const uuids: Record<string, string> = {};
  const paths: Record<string, string> = {};
  try {
    for (const name of ['hpc-demo-controller', 'hpc-demo-compute-01', 'hpc-demo-compute-01-copy', 'hpc-demo-compute-02']) {
      uuids[name] = childText(await h.domainXml(name, { inactive: true }), 'uuid')!.trim();
    }
    for (const v of await h.listVolumes('aihow-pool')) paths[v.name] = v.path;
    // compute-01 ignores graceful shutdown (the driver applies on_poweroff=restart): stop must force it off.
    const xml = await h.domainXml('hpc-demo-compute-01', { inactive: true });
    await h.defineDomain(
      xml.includes('<on_poweroff>destroy</on_poweroff>')
        ? xml.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>restart</on_poweroff>')
        : xml.replace('</domain>', '<on_poweroff>restart</on_poweroff></domain>'),
    );
    await h.startDomain('hpc-demo-compute-01');
    await saveTestHost(h, f.host.file);
  } finally {
    await h.close();
  }
  const vm = (name: string, extra: Record<string, unknown>) => ({
    name,
    domain_uuid: uuids[name],
    state: 'running',
    cpu_cores: 2,
    memory_gb: 4,
    volume_path: paths[`${name}.qcow2`] ?? `/var/lib/libvirt/images/${name}.qcow2`,
    vm_type: 'compute',
    ip_address: null,
    gpu_assigned: false,
    created_at: '2025-09-30T11:02:13.511204',
    last_modified: '2025-09-30T11:09:47.000912',
    ...extra,
  });
  const state = {
    cluster_name: 'hpc-demo',
    cluster_type: 'hpc',
    controller: vm('hpc-demo-controller', { vm_type: 'controller' }),
    compute_nodes: [
      vm('hpc-demo-compute-01', { gpu_assigned: true, cpu_cores: 8 }),
      // Recorded by AI-HOW, but the domain of that name now is someone else's (another UUID).
      vm('hpc-demo-compute-02', { domain_uuid: randomUUID() }),
    ],
    worker_nodes: [],
    network_config: { subnet: '192.168.100.0/24', bridge: 'virbr100', dns_mode: 'isolated', dns_servers: ['8.8.8.8'], static_leases: {} },
    storage_pool: {
      name: 'aihow-pool',
      path: '/var/lib/libvirt/images/hpc-demo',
      type: 'dir',
      capacity_gb: 100,
      allocation_gb: 2,
      available_gb: 98,
      volumes: [],
      uuid: null,
    },
    config_file_path: f.ws.configFile,
    state_file_version: '2.0',
    created_at: '2025-09-30T11:02:13.511204',
    last_modified: '2025-09-30T11:09:47.000912',
    registry_credentials: { user: 'ana', password: SECRET },
  };
  await mkdir(join(f.dir, 'output'), { recursive: true });
  await writeFile(f.ws.statePath, `${JSON.stringify(state, null, 4)}\n`, { mode: 0o644 });
  return { f, uuids, paths };
}

describe('adopting an AI-HOW implementation-format state', () => {
  it('adds our owner mark to a domain XML, replacing an older one', () => {
    const xml = "<domain type='test'><name>a</name><uuid>u</uuid><metadata><x:y xmlns:x='urn:x'/></metadata></domain>";
    const once = withOwnerMark(xml, { lineage: 'l1', cluster: 'c', role: 'compute' });
    expect(ownerOf(once)).toEqual({ lineage: 'l1', cluster: 'c', role: 'compute' });
    expect(once).toContain('urn:x');
    expect(ownerOf(withOwnerMark(once, { lineage: 'l2', cluster: 'c' }))).toEqual({ lineage: 'l2', cluster: 'c' });
    expect(ownerOf(withOwnerMark('<domain><name>a</name></domain>', { lineage: 'l3', cluster: 'c' }))?.lineage).toBe('l3');
  });

  it('preview → adopt → stop (graceful, then forced) → start → destroy removes exactly the adopted resources', async () => {
    const { f, uuids, paths } = await aiHowDeployment();
    fx = f;

    // Before adoption: read (status) works, operating it is refused with a pointer to adoption.
    const before = await f.state();
    expect(before?.serial).toBeUndefined();
    expect(before?.vms.map((v) => [v.name, v.gpu_count, v.volumes])).toEqual([
      ['hpc-demo-controller', 0, [paths['hpc-demo-controller.qcow2']]],
      ['hpc-demo-compute-01', 1, [paths['hpc-demo-compute-01.qcow2']]],
      ['hpc-demo-compute-02', 0, ['/var/lib/libvirt/images/hpc-demo-compute-02.qcow2']],
    ]);
    const refused = await rejection(stopCluster(f.env, f.ws, recordingContext()));
    expect(refused.code).toBe('state-foreign');
    expect(refused.fields.details?.['needsAdoption']).toBe(true);
    expect(refused.hint).toContain('clusterdesk state adopt');

    const preview = await previewClusterAdoption(f.env, f.ws);
    expect(preview.needed).toBe(true);
    expect(preview.items.map((i) => [i.kind, i.name, i.matched])).toEqual([
      ['vm', 'hpc-demo-controller', true],
      ['vm', 'hpc-demo-compute-01', true],
      ['vm', 'hpc-demo-compute-02', false],
      ['volume', 'hpc-demo-controller.qcow2', true],
      ['volume', 'hpc-demo-compute-01.qcow2', true],
      ['volume', 'hpc-demo-compute-02.qcow2', false],
      ['network', 'hpc-demo-network', false],
      ['pool', 'aihow-pool', false],
    ]);
    expect(preview.items.find((i) => i.name === 'hpc-demo-compute-02')?.reason).toContain('not the recorded');
    expect(preview.secretsDropped).toEqual(['registry_credentials.password']);
    expect(preview.keptFields).toEqual(
      expect.arrayContaining(['storage_pool', 'state_file_version', 'vms[].domain_uuid', 'vms[].gpu_assigned', 'vms[].volume_path']),
    );

    const { state } = await adoptCluster(f.env, f.ws, recordingContext());
    expect(state.serial).toBeGreaterThanOrEqual(1);
    expect(state.lineage).toMatch(/^[0-9a-f-]{36}$/);
    const adopted = await f.state();
    expect(adopted?.serial).toBe(state.serial);
    const vms = adopted!.vms as unknown as Record<string, unknown>[];
    expect(vms.map((v) => [v.name, v.domain_uuid, v.gpu_assigned, v.volume_path, v.adopted])).toEqual([
      ['hpc-demo-controller', uuids['hpc-demo-controller'], false, paths['hpc-demo-controller.qcow2'], 'domain_uuid'],
      ['hpc-demo-compute-01', uuids['hpc-demo-compute-01'], true, paths['hpc-demo-compute-01.qcow2'], 'domain_uuid'],
      ['hpc-demo-compute-02', expect.any(String), false, '/var/lib/libvirt/images/hpc-demo-compute-02.qcow2', false],
    ]);
    expect(adopted!.volumes.map((v) => [v.name, v.path])).toEqual([
      ['hpc-demo-controller.qcow2', paths['hpc-demo-controller.qcow2']],
      ['hpc-demo-compute-01.qcow2', paths['hpc-demo-compute-01.qcow2']],
    ]);
    expect((adopted as Record<string, unknown>).storage_pool).toMatchObject({ name: 'aihow-pool', type: 'dir' });
    // The original is in history, redacted, 0600; nothing anywhere keeps the password.
    const history = join(f.dir, 'output', 'state.json.history');
    const originals = (await readdir(history)).sort();
    const first = join(history, originals[0]!);
    expect((await stat(first)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(first, 'utf8'))).toMatchObject({
      controller: { domain_uuid: uuids['hpc-demo-controller'] },
      registry_credentials: { user: 'ana' },
    });
    await expectNoSecretAnywhere(f.dir);
    // The matched domains carry our mark; the others do not.
    const h = await f.host.open();
    try {
      expect(ownerOf(await h.domainXml('hpc-demo-controller', { inactive: true }))).toEqual({
        lineage: state.lineage,
        cluster: 'hpc-demo',
        role: 'controller',
      });
      expect(ownerOf(await h.domainXml('hpc-demo-compute-01', { inactive: true }))?.lineage).toBe(state.lineage);
      expect(ownerOf(await h.domainXml('hpc-demo-compute-02', { inactive: true }))).toBeNull();
    } finally {
      await h.close();
    }
    // Adopting twice is refused; the preview says there is nothing to do.
    expect((await previewClusterAdoption(f.env, f.ws)).needed).toBe(false);
    expect(isAppError(await rejection(adoptCluster(f.env, f.ws, recordingContext())), 'invalid-argument')).toBe(true);

    const stopped = await stopCluster(f.env, f.ws, recordingContext());
    expect(stopped.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-demo-controller', 'stopped'],
      ['hpc-demo-compute-01', 'forced'],
      ['hpc-demo-compute-02', 'failed'],
    ]);
    expect(await hostDomains(f.host)).toEqual([
      ['hpc-demo-compute-01', 'SHUTOFF'],
      ['hpc-demo-compute-01-copy', 'RUNNING'],
      ['hpc-demo-compute-02', 'RUNNING'],
      ['hpc-demo-controller', 'SHUTOFF'],
    ]);

    // start: the adopted domains start on their own disks; the name held by someone else's domain is refused.
    const startErr = await rejection(startCluster(f.env, f.ws, recordingContext()));
    expect(startErr.code).toBe('libvirt-conflict');
    expect(startErr.fields.details?.['conflicts']).toEqual(['hpc-demo-compute-02']);
    // Without the foreign VM in the config's way (its owner removed it), start brings the adopted ones back.
    const h2 = await f.host.open();
    try {
      await h2.destroyDomain('hpc-demo-compute-02');
      await h2.undefineDomain('hpc-demo-compute-02');
      await saveTestHost(h2, f.host.file);
    } finally {
      await h2.close();
    }
    await startCluster(f.env, f.ws, recordingContext());
    const running = await f.state();
    expect(running?.vms.find((v) => v.name === 'hpc-demo-controller')).toMatchObject({ state: 'RUNNING', volumes: [paths['hpc-demo-controller.qcow2']] });
    expect(running?.vms.find((v) => v.name === 'hpc-demo-compute-01')).toMatchObject({ state: 'RUNNING', volumes: [paths['hpc-demo-compute-01.qcow2']] });

    const destroyed = await destroyCluster(f.env, f.ws, recordingContext());
    expect(destroyed.outcomes.filter((o) => o.result === 'deleted').map((o) => o.target)).toEqual(
      expect.arrayContaining(['hpc-demo-controller', 'hpc-demo-compute-01', 'hpc-demo-controller.qcow2', 'hpc-demo-compute-01.qcow2']),
    );
    expect(await f.state()).toBeNull();
    expect((await hostDomains(f.host)).map(([n]) => n)).toEqual(['hpc-demo-compute-01-copy']);
    const h3 = await f.host.open();
    try {
      expect((await h3.listVolumes('aihow-pool')).map((v) => v.name)).toEqual(['hpc-demo-compute-01-old.qcow2']);
      expect((await h3.listPools()).map((p) => p.name)).toEqual(['aihow-pool']);
    } finally {
      await h3.close();
    }
    await expectNoSecretAnywhere(f.dir);
  });
});
