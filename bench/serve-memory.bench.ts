/**
 * `serve`'s memory with a big demo cluster open (issue #14 item 6). `serve` runs as a child with a bench-only probe
 * preloaded (bench/support/mem-probe.cjs), and a WebSocket client stays connected as the page would (it receives
 * every `workspace:changed` event). After each step it prints one line with the child's RSS (and its anonymous and
 * file-backed parts), peak RSS, and V8's heapUsed / external / arrayBuffers — once as left by the step and once after
 * a forced full GC (`_gc` fields), so garbage is told apart from what is really held:
 *   idle → create-demo (4 VMs, started) → grow (the files to n VMs) → open (`workspace:snapshot`) → refresh →
 *   apply (`cluster:refresh` with apply) → settled (12 s later: the idle parse worker has stopped) → malloc-trim (the probe calls glibc's malloc_trim(0)).
 * `malloc_in_use_mb` / `malloc_free_kept_mb` are glibc's totals over all arenas (mallinfo2): native memory in use vs
 * free chunks malloc keeps (RSS no object holds, until trimmed: a trim returns their pages but they stay counted).
 * `anon_256k_maps` counts V8-page-sized anonymous mappings: beyond the main isolate's `heap_total`, they are pages V8
 * keeps pooled after a GC.
 * `ms` is the step's wall time; there is no baseline (memory bench), so no ratio. A failure prints a line with
 * `error`, never throws. `--heap DIR` writes a V8 heap snapshot after the apply; `--maps` prints the biggest anonymous mappings;
 * `--arenas N` repeats the run with MALLOC_ARENA_MAX=N.
 *
 *   npm run bench -- serve-memory [--sizes 10000] [--serve out/main/serve.js] [--heap /tmp]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import type { Channel, InvokeArg, InvokeResult, Result } from '../preload/contract';
import { WS_PATH, WS_PROTOCOL, wsTokenProtocol } from '../preload/wire';
import { growDemoCluster } from '../test/support/big-cluster';

const MB = 1024 * 1024;
/** Longer than the parse worker's idle stop (main/workers/off-thread.ts), so `settled` is after it. */
const SETTLE_MS = 12_000;
const mb = (n: number) => Math.round((n / MB) * 10) / 10;

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** glibc malloc's totals over all arenas (mallinfo2): bytes in use, and freed bytes it keeps instead of returning. */
interface Malloc {
  readonly inUse: number;
  readonly free: number;
}

interface Probe {
  readonly child: ChildProcess;
  readonly url: string;
  mem(gc: boolean): Promise<{ usage: NodeJS.MemoryUsage; malloc: Malloc | null }>;
  trim(): Promise<unknown>;
  heap(file: string): Promise<string>;
}

async function startServe(script: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<Probe> {
  const probe = join(import.meta.dirname, 'support', 'mem-probe.cjs');
  const child = fork(script, ['--data-dir', dataDir], {
    execArgv: ['--expose-gc', '-r', probe],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve printed no URL in 120 s:\n${output}`)), 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Clusterdesk is serving at (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}:\n${output.slice(-2000)}`)));
  });
  let next = 1;
  const ask = <T>(msg: Record<string, unknown>, pick: (reply: Record<string, unknown>) => T) =>
    new Promise<T>((ok, fail) => {
      const id = next++;
      const onMessage = (reply: Record<string, unknown>) => {
        if (reply.id !== id) return;
        child.off('message', onMessage);
        if (reply.error) fail(new Error(String(reply.error)));
        else ok(pick(reply));
      };
      child.on('message', onMessage);
      child.send({ ...msg, id });
    });
  return {
    child,
    url,
    mem: (gc) => ask({ probe: 'mem', gc }, (r) => ({ usage: r.usage as NodeJS.MemoryUsage, malloc: (r.malloc ?? null) as Malloc | null })),
    trim: () => ask({ probe: 'trim' }, (r) => r.trimmed),
    heap: (file) => ask({ probe: 'heap', file }, (r) => String(r.file)),
  };
}

