/**
 * The remote Machine over SSH (ssh2): one lazily opened connection per machine (ssh-connection.ts: connect, host
 * keys, credentials), multiplexing exec channels.
 *
 * Every command is a fixed POSIX `sh -c` script whose data travels as positional arguments quoted by `shellQuote`
 * — no command string is ever built from data elsewhere.
 */
import { once } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { AppError, cancelledError } from '../../errors';
import { assertAbsolute, assertPrefix, assertRemovable, bounded } from './guards';
import { assertPid } from './local-machine';
import { SshConnection, type Conn, type SshConnectionOptions } from './ssh-connection';
import { shellQuote } from './shell-quote';
import { listTree, tarStream } from './upload-archive';
import type { CallOptions, ExecResult, LaunchOptions, Machine, UploadOptions, UploadStats } from './types';

const MAX_OUTPUT = 8 * 1024 * 1024;

export interface SshMachineOptions extends SshConnectionOptions {
  readonly tempRoot?: string;
}

// Fixed scripts; data arrives as "$1", "$2", … so nothing from data is ever parsed as shell syntax.
const SCRIPTS = {
  mktemp: 'umask 077 && mktemp -d "$1/$2XXXXXXXX"',
  upload: 'mkdir -p -- "$1" && cd -- "$1" && tar -xf -',
  launch:
    'cd -- "$1" || exit 97; log=$2; shift 2; ' +
    'if command -v setsid >/dev/null 2>&1; then setsid "$@" >>"$log" 2>&1 </dev/null & ' +
    'else nohup "$@" >>"$log" 2>&1 </dev/null & fi; echo $!',
  touch: 'touch -- "$1"',
  exists: 'test -e "$1" || test -L "$1"',
  // A zombie answers kill -0 but is dead; where /proc exists its state letter tells (Z, X).
  alive:
    'kill -0 "$1" 2>/dev/null || test -d "/proc/$1" || exit 1; test -r "/proc/$1/stat" || exit 0; ' +
    'case "$(sed -e "s/.*) //" "/proc/$1/stat")" in Z*|X*) exit 1;; esac; exit 0',
  tail: 'test -f "$1" || exit 96; tail -n "$2" -- "$1"',
  rmdir: 'rm -rf -- "$1"',
} as const;

/** `sh -c SCRIPT sh ARGS…` quoted for the remote login shell. */
function script(name: keyof typeof SCRIPTS, ...args: string[]): string {
  return shellQuote(['sh', '-c', SCRIPTS[name], 'sh', ...args]);
}

export class SshMachine implements Machine {
  readonly kind = 'remote' as const;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly tempRoot: string;
  private readonly link: SshConnection;

  constructor(opts: SshMachineOptions) {
    this.link = new SshConnection(opts);
    this.host = opts.target.host;
    this.port = opts.target.port;
    this.user = opts.target.user;
    this.tempRoot = opts.tempRoot ?? '/tmp';
  }

  async connect(opts: CallOptions = {}): Promise<void> {
    await this.link.get(opts.signal);
  }

  async exec(argv: readonly string[], opts: CallOptions = {}): Promise<ExecResult> {
    return this.run(shellQuote(argv), argv[0] ?? 'command', opts);
  }

  /** Runs `cmd` and throws `ssh-command` on a non-zero exit. */
  private async runChecked(cmd: string, what: string, opts: CallOptions, okCodes: readonly number[] = [0]): Promise<ExecResult> {
    const res = await this.run(cmd, what, opts);
    if (res.code === null || !okCodes.includes(res.code)) throw this.commandError(what, res);
    return res;
  }

  private commandError(what: string, res: ExecResult): AppError {
    const firstLine = res.stderr.trim().split('\n')[0] ?? '';
    return new AppError('ssh-command', `${what} failed on ${this.host} (exit ${res.code ?? 'by signal'})${firstLine ? `: ${firstLine}` : ''}`, {
      host: this.host,
      hint: 'See the command output in the details; check permissions and free space on the machine.',
      details: { code: res.code, stderr: res.stderr.slice(-4000) },
    });
  }

