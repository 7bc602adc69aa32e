/**
 * Big clusters in the window: Chromium (playwright-core, Debian's /usr/bin/chromium) against `serve`, a demo cluster
 * grown to 1,000 and 10,000 VMs (test/support/big-cluster.ts). Per size it prints:
 *   - `open`: page load until the VM table shows the cluster;
 *   - `event-to-commit`: a `workspace:changed` frame's arrival to the commit of the render that shows it (the
 *     renderer's bench-only marks, renderer/src/lib/perf.ts) — and `event-to-idle`, arrival until the page's main
 *     thread takes its next task (no renderer marks needed, so it reads the same on older builds);
 *   - `refresh-click-to-table`: a Refresh click until the table shows the drift marks;
 *   - `apply-click-to-table`: Apply in the drift report until the table shows the recorded states (once);
 *   - frames and bytes per operation (snapshot-carrying: `workspace:changed` events and answers with VMs in them);
 *   - `serve-rss`: the host's resident memory with the cluster open (and its peak).
 * Each timing is p50/p95 over up to `--reps` repetitions (30), fewer when the `--budget` per size (seconds) runs out —
 * then the line says so in `note`. Ratios are to one 16 ms frame. A failure prints a line with `error`, never throws.
 *
 *   npm run bench -- ui [--sizes 1000,10000] [--reps 30] [--budget 240] [--serve out/main/serve.js]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import type { Channel, InvokeArg, InvokeResult, Result } from '../preload/contract';
import { WS_PATH, WS_PROTOCOL, wsTokenProtocol } from '../preload/wire';
import { CHROMIUM_ARGS } from '../test/support/app';
import { growDemoCluster } from '../test/support/big-cluster';
import { median, report } from './lib';

const FRAME_MS = 16;
const AIM_P95: Record<number, number> = { 1000: 16, 10000: 50 };

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

interface Serve {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly child: ChildProcess;
}

async function startServe(script: string, dataDir: string): Promise<Serve> {
  const child = spawn(process.execPath, [script, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Clusterdesk is serving at (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  const parsed = new URL(url);
  return { url, origin: parsed.origin, token: new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '', child };
}

/** Resident and peak memory of a process, in MB (Linux /proc). */
function rssMb(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** A WebSocket client of the host, for the setup steps (the measured steps go through the page). */
async function hostClient(serve: Serve) {
  const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}${WS_PATH}`, [WS_PROTOCOL, wsTokenProtocol(serve.token)], { origin: serve.origin });
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  let next = 1;
  const waiting = new Map<number, (r: Result<unknown>) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { type: string; id?: number; result?: Result<unknown> };
    if (msg.type === 'result' && msg.id !== undefined) waiting.get(msg.id)?.(msg.result!);
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
    close: () => ws.close(),
  };
}

/** Timestamps every `workspace:changed` frame and the page's next task after it (set before the app loads). */
const INIT_SCRIPT = `
  window.__cdPerf = { samples: [], pending: null };
  window.__cdIdle = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string' || !ev.data.startsWith('{"type":"event","event":"workspace:changed"')) return;
        const t0 = performance.now();
        const ch = new MessageChannel();
        ch.port1.onmessage = () => window.__cdIdle.push(performance.now() - t0);
        ch.port2.postMessage(0);
      });
    }
  };
