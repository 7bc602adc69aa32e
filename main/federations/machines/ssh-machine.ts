/**
 * The remote Machine over SSH (ssh2): one lazily opened connection per machine, multiplexing exec channels.
 *
 * Every command is a fixed POSIX `sh -c` script whose data travels as positional arguments quoted by `shellQuote`
 * — no command string is ever built from data elsewhere. Host keys are checked strictly against known_hosts
 * (unknown → `ssh-hostkey-unknown` with the fingerprint, changed → `ssh-hostkey-changed`, never overridden); a new
 * key is written to the workspace's known_hosts only on explicit request (accept-new, or a fingerprint the user
 * confirmed). No retries: a failed connect fails the call, typed and naming the host.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import ssh2, { type AnyAuthMethod, type ClientChannel, type ServerHostKeyAlgorithm } from 'ssh2';
import type { ErrorCode } from '../../../preload/contract';
import { actionHint, AppError, cancelledError } from '../../errors';
import { assertAbsolute, assertPrefix, assertRemovable, bounded, formatMs } from './guards';
import { appendKnownHost, fingerprint, keyTypeOfBlob, knownHostsName, knownKeyTypes, loadKnownHosts, verifyHostKey } from './known-hosts';
import { assertPid } from './local-machine';
import { shellQuote } from './shell-quote';
import type { ResolvedSsh } from './ssh-settings';
import { listTree, tarStream } from './upload-archive';
import type { CallOptions, ExecResult, LaunchOptions, Machine, UploadOptions, UploadStats } from './types';

// ssh2 is CommonJS: Node's ESM loader exposes only its default export, so take the values from there.
const { Client, utils: sshUtils } = ssh2;
type Client = InstanceType<typeof Client>;

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT = 8 * 1024 * 1024;

export interface HostKeyPolicy {
  /** known_hosts files read for verification (e.g. ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts). */
  readonly knownHostsFiles: readonly string[];
  /** The workspace's own known_hosts: read as well, and where newly trusted keys are appended. */
  readonly workspaceKnownHosts?: string;
  /** `--accept-new`: trust and record a host seen for the first time (a changed key is still refused). */
  readonly acceptNew?: boolean;
  /** Trust an unknown host only if it presents exactly this `SHA256:…` fingerprint (the user confirmed it). */
  readonly trustFingerprint?: string;
}

export interface SshMachineOptions {
  readonly target: ResolvedSsh;
  readonly hostKeys: HostKeyPolicy;
  /** Kept in memory for this machine object only; never written anywhere. */
  readonly password?: string;
  /** ssh-agent socket; default `SSH_AUTH_SOCK`; null disables the agent. */
  readonly agentSocket?: string | null;
  /** TCP connect + SSH handshake + auth bound (default: ConnectTimeout from ssh config, else 10 s). */
  readonly connectTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  readonly tempRoot?: string;
}