/** VmRSS / RssAnon / RssFile / VmHWM of a process, in bytes (Linux /proc). */
function procStatus(pid: number): Record<'rss' | 'anon' | 'file' | 'hwm' | 'threads', number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), hwm: kb('VmHWM'), threads: kb('Threads') / 1024 };
}

/**
 * Anonymous resident memory by kind of mapping (Linux smaps): `[heap]` (glibc's main arena), 64 MB-reserved
 * mappings (glibc's thread arenas, and V8 isolates' pages land elsewhere), the rest; in MB. Tells which allocator holds
 * the RSS no JS object does.
 */
function anonBreakdown(pid: number): Record<string, number> {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const out: Record<string, number> = { heap_mb: 0, arena_like_mb: 0, other_anon_mb: 0, anon_maps: 0, anon_256k_maps: 0 };
  let kind: string | null = null;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const size = parseInt(head[2]!, 16) - parseInt(head[1]!, 16);
      const name = head[4]!.trim();
      if (name === '[heap]') kind = 'heap_mb';
      else if (name === '' && head[3] === '0') {
        kind = size <= 64 * 1024 * 1024 && size >= 60 * 1024 * 1024 ? 'arena_like_mb' : 'other_anon_mb';
        out.anon_maps!++;
        if (size === 256 * 1024) out.anon_256k_maps!++; // V8's page size
      } else kind = null;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) out[kind]! += Number(rss[1]) / 1024;
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
  return out;
}

