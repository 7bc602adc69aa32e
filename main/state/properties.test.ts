import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { isCertainlyValidCluster } from './fast-validate';
import { clusterStateSchema, serializeState, StateStore, VM_STATES, type StateKind, type StateTarget } from './index';
import { isSecretKey } from './convert';
import { sampleCluster, sampleFederation, tempDir } from '../../test/support/state/samples';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('clusterdesk-props-'));
});
afterAll(async () => {
  await cleanup();
});

let n = 0;
const target = <K extends StateKind>(kind: K): StateTarget<K> => ({ kind, file: join(dir, `p-${++n}`, 'state.json') });

const KNOWN = new Set([
  'cluster_name',
  'cluster_type',
  'status',
  'created_at',
  'last_modified',
  'vms',
  'networks',
  'volumes',
  'pools',
  'version',
  'serial',
  'lineage',
  'type',
  'data',
  'machines',
  'deployed_files_path',
  'name',
  'cpu_cores',
  'memory_gb',
  'state',
  'ip_address',
  'gpu_count',
  'subnet',
  'bridge',
  'active_ips',
  'path',
  'size_gb',
  'format',
  'kind',
  'host',
  'port',
  'user',
  'tmp_dir',
  'started_at',
  'pid',
  'controller',
  'compute_nodes',
  'worker_nodes',
  'network_config',
  'closure',
]);
// Unknown fields: any name except ours, secrets (stripped by design) and __proto__ (not a plain data key in JS).
const extraKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !KNOWN.has(k) && !isSecretKey(k) && k !== '__proto__');
const extras = fc.dictionary(extraKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const text = fc.string({ maxLength: 20 });
const iso = fc.date({ min: new Date(2000, 0, 1), max: new Date(2100, 0, 1), noInvalidDate: true }).map((d) => d.toISOString());

const vm = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    cpu_cores: fc.nat(256),
    memory_gb: fc.double({ min: 0, max: 4096, noNaN: true, noDefaultInfinity: true }),
    state: fc.constantFrom(...VM_STATES),
    ip_address: fc.option(fc.ipV4(), { nil: null }),
    gpu_count: fc.nat(8),
    volumes: fc.array(text, { maxLength: 3 }),
    created_at: iso,
    last_seen: fc.option(iso, { nil: null }),
  })
  .chain((v) => extras.map((e) => ({ ...e, ...v })));

const cluster = fc
  .record({
    cluster_name: fc.string({ minLength: 1, maxLength: 20 }),
    cluster_type: fc.constantFrom('hpc' as const, 'cloud' as const),
    status: fc.constantFrom('running' as const, 'stopped' as const, 'error' as const, 'partial' as const),
    created_at: iso,
    vms: fc.array(vm, { maxLength: 6 }),
    networks: fc.array(fc.record({ name: fc.string({ minLength: 1 }), subnet: text, bridge: text, active_ips: fc.array(fc.ipV4(), { maxLength: 3 }) }), {
      maxLength: 2,
    }),
    volumes: fc.array(fc.record({ name: fc.string({ minLength: 1 }), path: text, size_gb: fc.nat(1000), format: text }), { maxLength: 2 }),
  })
  .chain((c) => extras.map((e) => ({ ...e, ...c })));

const machine = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 12 }),
    kind: fc.constantFrom('local' as const, 'remote' as const),
    host: text,
    port: fc.integer({ min: 0, max: 65535 }),
    user: text,
    tmp_dir: text,
    started_at: fc.option(iso, { nil: null }),
    pid: fc.option(fc.integer({ min: 1, max: 4_000_000 }), { nil: undefined }),
  })
  .map((m) => (m.pid === undefined ? (({ pid: _pid, ...rest }) => rest)(m) : m))
  .chain((m) => extras.map((e) => ({ ...e, ...m })));

const federation = fc.oneof(
  extras.map((e) => ({ ...e, type: 'clean' as const, data: {} })),
  fc
    .record({ deployed_files_path: text, machines: fc.array(machine, { maxLength: 4 }) })
    .chain((data) => extras.map((e) => ({ ...e, type: 'running' as const, data }))),
  fc.record({ machines: fc.array(machine, { maxLength: 4 }) }).chain((data) => extras.map((e) => ({ ...e, type: 'dirty' as const, data }))),
);