/** ssh2's default host key algorithms (order matters: the known types are moved to the front). */
const HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function algosForKeyType(t: string): string[] {
  return t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : HOST_KEY_ALGOS.includes(t) ? [t] : [];
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

interface Conn {
  readonly client: Client;
  closed: boolean;
  lastError: Error | null;
  readonly closedPromise: Promise<void>;
}

export class SshMachine implements Machine {
  readonly kind = 'remote' as const;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly tempRoot: string;
  private readonly opts: SshMachineOptions;
  private conn: Conn | null = null;
  private connecting: Promise<Conn> | null = null;

  constructor(opts: SshMachineOptions) {
    this.opts = opts;
    this.host = opts.target.host;
    this.port = opts.target.port;
    this.user = opts.target.user;
    this.tempRoot = opts.tempRoot ?? '/tmp';
  }

  private get connectTimeoutMs(): number {
    return this.opts.connectTimeoutMs ?? this.opts.target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  async connect(opts: CallOptions = {}): Promise<void> {
    await this.connection(opts.signal);
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
    const conn = this.conn;
    this.conn = null;
    if (!conn || conn.closed) return;
    conn.client.end();
    // A peer that does not answer the disconnect must not hold us: destroy after a grace period.
    const timer = setTimeout(() => conn.client.destroy(), 1000);
    await conn.closedPromise;
    clearTimeout(timer);
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
      const conn = await this.connection(opts.signal);
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

  /** The live connection, opening one if needed (concurrent callers share one attempt). */
  private async connection(signal?: AbortSignal): Promise<Conn> {
    if (signal?.aborted) throw cancelledError();
    if (this.conn && !this.conn.closed) return this.conn;
    if (!this.connecting) {
      this.connecting = this.openConnection().finally(() => {
        this.connecting = null;
      });
    }
    const pending = this.connecting;
    if (!signal) return pending;
    // Waiting can be cancelled; the shared attempt itself carries on for other callers (bounded by its timeout).
    return new Promise<Conn>((resolve, reject) => {
      const onAbort = () => reject(cancelledError());
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async openConnection(): Promise<Conn> {
    const { target, hostKeys } = this.opts;
    const files = [...hostKeys.knownHostsFiles, ...(hostKeys.workspaceKnownHosts ? [hostKeys.workspaceKnownHosts] : [])];
    const entries = await loadKnownHosts(files);
    const lookupName = knownHostsName(target.hostKeyAlias, target.port);
    const preferred = knownKeyTypes(entries, lookupName).flatMap(algosForKeyType);
    const serverHostKey = [...new Set([...preferred, ...HOST_KEY_ALGOS])];
    const auth = await this.authMethods();
    const timeoutMs = this.connectTimeoutMs;

    return new Promise<Conn>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      let hostKeyError: AppError | null = null;
      // Past key exchange and not yet ready: the server is authenticating us, so a drop now is an authentication
      // failure (sshd disconnects after MaxAuthTries, or closes on a user it will not let in), not an outage.
      let authenticating = false;
      let closeResolve!: () => void;
      const conn: Conn = { client, closed: false, lastError: null, closedPromise: new Promise<void>((r) => (closeResolve = r)) };
      // ssh2's readyTimeout starts after TCP connect; this bound also covers a SYN that is never answered.
      const timer = setTimeout(() => {
        fail(this.timeoutError(timeoutMs));
        client.destroy();
      }, timeoutMs + 50);
      const fail = (err: AppError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.conn = conn;
        resolve(conn);
      });
      client.on('handshake', () => {
        authenticating = true;
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        conn.lastError = err;
        fail(hostKeyError ?? this.connectError(err, timeoutMs, authenticating));
      });
      client.on('close', () => {
        conn.closed = true;
        if (this.conn === conn) this.conn = null;
        closeResolve();
        fail(
          hostKeyError ??
            (authenticating
              ? this.authError(`${this.host} closed the connection while authenticating user ${this.user}.`)
              : new AppError('ssh-unreachable', `${this.host} closed the connection during the handshake.`, { host: this.host, hint: this.reachHint() })),
        );
      });

      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        readyTimeout: timeoutMs,
        keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        authHandler: auth,
        algorithms: { serverHostKey: serverHostKey as ServerHostKeyAlgorithm[] },
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          this.checkHostKey(entries, lookupName, key).then(
            () => verify(true),
            (err: AppError) => {
              hostKeyError = err;
              verify(false);
            },
          );
        },
      });
    });
  }

  /** Resolves when the presented key is trusted (possibly after recording it); rejects with the typed refusal. */
  private async checkHostKey(entries: Awaited<ReturnType<typeof loadKnownHosts>>, name: string, key: Buffer): Promise<void> {
    const { hostKeys, target } = this.opts;
    const keyType = keyTypeOfBlob(key);
    const b64 = key.toString('base64');
    const fp = fingerprint(key);
    const verdict = verifyHostKey(entries, name, keyType, b64);
    const details = { fingerprint: fp, keyType, hostKeyAlias: target.hostKeyAlias, port: target.port };
    switch (verdict.status) {
      case 'known':
        return;
      case 'changed':
      case 'revoked':
        throw new AppError(
          'ssh-hostkey-changed',
          `The host key of ${name} has ${verdict.status === 'revoked' ? 'been revoked' : 'changed'}: it now presents ${fp}. This could be an attack, or the machine was reinstalled.`,
          {
            host: this.host,
            path: verdict.entry.file,
            line: verdict.entry.line,
            hint: `If the change is expected, remove the old key (ssh-keygen -R '${name}' -f ${verdict.entry.file}) and connect again.`,
            details: { ...details, knownHostsFile: verdict.entry.file, knownHostsLine: verdict.entry.line },
          },
        );
      case 'unknown': {
        const confirmed = hostKeys.trustFingerprint !== undefined && hostKeys.trustFingerprint === fp;
        if ((hostKeys.acceptNew || confirmed) && hostKeys.workspaceKnownHosts) {
          await appendKnownHost(hostKeys.workspaceKnownHosts, target.hostKeyAlias, target.port, keyType, b64);
          return;
        }
        throw new AppError('ssh-hostkey-unknown', `${name} is not a known host; it presents the ${keyType} key ${fp}.`, {
          host: this.host,
          hint: actionHint({
            cli: 'Compare the fingerprint with the machine (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); if it matches, run the command again with --accept-new.',
            ui: 'Compare the fingerprint with the machine (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); if it matches, click Trust this key.',
          }),
          details: { ...details, ...(hostKeys.trustFingerprint ? { expectedFingerprint: hostKeys.trustFingerprint } : {}) },
        });
      }
    }
  }

  /** Credentials in OpenSSH's order: identity files, then the agent, then an in-memory password. */
  private async authMethods(): Promise<AnyAuthMethod[]> {
    const { target } = this.opts;
    const username = target.user;
    const methods: AnyAuthMethod[] = [];
    const skipped: string[] = [];
    for (const file of target.identityFiles) {
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch {
        skipped.push(`${file} (unreadable)`);
        continue;
      }
      const parsed = sshUtils.parseKey(data);
      if (parsed instanceof Error) {
        // Typically an encrypted key: its passphrase is the agent's business.
        skipped.push(`${file} (${parsed.message})`);
        continue;
      }
      methods.push({ type: 'publickey', username, key: data });
    }
    const agent = this.opts.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : this.opts.agentSocket;
    if (agent) methods.push({ type: 'agent', username, agent });
    if (this.opts.password !== undefined) methods.push({ type: 'password', username, password: this.opts.password });
    if (methods.length === 0) {
      throw new AppError('ssh-auth', `No credentials to log in to ${this.host} as ${username}.`, {
        host: this.host,
        hint: `Set "identity" in refedez.yaml, add an IdentityFile to ~/.ssh/config, or start ssh-agent.${skipped.length ? ` Skipped: ${skipped.join('; ')}` : ''}`,
      });
    }
    return methods;
  }

  private reachHint(): string {
    return `Check that ${this.opts.target.alias} (${this.host}:${this.port}) is up and its SSH server is running.`;
  }

  private timeoutError(ms: number): AppError {
    return new AppError('ssh-timeout', `${this.host}:${this.port} did not complete the SSH handshake within ${formatMs(ms)}.`, {
      host: this.host,
      hint: `${this.reachHint()} A firewall that drops packets also looks like this.`,
    });
  }

  private authError(message: string): AppError {
    return new AppError('ssh-auth', message, {
      host: this.host,
      hint: 'Check the user name, the identity file (refedez.yaml "identity" or ~/.ssh/config) and ssh-agent.',
      details: { identityFiles: this.opts.target.identityFiles },
    });
  }

  /** Maps ssh2 / socket errors to the closed set of codes. */
  private connectError(err: Error & { level?: string; code?: string }, timeoutMs: number, authenticating = false): AppError {
    if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') return this.timeoutError(timeoutMs);
    if (err.level === 'client-authentication') return this.authError(`${this.host} refused every credential offered for user ${this.user}.`);
    // A protocol-level disconnect while authenticating ("Too many authentication failures") is still ssh-auth.
    if (authenticating && (err.level === 'protocol' || /authenticat/i.test(err.message))) {
      return this.authError(`${this.host} ended the login of user ${this.user}: ${err.message}`);
    }
    const unreachable: ErrorCode = 'ssh-unreachable';
    const what =
      err.code === 'ECONNREFUSED'
        ? 'refused the connection'
        : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
          ? 'could not be resolved'
          : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
            ? 'is unreachable'
            : `failed: ${err.message}`;
    return new AppError(unreachable, `${this.host}:${this.port} ${what}.`, {
      host: this.host,
      hint: this.reachHint(),
      ...(err.code ? { details: { errno: err.code } } : {}),
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
