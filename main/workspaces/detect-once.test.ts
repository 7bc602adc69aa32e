/** One command parses cluster.yaml once: detection's document is the one the config load reads, errors and lines intact. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Yaml from 'yaml';
import { fixtureYaml } from '../../test/support/clusters';

// Count the YAML parser's documents (the real parser, wrapped).
const parsed = vi.hoisted(() => ({ count: 0 }));
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof Yaml>();
  return {
    ...yaml,
    parseDocument: (...args: Parameters<typeof yaml.parseDocument>) => {
      parsed.count++;
      return yaml.parseDocument(...args);
    },
  };
});

const { detectWorkspace } = await import('./detect');
const { loadConfig } = await import('../clusters/workspace');
const { parseClusterConfig } = await import('../clusters/config/parse');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-detect-once-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  parsed.count = 0;
});

async function detectThenLoad(text: string) {
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, text);
  const found = await detectWorkspace(dir);
  const config = await loadConfig({ configFile: found.configFile, statePath: found.statePath }, {});
  return { found, config };
}

describe('cluster.yaml is parsed once per command', () => {
  it('detection and the config load share one parse of a valid config', async () => {
    const { found, config } = await detectThenLoad(fixtureYaml('once', 'test:///default', { form: 'list', computeNodes: 2, baseImage: 'base.qcow2' }));
    expect(found.name).toBe('once');
    expect(config.result.errors).toEqual([]);
    expect(config.result.plan?.vms).toHaveLength(3);
    expect(parsed.count).toBe(1);
  });

  it('keeps every config error with its line, as a fresh parse reports them', async () => {
    const text = fixtureYaml('bad', 'test:///default', { form: 'list', computeNodes: 2, baseImage: 'base.qcow2' })
      .replace('cpu_cores: 2, memory_gb: 4', 'cpu_cores: -1, memory_gb: 4')
      .replace('bridge: "cdt88"', 'bridge: 7');
    const { config } = await detectThenLoad(text);
    expect(parsed.count).toBe(1);
    const errors = config.result.errors.map((e) => ({ message: e.message, line: e.fields.line, field: e.fields.field }));
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.map((e) => e.line)).toEqual(expect.arrayContaining([8, 9]));
    // The same text parsed on its own (a different string: a trailing comment) reports exactly the same errors.
    const fresh = await parseClusterConfig(`${text}# fresh\n`, { path: join(dir, 'cluster.yaml'), checkImage: false });
    expect(parsed.count).toBe(2);
    expect(fresh.errors.map((e) => ({ message: e.message, line: e.fields.line, field: e.fields.field }))).toEqual(errors);
  });

  it('a changed file is parsed again: nothing stale is reused', async () => {
    await detectThenLoad(fixtureYaml('first', 'test:///default', { form: 'list', computeNodes: 1, baseImage: 'base.qcow2' }));
    const { config } = await detectThenLoad(fixtureYaml('second', 'test:///default', { form: 'list', computeNodes: 1, baseImage: 'base.qcow2' }));
    expect(config.clusterName).toBe('second');
    expect(parsed.count).toBe(2);
  });
});