  async mkTempDir(prefix: string, opts: CallOptions = {}): Promise<string> {
    assertPrefix(prefix, this.host);
    const res = await this.runChecked(script('mktemp', this.tempRoot, prefix), 'mktemp', opts);
    const dir = res.stdout.trim();
    if (!dir.startsWith(`${this.tempRoot}/`) || dir.includes('\n')) {
      throw new AppError('ssh-command', `mktemp on ${this.host} answered an unexpected path: ${JSON.stringify(dir)}`, { host: this.host });
    }
    return dir;
  }

  async upload(localDir: string, remoteDir: string, opts: UploadOptions = {}): Promise<UploadStats> {
    assertAbsolute(remoteDir, this.host);
    const entries = await listTree(localDir, opts.signal);
    const totalBytes = entries.reduce((n, e) => n + e.size, 0);
    const totalFiles = entries.filter((e) => e.type === 'file').length;
    let bytes = 0;
    let files = 0;
    const res = await this.run(script('upload', remoteDir), 'upload', opts, async (write, signal) => {
      for await (const chunk of tarStream(localDir, entries, signal)) {
        if (chunk.data.length > 0) await write(chunk.data);
        bytes += chunk.contentBytes;
        files += chunk.filesDone;
        if (chunk.contentBytes > 0 || chunk.filesDone > 0) opts.onProgress?.({ bytes, totalBytes, files, totalFiles });
      }
    });
    if (res.code !== 0) throw this.commandError('upload (tar -x)', res);
    return { bytes, files };
  }