async function hostClient(origin: string, token: string) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}${WS_PATH}`, [WS_PROTOCOL, wsTokenProtocol(token)], { origin, maxPayload: 0 });
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  let next = 1;
  let events = 0;
  let eventBytes = 0;
  const waiting = new Map<number, (r: Result<unknown>) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(String(data)) as { type: string; id?: number; result?: Result<unknown> };
    if (msg.type === 'result' && msg.id !== undefined) waiting.get(msg.id)?.(msg.result!);
    else {
      events++;
      eventBytes += data.length;
    }
  });
  return {
    async call<C extends Channel>(channel: C, a: InvokeArg<C>): Promise<InvokeResult<C>> {
      const id = next++;
      const r = await new Promise<Result<unknown>>((ok) => {
        waiting.set(id, ok);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, arg: a }));
      });
      waiting.delete(id);
      if (!r.ok) throw new Error(`${channel}: ${r.error.code}: ${r.error.message}`);
      return r.value as InvokeResult<C>;
    },
    traffic: () => ({ events, event_mb: mb(eventBytes) }),
    close: () => ws.close(),
  };
}

async function measureSize(
  script: string,
  n: number,
  heapDir: string | undefined,
  env: NodeJS.ProcessEnv,
  label: string,
  args: { readonly maps: boolean },
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), `cd-bench-mem-${n}-`));
  let serve: Probe | null = null;
  const tag = label ? ` ${label}` : '';
  try {
    serve = await startServe(script, dataDir, env);
    const s = serve;
    const pid = s.child.pid!;
    const parsed = new URL(s.url);
    const host = await hostClient(parsed.origin, new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '');
    const step = async (name: string, fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      const before = procStatus(pid);
      const { usage } = await s.mem(false);
      const { usage: usageGc, malloc } = await s.mem(true);
      const after = procStatus(pid);
      process.stdout.write(
        `${JSON.stringify({
          bench: 'serve-memory',
          case: `${name} n=${n}${tag}`,
          ms: Math.round(ms),
          rss_mb: mb(before.rss),
          rss_anon_mb: mb(before.anon),
          rss_file_mb: mb(before.file),
          peak_rss_mb: mb(before.hwm),
          threads: after.threads,
          heap_used_mb: mb(usage.heapUsed),
          heap_total_mb: mb(usage.heapTotal),
          external_mb: mb(usage.external),
          array_buffers_mb: mb(usage.arrayBuffers),
          rss_gc_mb: mb(after.rss),
          heap_used_gc_mb: mb(usageGc.heapUsed),
          external_gc_mb: mb(usageGc.external),
          ...(malloc ? { malloc_in_use_mb: mb(malloc.inUse), malloc_free_kept_mb: mb(malloc.free) } : {}),
          ...host.traffic(),
          ...anonBreakdown(pid),
          note: 'memory bench: ms is the step wall time; no baseline. *_gc after a forced full GC; native = rss_gc - heap_total - external (roughly)',
        })}\n`,
      );
    };
    const folder = join(dataDir, 'big');
    let workspaceId = '';
    await step('idle', async () => undefined);
    await step('create-demo', async () => {
      const entry = await host.call('cluster:create-demo', { folder });
      workspaceId = entry.id;
      const started = await host.call('cluster:start', { workspaceId });
      const failed = started.outcomes.filter((o) => o.error);
      if (failed.length > 0) throw new Error(`cluster:start failed: ${JSON.stringify(failed).slice(0, 400)}`);
    });
    await step('grow', () => growDemoCluster(folder, { vms: n, driftEvery: 10 }));
    await step('open', () => host.call('workspace:snapshot', { workspaceId }));
    await step('refresh', () => host.call('cluster:refresh', { workspaceId }));
    await step('apply', () => host.call('cluster:refresh', { workspaceId, apply: true }));
    await step('settled', () => new Promise((ok) => setTimeout(ok, SETTLE_MS)));
    // What glibc gives back when asked (malloc_trim(0)): freed native memory it had kept, not memory anything holds.
    await step('malloc-trim', () => s.trim());
    if (args.maps) {
      // The biggest anonymous mappings by resident size (address range size, RSS, permissions), for diagnosis.
      const maps: { size_mb: number; rss_mb: number; perms: string }[] = [];
      let cur: { size_mb: number; rss_mb: number; perms: string } | null = null;
      for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
        const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
        if (head) {
          cur = head[4] === '0' && head[5]!.trim() === '' ? { size_mb: mb(parseInt(head[2]!, 16) - parseInt(head[1]!, 16)), rss_mb: 0, perms: head[3]! } : null;
          if (cur) maps.push(cur);
          continue;
        }
        const rss = /^Rss:\s+(\d+) kB/.exec(line);
        if (rss && cur) cur.rss_mb = mb(Number(rss[1]) * 1024);
      }
      maps.sort((a, b) => b.rss_mb - a.rss_mb);
      process.stdout.write(`${JSON.stringify({ bench: 'serve-memory', case: `anon maps n=${n}${tag}`, count: maps.length, top: maps.slice(0, 15) })}\n`);
    }
    if (heapDir) {
      const file = await s.heap(join(heapDir, `serve-${n}-${Date.now()}.heapsnapshot`));
      process.stdout.write(`${JSON.stringify({ bench: 'serve-memory', case: `heap snapshot n=${n}${tag}`, file })}\n`);
    }
    host.close();
  } catch (err) {
    process.stdout.write(
      `${JSON.stringify({ bench: 'serve-memory', case: `n=${n}${tag}`, error: String(err instanceof Error ? err.message : err).slice(0, 500) })}\n`,
    );
  } finally {
    if (serve && serve.child.exitCode === null) {
      const exited = new Promise((ok) => serve!.child.once('exit', ok));
      serve.child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  try {
    const sizes = (arg(args, '--sizes') ?? '10000').split(',').map(Number);
    const script = resolve(arg(args, '--serve') ?? join(import.meta.dirname, '..', 'out', 'main', 'serve.js'));
    const heapDir = arg(args, '--heap');
    if (!existsSync(script)) {
      process.stdout.write(`${JSON.stringify({ bench: 'serve-memory', skipped: `${script} is missing: run \`npm run build\` first` })}\n`);
      return;
    }
    // Also with glibc's malloc arenas capped: tells native fragmentation across threads from what is really held.
    const arenas = arg(args, '--arenas');
    for (const n of sizes) {
      const maps = args.includes('--maps');
      await measureSize(script, n, heapDir, {}, '', { maps });
      if (arenas) await measureSize(script, n, undefined, { MALLOC_ARENA_MAX: arenas }, `MALLOC_ARENA_MAX=${arenas}`, { maps });
    }
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ bench: 'serve-memory', error: String(err instanceof Error ? err.message : err).slice(0, 500) })}\n`);
  }
}
