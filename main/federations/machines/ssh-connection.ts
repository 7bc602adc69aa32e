/**
 * The SSH connection of one remote machine (ssh2): opened lazily, shared by every call (concurrent callers share one
 * attempt), host key checked strictly against known_hosts (unknown → `ssh-hostkey-unknown` with the fingerprint,
 * changed or revoked → `ssh-hostkey-changed`, never overridden; a new key is written to the workspace's known_hosts
 * only on explicit request: accept-new, or a fingerprint the user confirmed), credentials in OpenSSH's order, and
 * every failure mapped to the closed set of codes, naming the host. No retries: a failed connect fails the call.
 * The commands that run over it are main/federations/machines/ssh-machine.ts's business.
 */
import { readFile } from 'node:fs/promises';
import ssh2, { type AnyAuthMethod, type ServerHostKeyAlgorithm } from 'ssh2';
import type { ErrorCode } from '../../../preload/contract';
import { actionHint, AppError, cancelledError } from '../../errors';
import { formatMs } from './guards';
import { appendKnownHost, fingerprint, keyTypeOfBlob, knownHostsName, knownKeyTypes, loadKnownHosts, verifyHostKey } from './known-hosts';
import type { ResolvedSsh } from './ssh-settings';

// ssh2 is CommonJS: Node's ESM loader exposes only its default export, so take the values from there.
const { Client, utils: sshUtils } = ssh2;
type Client = InstanceType<typeof Client>;

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

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

export interface SshConnectionOptions {
  readonly target: ResolvedSsh;
  readonly hostKeys: HostKeyPolicy;
  /** Kept in memory for this connection only; never written anywhere. */
  readonly password?: string;
  /** ssh-agent socket; default `SSH_AUTH_SOCK`; null disables the agent. */
  readonly agentSocket?: string | null;
  /** TCP connect + SSH handshake + auth bound (default: ConnectTimeout from ssh config, else 10 s). */
  readonly connectTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
}

/** ssh2's default host key algorithms (order matters: the known types are moved to the front). */
const HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function algosForKeyType(t: string): string[] {
  return t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : HOST_KEY_ALGOS.includes(t) ? [t] : [];
}

/** An open ssh2 client and what is known about its end. */
export interface Conn {
  readonly client: Client;
  closed: boolean;
  lastError: Error | null;
  readonly closedPromise: Promise<void>;
}

export class SshConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  private conn: Conn | null = null;
  private connecting: Promise<Conn> | null = null;

  constructor(private readonly opts: SshConnectionOptions) {
    this.host = opts.target.host;
    this.port = opts.target.port;
    this.user = opts.target.user;
  }

  private get connectTimeoutMs(): number {
    return this.opts.connectTimeoutMs ?? this.opts.target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /** The live connection, opening one if needed (concurrent callers share one attempt). */
  async get(signal?: AbortSignal): Promise<Conn> {
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

  /** Ends the connection (destroyed if the peer does not answer the disconnect within a second). */
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
}