/** What JSON can represent (e.g. -0 becomes 0). */
const viaJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
const withoutHeader = ({ version: _v, serial: _s, lineage: _l, last_modified: _m, ...rest }: Record<string, unknown>) => rest;

describe('round trip (property)', () => {
  it('cluster states, unknown fields included', async () => {
    const store = new StateStore();
    await fc.assert(
      fc.asyncProperty(cluster, async (state) => {
        const t = target('cluster');
        const written = await store.update(t, 'prop', () => state);
        const loaded = await store.load(t);
        expect(loaded).toEqual(viaJson(written));
        expect(withoutHeader(loaded as Record<string, unknown>)).toEqual(withoutHeader(viaJson(state) as Record<string, unknown>));
      }),
      { numRuns: 60 },
    );
  });

  it('federation states, unknown fields included', async () => {
    const store = new StateStore();
    await fc.assert(
      fc.asyncProperty(federation, async (state) => {
        const t = target('federation');
        const written = await store.update(t, 'prop', () => state);
        const loaded = await store.load(t);
        expect(loaded).toEqual(viaJson(written));
        expect(withoutHeader(loaded as Record<string, unknown>)).toEqual(withoutHeader(viaJson(state) as Record<string, unknown>));
      }),
      { numRuns: 60 },
    );
  });
});

describe('damaged files (property)', () => {
  const validText = serializeState({ ...sampleCluster(3), version: 1, serial: 4, lineage: '33333333-3333-4333-8333-333333333333' });
  const damaged = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    // A strict prefix of a valid file (trailing whitespace aside): what a crash during a naive write leaves.
    fc.integer({ min: 0, max: validText.trimEnd().length - 1 }).map((cut) => Buffer.from(validText.slice(0, cut))),
  );

  for (const kind of ['cluster', 'federation'] as const) {
    it(`${kind}: a typed state-corrupt error, and the bytes stay identical`, async () => {
      const store = new StateStore();
      await fc.assert(
        fc.asyncProperty(damaged, async (bytes) => {
          const t = target(kind);
          await mkdir(join(t.file, '..'), { recursive: true });
          await writeFile(t.file, bytes);
          const load = await store.load(t).then(
            () => null,
            (e: unknown) => e,
          );
          expect(load).toBeInstanceOf(AppError);
          expect((load as AppError).code).toBe('state-corrupt');
          expect((load as AppError).path).toBe(t.file);
          const upd = await store
            .update(t, 'overwrite?', () => (kind === 'cluster' ? sampleCluster(1) : sampleFederation(1)) as never)
            .then(
              () => null,
              (e: unknown) => e,
            );
          expect((upd as AppError).code).toBe('state-corrupt');
          expect(await readFile(t.file)).toEqual(bytes);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('fast validation path (property)', () => {
  it('says "valid" only when zod agrees, and for every valid state', () => {
    const mutated = fc.tuple(
      cluster,
      fc.constantFrom('cluster_name', 'status', 'vms', 'serial', 'version', 'lineage', 'pools', 'last_modified', 'networks'),
      fc.jsonValue({ maxDepth: 2 }),
      fc.nat(5),
      fc.constantFrom('name', 'cpu_cores', 'memory_gb', 'state', 'ip_address', 'gpu_count', 'volumes', 'created_at', 'last_seen'),
    );
    fc.assert(
      fc.property(cluster, (c) => {
        expect(isCertainlyValidCluster(c)).toBe(true);
        expect(clusterStateSchema.safeParse(c).success).toBe(true);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutated, ([c, key, value, index, vmKey]) => {
        const top = { ...c, [key]: value } as Record<string, unknown>;
        const vms = c.vms.map((v, i) => (i === index ? { ...v, [vmKey]: value } : v));
        for (const candidate of [top, { ...c, vms }]) {
          if (isCertainlyValidCluster(candidate)) expect(clusterStateSchema.safeParse(candidate).success).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
