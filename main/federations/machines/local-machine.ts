/**
 * The local Machine: this computer, through fs and child_process (no shell anywhere — argv goes straight to spawn).
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, copyFile, lstat, mkdir, mkdtemp, open, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../errors';
import { processRunning } from '../../util';
import { assertAbsolute, assertPrefix, assertRemovable, bounded } from './guards';
import { listTree } from './upload-archive';
import type { CallOptions, ExecResult, LaunchOptions, Machine, UploadOptions, UploadStats } from './types';

const HOST = 'localhost';
/** Output kept per stream; a runaway command must not exhaust memory. */
const MAX_OUTPUT = 8 * 1024 * 1024;

export interface LocalMachineOptions {
  /** Where temp folders go (default `/tmp`, like the remote machines). */
  readonly tempRoot?: string;
}

export class LocalMachine implements Machine {
  readonly kind = 'local' as const;
  readonly host = HOST;
  readonly port = 0;
  readonly user: string;
  readonly tempRoot: string;

  constructor(opts: LocalMachineOptions = {}) {
    this.tempRoot = opts.tempRoot ?? '/tmp';
    this.user = safeUser();
  }

  async connect(): Promise<void> {}

  async exec(argv: readonly string[], opts: CallOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new AppError('invalid-argument', 'An empty command line.', { host: HOST });
    return bounded(HOST, argv[0]!, opts, (signal) => runLocal(argv, signal));
  }

  async mkTempDir(prefix: string, opts: CallOptions = {}): Promise<string> {
    assertPrefix(prefix, HOST);
    // mkdtemp creates the folder 0700.
    return bounded(HOST, 'mkTempDir', opts, () => mkdtemp(join(this.tempRoot, prefix)));
  }

  async upload(localDir: string, remoteDir: string, opts: UploadOptions = {}): Promise<UploadStats> {
    assertAbsolute(remoteDir, HOST);
    return bounded(HOST, 'upload', opts, async (signal) => {
      const entries = await listTree(localDir, signal);
      const totalBytes = entries.reduce((n, e) => n + e.size, 0);
      const totalFiles = entries.filter((e) => e.type === 'file').length;
      let bytes = 0;
      let files = 0;
      await mkdir(remoteDir, { recursive: true });
      for (const e of entries) {
        signal.throwIfAborted();
        const dest = join(remoteDir, e.name);
        if (e.type === 'dir') {
          await mkdir(dest, { recursive: true });
          await chmod(dest, e.mode);
        } else if (e.type === 'symlink') {
          await symlink(await readlink(e.abs), dest);
        } else {
          await copyFile(e.abs, dest);
          await chmod(dest, e.mode);
          bytes += e.size;
          files += 1;
          opts.onProgress?.({ bytes, totalBytes, files, totalFiles });
        }
      }
      return { bytes, files };
    });
  }

  async launchDetached(argv: readonly string[], opts: LaunchOptions): Promise<number | null> {
    if (argv.length === 0) throw new AppError('invalid-argument', 'An empty command line.', { host: HOST });
    assertAbsolute(opts.cwd, HOST);
    assertAbsolute(opts.logFile, HOST);
    return bounded(HOST, 'launch', opts, async () => {
      const log = await open(opts.logFile, 'a', 0o600);
      try {
        // detached: its own session, so it outlives this app; stdio goes to the log, never to our pipes.
        const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, detached: true, stdio: ['ignore', log.fd, log.fd] });
        const pid = await new Promise<number>((resolve, reject) => {
          child.once('spawn', () => resolve(child.pid!));
          child.once('error', (err) =>
            reject(
              new AppError('ssh-command', `Could not start ${argv[0]} on ${HOST}: ${err.message}`, {
                host: HOST,
                hint: 'Check that the start script exists and is executable.',
              }),
            ),
          );
        });
        child.unref();
        return pid;
      } finally {
        await log.close();
      }
    });
  }

  async touch(path: string, opts: CallOptions = {}): Promise<void> {
    assertAbsolute(path, HOST);
    return bounded(HOST, 'touch', opts, async () => {
      try {
        await (await open(path, 'a', 0o644)).close();
        const now = new Date();
        await utimes(path, now, now);
      } catch (err) {
        throw commandError('touch', path, err);
      }
    });
  }

  async exists(path: string, opts: CallOptions = {}): Promise<boolean> {
    assertAbsolute(path, HOST);
    return bounded(HOST, 'exists', opts, () =>
      lstat(path).then(
        () => true,
        () => false,
      ),
    );
  }

  async isAlive(pid: number, opts: CallOptions = {}): Promise<boolean> {
    assertPid(pid);
    return bounded(HOST, 'isAlive', opts, () => processRunning(pid));
  }

  async readTail(path: string, lines: number, opts: CallOptions = {}): Promise<readonly string[]> {
    assertAbsolute(path, HOST);
    return bounded(HOST, 'readTail', opts, async () => {
      try {
        await access(path, fsConstants.R_OK);
      } catch {
        throw new AppError('not-found', `${path} does not exist on ${HOST}.`, { host: HOST, path });
      }
      return tailOfFile(path, lines);
    });
  }

  async removeDir(path: string, opts: CallOptions = {}): Promise<void> {
    assertRemovable(path, HOST, this.tempRoot);
    return bounded(HOST, 'removeDir', opts, () => rm(path, { recursive: true, force: true }));
  }

  async close(): Promise<void> {}
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function assertPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new AppError('invalid-argument', `Not a process id: ${pid}.`);
}

function commandError(what: string, path: string, err: unknown): AppError {
  const msg = err instanceof Error ? err.message : String(err);
  return new AppError('ssh-command', `${what} ${path} failed on ${HOST}: ${msg}`, { host: HOST, path });
}

function runLocal(argv: readonly string[], signal: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(d);
      outLen += d.length;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(d);
      errLen += d.length;
    });
    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code) => {
      // Like a shell: a command that cannot be started exits 127 with the reason on stderr.
      if (spawnError && code === null && (spawnError as NodeJS.ErrnoException).code !== 'ABORT_ERR') {
        resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ${spawnError.message}\n` });
        return;
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The last `lines` lines of a file, reading backwards in blocks so a large log costs only its tail. */
export async function tailOfFile(path: string, lines: number): Promise<string[]> {
  if (lines <= 0) return [];
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let pos = size;
    let chunks: Buffer[] = [];
    let newlines = 0;
    const block = 64 * 1024;
    // Stop once we hold more newlines than lines wanted (one extra for a trailing newline).
    while (pos > 0 && newlines <= lines) {
      const len = Math.min(block, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      for (const b of buf) if (b === 0x0a) newlines++;
      chunks = [buf, ...chunks];
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  } finally {
    await fh.close();
  }
}