  async launchDetached(argv: readonly string[], opts: LaunchOptions): Promise<number | null> {
    if (argv.length === 0) throw new AppError('invalid-argument', 'An empty command line.', { host: this.host });
    assertAbsolute(opts.cwd, this.host);
    assertAbsolute(opts.logFile, this.host);
    const res = await this.run(script('launch', opts.cwd, opts.logFile, ...argv), 'launch', opts);
    if (res.code !== 0) throw this.commandError(`start ${argv[0]}`, res);
    const pid = Number(res.stdout.trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : null;
  }

  async touch(path: string, opts: CallOptions = {}): Promise<void> {
    assertAbsolute(path, this.host);
    await this.runChecked(script('touch', path), `touch ${path}`, opts);
  }

  async exists(path: string, opts: CallOptions = {}): Promise<boolean> {
    assertAbsolute(path, this.host);
    return (await this.runChecked(script('exists', path), `test ${path}`, opts, [0, 1])).code === 0;
  }

  async isAlive(pid: number, opts: CallOptions = {}): Promise<boolean> {
    assertPid(pid);
    return (await this.runChecked(script('alive', String(pid)), 'kill -0', opts, [0, 1])).code === 0;
  }

  async readTail(path: string, lines: number, opts: CallOptions = {}): Promise<readonly string[]> {
    assertAbsolute(path, this.host);
    const n = Math.max(0, Math.floor(lines));
    if (n === 0) return [];
    const res = await this.run(script('tail', path, String(n)), 'tail', opts);
    if (res.code === 96) throw new AppError('not-found', `${path} does not exist on ${this.host}.`, { host: this.host, path });
    if (res.code !== 0) throw this.commandError(`tail ${path}`, res);
    const out = res.stdout.split('\n');
    if (out.at(-1) === '') out.pop();
    return out;
  }

  async removeDir(path: string, opts: CallOptions = {}): Promise<void> {
    assertRemovable(path, this.host, this.tempRoot);
    await this.runChecked(script('rmdir', path), `rm -rf ${path}`, opts);
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Runs one command on an exec channel. `feed` (for uploads) writes stdin; otherwise stdin is closed at once.
   * Rejects with a typed error if the connection drops before the command reports its exit status.
   */
  private run(
    cmd: string,
    what: string,
    opts: CallOptions,
    feed?: (write: (data: Buffer) => Promise<void>, signal: AbortSignal) => Promise<void>,
  ): Promise<ExecResult> {
    // The connect phase has its own bound; the call's timeout starts once the connection is up.
    return (async () => {
      const conn = await this.link.get(opts.signal);
      return bounded(this.host, what, opts, async (signal) => {
        const { ch, result, isClosed } = await this.openChannel(conn, cmd);
        const onAbort = () => ch.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          if (feed) {
            try {
              await feed((data) => writeWithBackpressure(ch, data, signal, isClosed), signal);
            } catch (err) {
              if (signal.aborted) throw cancelledError();
              if (!(err instanceof ChannelClosed)) {
                ch.destroy();
                throw err;
              }
              // The remote side closed first: either the command failed (it has an exit status and stderr, which
              // is the useful error) or the connection dropped.
            }
          }
          ch.end();
          const res = await result.catch(() => null);
          if (res === null) throw this.lostError(conn, what);
          return res;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      });
    })();
  }

  private lostError(conn: Conn, what: string): AppError {
    const reason = conn.lastError?.message ?? 'connection closed';
    return new AppError('ssh-unreachable', `The connection to ${this.host} was lost during ${what} (${reason}).`, {
      host: this.host,
      hint: 'The machine or its SSH server went away; check it is running and retry.',
    });
  }

  /**
   * Opens an exec channel and starts collecting its output at once, inside ssh2's callback: a fast command's output,
   * exit status and close can arrive in the same TCP read as the channel confirmation, before an awaiting caller
   * would run, and a listener attached later misses the exit status.
   */
  private openChannel(conn: Conn, cmd: string): Promise<{ ch: ClientChannel; result: Promise<ExecResult>; isClosed: () => boolean }> {
    return new Promise((resolve, reject) => {
      if (conn.closed) return reject(this.lostError(conn, 'opening a channel'));
      try {
        conn.client.exec(cmd, (err, ch) => {
          if (err) return reject(this.channelError(err));
          let closed = false;
          ch.once('close', () => (closed = true));
          const result = collect(ch);
          result.catch(() => undefined);
          resolve({ ch, result, isClosed: () => closed });
        });
      } catch (err) {
        // ssh2 throws synchronously when the connection is not usable any more.
        reject(this.channelError(err as Error));
      }
    });
  }

  private channelError(err: Error): AppError {
    return new AppError('ssh-unreachable', `Could not open a session on ${this.host}: ${err.message}`, {
      host: this.host,
      hint: 'The SSH server refused a new session (MaxSessions?) or the connection dropped; retry.',
    });
  }
}

/** The channel closed while we were still writing to it. */
class ChannelClosed extends Error {
  constructor() {
    super('channel closed');
  }
}

/** Collects a channel's output until it closes; rejects if it closed without an exit status (connection lost). */
function collect(ch: ClientChannel): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let exited = false;
    let code: number | null = null;
    ch.on('data', (d: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(d);
      outLen += d.length;
    });
    ch.stderr.on('data', (d: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(d);
      errLen += d.length;
    });
    ch.on('exit', (c: number | null) => {
      exited = true;
      code = typeof c === 'number' ? c : null;
    });
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (!exited) return reject(new Error('channel closed without an exit status'));
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Writes one buffer, waiting for 'drain' when the channel's window is full — or failing if it closes meanwhile. */
async function writeWithBackpressure(ch: ClientChannel, data: Buffer, signal: AbortSignal, isClosed: () => boolean): Promise<void> {
  if (isClosed() || ch.destroyed || ch.writableEnded) throw new ChannelClosed();
  if (ch.write(data)) return;
  if (isClosed()) throw new ChannelClosed();
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([once(ch, 'drain', { signal: ac.signal }), once(ch, 'close', { signal: ac.signal }).then(() => Promise.reject(new ChannelClosed()))]);
  } finally {
    ac.abort();
    signal.removeEventListener('abort', onAbort);
  }
}