`;

interface FrameLog {
  all: number;
  bytes: number;
  snapshotFrames: number;
  snapshotBytes: number;
}

function frameCounter(page: Page): { take(): FrameLog } {
  let log: FrameLog = { all: 0, bytes: 0, snapshotFrames: 0, snapshotBytes: 0 };
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => {
      const text = typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8');
      const bytes = Buffer.byteLength(text);
      log.all++;
      log.bytes += bytes;
      if (text.startsWith('{"type":"event","event":"workspace:changed"') || (text.startsWith('{"type":"result"') && text.includes('"vms":['))) {
        log.snapshotFrames++;
        log.snapshotBytes += bytes;
      }
    });
  });
  return {
    take() {
      const out = log;
      log = { all: 0, bytes: 0, snapshotFrames: 0, snapshotBytes: 0 };
      return out;
    },
  };
}

/** In the page (a string: the bench is compiled without DOM types): clicks a button, resolves with the ms until `until` holds at an animation frame. */
const CLICK_UNTIL = `({ buttonName, scope, until, vm, limitMs }) =>
  new Promise((ok, fail) => {
    const root = document.querySelector(scope === 'toolbar' ? '[role="toolbar"][aria-label="Cluster actions"]' : 'section[aria-labelledby="drift-title"]');
    const button = [...(root ? root.querySelectorAll('button') : [])].find((b) => (b.textContent || '').trim() === buttonName);
    if (!button) return fail(new Error('no ' + buttonName + ' button'));
    const done = () => {
      if (until === 'drift-shown') return document.querySelector('[role="row"].drifted') !== null;
      if (until === 'drift-gone') return document.querySelector('[role="row"].drifted') === null;
      const cell = [...document.querySelectorAll('[role="cell"]')].find((c) => c.getAttribute('aria-label') === vm || c.textContent === vm);
      return Boolean(cell && cell.parentElement && cell.parentElement.textContent.includes('SHUTOFF'));
    };
    const t0 = performance.now();
    button.click();
    const tick = () => {
      if (done() && !button.disabled) return ok(performance.now() - t0);
      if (performance.now() - t0 > limitMs) return fail(new Error(buttonName + ': the table did not update in ' + limitMs + ' ms'));
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })`;

async function clickUntil(
  page: Page,
  buttonName: string,
  scope: string,
  until: 'drift-shown' | 'drift-gone' | 'applied',
  vm: string,
  limitMs: number,
): Promise<number> {
  return page.evaluate<number>(`(${CLICK_UNTIL})(${JSON.stringify({ buttonName, scope, until, vm, limitMs })})`);
}

/** Resolves once no drift mark is in the table (polled per animation frame; a string for the same reason as above). */
const NO_DRIFT_SHOWN = `(limitMs) => new Promise((ok, fail) => {
  const t0 = performance.now();
  const tick = () => {
    if (document.querySelector('[role="row"].drifted') === null) return ok(performance.now() - t0);
    if (performance.now() - t0 > limitMs) return fail(new Error('the drift marks did not go in ' + limitMs + ' ms'));
    requestAnimationFrame(tick);
  };
  tick();
})`;

async function measureSize(browser: Browser, script: string, n: number, reps: number, budgetMs: number): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), `cd-bench-ui-${n}-`));
  let serve: Serve | null = null;
  const rssSamples: number[] = [];
  let rssTimer: NodeJS.Timeout | null = null;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    serve = await startServe(script, dataDir);
    const pid = serve.child.pid!;
    rssTimer = setInterval(() => {
      const m = rssMb(pid);
      if (m) rssSamples.push(m.rss);
    }, 250);
    const host = await hostClient(serve);
    const folder = join(dataDir, 'big');
    const entry = await host.call('cluster:create-demo', { folder });
    await host.call('cluster:start', { workspaceId: entry.id });
    const big = await growDemoCluster(folder, { vms: n, driftEvery: 10 });
    const page = await context.newPage();
    await page.addInitScript(INIT_SCRIPT);
    const frames = frameCounter(page);

    // Opening: the page loads, selects the only workspace and shows its VMs.
    const t0 = performance.now();
    await page.goto(serve.url);
    await page.getByRole('heading', { name: `Virtual machines (${n})` }).waitFor({ timeout: 300_000 });
    await page.locator('[role="row"][aria-rowindex="2"]').waitFor({ timeout: 300_000 });
    const openMs = performance.now() - t0;
    const openFrames = frames.take();
    const domNodes = await page.evaluate<number>(`document.getElementsByTagName('*').length`);
    const rowsInDom = await page.locator('.vspacer [role="row"]').count();
    report({
      bench: 'ui',
      case: `open n=${n}`,
      ms: openMs,
      baseline: 'one 16 ms frame',
      baseline_ms: FRAME_MS,
      dom_nodes: domNodes,
      rows_in_dom: rowsInDom,
      frames: openFrames.all,
      bytes: openFrames.bytes,
    });

    // Repetitions: Refresh (drift marks appear on every 10th compute node), then a VM action through the host, which
    // clears the marks (every operation but a refresh does) — both are real patches the table must show.
    await page.evaluate(`window.__cdPerf.samples.length = 0; window.__cdIdle.length = 0;`);
    const refreshMs: number[] = [];
    const perRefresh: FrameLog[] = [];
    const perAction: FrameLog[] = [];
    const budgetEnd = performance.now() + budgetMs;
    let note: string | undefined;
    // A liveness bound per step (a 10,000-VM refresh on a loaded 2-core machine has taken minutes), not a timing.
    const limitMs = Math.max(600_000, budgetMs);
    const controller = `${big.clusterName}-controller`;
    // A step slower than the limit ends the repetitions; what was measured so far is still printed, with a note.
    let stopped: string | null = null;
    for (let i = 0; i < reps; i++) {
      if (i >= 3 && performance.now() > budgetEnd) {
        note = `stopped after ${i} of ${reps} repetitions: the ${Math.round(budgetMs / 1000)} s budget ran out`;
        break;
      }
      try {
        frames.take();
        refreshMs.push(await clickUntil(page, 'Refresh', 'toolbar', 'drift-shown', '', limitMs));
        await page.waitForTimeout(200);
        perRefresh.push(frames.take());
        await host.call('cluster:vm-action', { workspaceId: entry.id, vm: controller, action: i % 2 === 0 ? 'pause' : 'resume' });
        await page.evaluate(`(${NO_DRIFT_SHOWN})(${limitMs})`);
        await page.waitForTimeout(200);
        perAction.push(frames.take());
      } catch (err) {
        stopped = String(err instanceof Error ? err.message : err)
          .split('\n')[0]!
          .slice(0, 300);
        note = `stopped after ${i} of ${reps} repetitions: ${stopped}`;
        break;
      }
    }
    const commits = await page.evaluate<number[]>(`window.__cdPerf.samples.map((s) => s.ms)`);
    const idle = await page.evaluate<number[]>(`window.__cdIdle.slice()`);
    const aim = AIM_P95[n];
    const timing = (name: string, samples: number[], extra: Record<string, unknown> = {}) => {
      if (samples.length === 0) {
        process.stdout.write(`${JSON.stringify({ bench: 'ui', case: `${name} n=${n}`, skipped: 'no samples (this build has no renderer marks)' })}\n`);
        return;
      }
      const p95 = percentile(samples, 95);
      report({
        bench: 'ui',
        case: `${name} n=${n}`,
        ms: median(samples),
        baseline: 'one 16 ms frame',
        baseline_ms: FRAME_MS,
        p50_ms: round(median(samples)),
        p95_ms: round(p95),
        p95_ratio: round(p95 / FRAME_MS),
        ...(aim ? { aim_p95_ms: aim } : {}),
        samples: samples.length,
        ...extra,
        ...(note ? { note } : {}),
      });
    };
    timing('event-to-commit', commits);
    timing('event-to-idle', idle);
    timing('refresh-click-to-table', refreshMs);
    const avg = (logs: FrameLog[], k: keyof FrameLog) => (logs.length ? Math.round(logs.reduce((a, l) => a + l[k], 0) / logs.length) : 0);
    for (const [op, logs] of [
      ['refresh', perRefresh],
      ['vm-action', perAction],
    ] as const) {
      process.stdout.write(
        `${JSON.stringify({
          bench: 'ui',
          case: `frames per ${op} n=${n}`,
          snapshot_frames: avg(logs, 'snapshotFrames'),
          snapshot_frames_max: Math.max(0, ...logs.map((l) => l.snapshotFrames)),
          snapshot_bytes: avg(logs, 'snapshotBytes'),
          frames: avg(logs, 'all'),
          bytes: avg(logs, 'bytes'),
          operations: logs.length,
        })}\n`,
      );
    }

    // Apply once: the drift report's Apply records what libvirt reports; the drifting rows then read SHUTOFF.
    if (stopped) {
      process.stdout.write(`${JSON.stringify({ bench: 'ui', case: `apply-click-to-table n=${n}`, skipped: `the repetitions stopped: ${stopped}` })}\n`);
    } else {
      try {
        await clickUntil(page, 'Refresh', 'toolbar', 'drift-shown', '', limitMs);
        await page.waitForTimeout(200);
        frames.take();
        const applyMs = await clickUntil(page, 'Apply', 'report', 'applied', big.drifting[0]!, limitMs);
        await page.waitForTimeout(300);
        const applyFrames = frames.take();
        report({
          bench: 'ui',
          case: `apply-click-to-table n=${n}`,
          ms: applyMs,
          baseline: 'one 16 ms frame',
          baseline_ms: FRAME_MS,
          snapshot_frames: applyFrames.snapshotFrames,
          snapshot_bytes: applyFrames.snapshotBytes,
          frames: applyFrames.all,
          bytes: applyFrames.bytes,
        });
      } catch (err) {
        process.stdout.write(
          `${JSON.stringify({
            bench: 'ui',
            case: `apply-click-to-table n=${n}`,
            error: String(err instanceof Error ? err.message : err)
              .split('\n')[0]!
              .slice(0, 300),
          })}\n`,
        );
      }
    }
    const mem = rssMb(pid);
    process.stdout.write(
      `${JSON.stringify({ bench: 'ui', case: `serve-rss n=${n}`, rss_mb: mem?.rss ?? null, peak_rss_mb: mem?.peak ?? null, max_sampled_rss_mb: Math.max(0, ...rssSamples) })}\n`,
    );
    host.close();
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ bench: 'ui', case: `n=${n}`, error: String(err instanceof Error ? err.message : err).slice(0, 500) })}\n`);
  } finally {
    if (rssTimer) clearInterval(rssTimer);
    await context.close().catch(() => undefined);
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
  const sizes = (arg(args, '--sizes') ?? '1000,10000').split(',').map(Number);
  const reps = Number(arg(args, '--reps') ?? 30);
  const budgetMs = Number(arg(args, '--budget') ?? 240) * 1000;
  const script = resolve(arg(args, '--serve') ?? join(import.meta.dirname, '..', 'out', 'main', 'serve.js'));
  if (!existsSync(script)) {
    process.stdout.write(`${JSON.stringify({ bench: 'ui', skipped: `${script} is missing: run \`npm run build\` first` })}\n`);
    return;
  }
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    for (const n of sizes) await measureSize(browser, script, n, reps, budgetMs);
  } finally {
    await browser.close();
  }
}
