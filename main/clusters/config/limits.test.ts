/**
 * Issue #10: cluster.yaml and refedez.yaml cannot stall or crash us — sizes, node counts, aliases, nesting and special
 * files each answer one `config-invalid` naming the limit. On the code before these limits the 100,000-node list took
 * ~30 s and 1.4 GB, the alias bomb answered `internal`, the 100,000-deep flow crashed the process (out of memory in
 * the YAML parser), and each FIFO below blocked forever.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YAML_LIMITS } from '../../files/yaml-limits';
import { validateFederationConfig } from '../../federations/config/federation-config';
import { loadConfig } from '../workspace';
import { DEFAULT_MAX_COMPUTE_NODES, loadClusterConfig, MAX_COMPUTE_NODES_CEILING, parseClusterConfig } from './parse';

const run = promisify(execFile);
let dir: string;
const servers: Server[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-cfglimits-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

function header(nodes: string, extra = ''): string {
  return [
    'version: "1.0"',
    'metadata: { name: big }',
    extra,
    'clusters:',
    '  hpc:',
    '    name: big',
    '    base_image_path: /images/base.qcow2',
    '    network: { subnet: "10.20.0.0/16", bridge: virbr20 }',
    '    controller: { cpu_cores: 2, memory_gb: 4, disk_gb: 50, ip_address: "10.20.0.10" }',
    '    compute_nodes:',
    nodes,
    '',
  ].join('\n');
}

function listNodes(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += `      - { cpu_cores: 1, memory_gb: 1, disk_gb: 10, ip: DHCP }\n`;
  return out;
}

async function only(text: string) {
  const r = await parseClusterConfig(text, { path: join(dir, 'cluster.yaml') });
  expect(r.plan).toBeNull();
  expect(r.errors.map((e) => e.code)).toEqual(['config-invalid']);
  return r.errors[0]!;
}

let n = 0;
const file = (name = 'cluster.yaml') => join(dir, `f${++n}-${name}`);

describe('compute node count: one cap for both forms', () => {
  it('a 100,000-node list is refused before it is parsed (size / item limit)', async () => {
    const path = file();
    await writeFile(path, header(listNodes(100_000)));
    const r = await loadClusterConfig(path);
    expect(r.plan).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.code).toBe('config-invalid');
    expect(r.errors[0]!.message).toMatch(/limit of 1\.0 MiB|more than 65536 list items/);
  });

  it('a 100,000-node list written with aliases (small file) is refused by the item limit', async () => {
    const text = header(`      [&n { cpu_cores: 1, memory_gb: 1, disk_gb: 10, ip: DHCP }, ${'*n, '.repeat(99_998)}*n]`);
    expect(text.length).toBeLessThan(YAML_LIMITS.maxBytes);
    const e = await only(text);
    expect(e.message).toContain(`more than ${YAML_LIMITS.maxItems} list items`);
  });

  it(`a list of ${DEFAULT_MAX_COMPUTE_NODES + 1} nodes names the cap, like a count of ${DEFAULT_MAX_COMPUTE_NODES + 1}`, async () => {
    const list = await only(header(listNodes(DEFAULT_MAX_COMPUTE_NODES + 1)));
    expect(list.message).toContain(`${DEFAULT_MAX_COMPUTE_NODES + 1} compute nodes is more than the limit of ${DEFAULT_MAX_COMPUTE_NODES}`);
    expect(list.fields.field).toBe('clusters.hpc.compute_nodes');
    expect(list.hint).toContain('max_compute_nodes');
    const counted = await only(
      header(`      count: ${DEFAULT_MAX_COMPUTE_NODES + 1}\n      cpu_cores: 1\n      memory_gb: 1\n      disk_gb: 10\n      ip: DHCP`),
    );
    expect(counted.message).toContain(`more than the limit of ${DEFAULT_MAX_COMPUTE_NODES}`);
    expect(counted.fields.field).toBe('clusters.hpc.compute_nodes.count');
  });

  it('clusterdesk.max_compute_nodes raises the cap for both forms, up to the ceiling', async () => {
    const ext = 'clusterdesk: { max_compute_nodes: 1200 }';
    const counted = await parseClusterConfig(header('      count: 1100\n      cpu_cores: 1\n      memory_gb: 1\n      disk_gb: 10\n      ip: DHCP', ext), {
      path: file(),
    });
    expect(counted.errors).toEqual([]);
    expect(counted.plan?.vms).toHaveLength(1101);
    const listed = await parseClusterConfig(header(listNodes(1100), ext), { path: file() });
    expect(listed.errors).toEqual([]);
    expect(listed.plan?.vms).toHaveLength(1101);
    expect((await only(header(listNodes(1201), ext))).message).toContain('more than the limit of 1200');
    const over = await only(header(listNodes(2), `clusterdesk: { max_compute_nodes: ${MAX_COMPUTE_NODES_CEILING + 1} }`));
    expect(over.fields.field).toBe('clusterdesk.max_compute_nodes');
    expect(over.message).toContain(`1 to ${MAX_COMPUTE_NODES_CEILING}`);
  });
});

describe('YAML limits', () => {
  it('an alias bomb is config-invalid naming the alias limit (cluster.yaml, workspace load and refedez.yaml)', async () => {
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    let prev = 'a';
    for (let i = 0; i < 9; i++) {
      bomb += `b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
      prev = `b${i}`;
    }
    const e = await only(bomb);
    expect(e.message).toContain(`beyond the limit of ${YAML_LIMITS.maxAliasCount}`);
    const path = file();
    await writeFile(path, bomb);
    const loaded = await loadConfig({ configFile: path, statePath: join(dir, 'state.json') }, {});
    expect(loaded.result.errors.map((x) => x.code)).toEqual(['config-invalid']);
    const fed = await validateFederationConfig(await writeTo(file('refedez.yaml'), bomb));
    expect(fed.ok).toBe(false);
    if (!fed.ok) {
      expect(fed.errors[0]!.code).toBe('config-invalid');
      expect(fed.errors[0]!.message).toContain('aliases');
    }
  });

  const deep: [string, string][] = [
    ['flow, 100,000 deep', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`],
    ['flow mappings, 5,000 deep', `a: ${'{b: '.repeat(5000)}1${'}'.repeat(5000)}\n`],
    ['block sequences on one line, 2,000 deep', `a:\n  ${'- '.repeat(2000)}x\n`],
    ['indentation, 1,000 deep', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n'],
  ];
  for (const [what, text] of deep) {
    it(`nesting (${what}) is config-invalid naming the depth limit`, async () => {
      const e = await only(text);
      expect(e.message).toContain(`nesting deeper than ${YAML_LIMITS.maxDepth} levels`);
      const fed = await validateFederationConfig(await writeTo(file('refedez.yaml'), text));
      expect(!fed.ok && fed.errors[0]!.message).toContain('nesting deeper');
    });
  }

  it('quotes, comments and block scalars do not count as nesting', async () => {
    const text = header(
      listNodes(2),
      [
        'notes: |',
        `  ${'[{'.repeat(200)} don't`,
        '      - - - - deeper text',
        `quoted: "${'['.repeat(200)}"`,
        `single: '${'{'.repeat(200)} it''s'`,
        `# ${'['.repeat(200)}`,
        `plain: a[${'['.repeat(100)}`,
      ].join('\n'),
    );
    const r = await parseClusterConfig(text, { path: file() });
    expect(r.errors).toEqual([]);
    expect(r.plan?.vms).toHaveLength(3);
  });

  it('a 1 GiB sparse cluster.yaml is refused from its size, not read', async () => {
    const path = file();
    const fh = await open(path, 'w');
    await fh.truncate(2 ** 30);
    await fh.close();
    const r = await loadClusterConfig(path);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.code).toBe('config-invalid');
    expect(r.errors[0]!.message).toContain('1.0 GiB, more than the limit of 1.0 MiB');
    const loaded = await loadConfig({ configFile: path, statePath: join(dir, 'state.json') }, {});
    expect(loaded.result.errors[0]!.message).toContain('more than the limit');
    const fed = await validateFederationConfig(path);
    expect(!fed.ok && fed.errors[0]!.message).toContain('more than the limit');
  });
});

type Special = 'fifo' | 'directory' | 'socket' | 'device';
async function makeSpecial(path: string, kind: Special): Promise<void> {
  if (kind === 'fifo') await run('mkfifo', [path]);
  else if (kind === 'directory') await mkdir(path);
  else if (kind === 'device') await symlink('/dev/zero', path);
  else {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
  }
}

async function writeTo(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}

describe('special files as config or base image: config-invalid at once', () => {
  for (const kind of ['fifo', 'directory', 'socket', 'device'] as const) {
    it(`a ${kind} as cluster.yaml, as refedez.yaml, and as the base image`, async () => {
      const cfg = file(`${kind}.yaml`);
      await makeSpecial(cfg, kind);
      const r = await loadClusterConfig(cfg);
      expect(r.errors.map((e) => e.code)).toEqual(['config-invalid']);
      const ws = await loadConfig({ configFile: cfg, statePath: join(dir, 'state.json') }, {});
      expect(ws.result.errors.map((e) => e.code)).toEqual(['config-invalid']);
      const fed = await validateFederationConfig(cfg);
      expect(fed.ok).toBe(false);
      if (!fed.ok) expect(fed.errors[0]!.code).toBe('config-invalid');

      const image = file(`${kind}.qcow2`);
      await makeSpecial(image, kind);
      for (const checkImage of [true, false]) {
        const text = header(listNodes(1)).replace('/images/base.qcow2', image);
        const res = await parseClusterConfig(text, { path: file(), checkImage });
        expect(res.errors.map((x) => x.code)).toEqual(['config-invalid']);
        expect(res.errors[0]!.message).toContain(`is a ${kind === 'device' ? 'character device' : kind}, not a file`);
      }
    });
  }
});
