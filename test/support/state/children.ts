/** Spawning the test child (child.ts) as a plain Node process from an esbuild bundle. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// esbuild is installed with tsx and vite (it is how both compile TypeScript); bundling the child once makes each
// spawn cost a bare `node file.mjs` (~60 ms) instead of a TypeScript loader start (~250 ms) — the kill test spawns 300.
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles child.ts into `outDir/child.mjs` and returns its path. */
export async function bundleChild(outDir: string): Promise<string> {
  const outfile = join(outDir, 'child.mjs');
  await build({
    entryPoints: [join(here, 'child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** A running child with line-based stdout. */
export class Child {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  private stderr = '';

  constructor(script: string, config: Record<string, unknown>) {
    this.proc = spawn(process.execPath, [script, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // V8's code cache for the bundle, next to it: the second and later spawns start in ~60 ms instead of ~100.
      env: { ...process.env, NODE_COMPILE_CACHE: join(dirname(script), 'compile-cache') },
    });
    let buf = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    // 'close' (not 'exit'): every stdout line has been read by then, and the process has been reaped.
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves with the first line (already seen or future) matching `test`; rejects if the child exits first. */
  waitLine(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ test, resolve });
      void this.exited.then((code) => {
        const again = this.lines.find(test);
        if (again !== undefined) resolve(again);
        else reject(new Error(`child exited (${code}) before the expected line; stderr: ${this.stderr}; stdout: ${this.lines.join(' | ')}`));
      });
    });
  }

  go(): void {
    this.proc.stdin!.write('go\n');
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}
