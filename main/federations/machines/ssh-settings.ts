/**
 * Resolves how to reach a remote machine: the refedez.yaml values first, then `~/.ssh/config` (Host aliases,
 * HostName, User, Port, IdentityFile, HostKeyAlias, UserKnownHostsFile, ConnectTimeout), then OpenSSH's defaults.
 * The config file path is injectable so tests never read the real one.
 */
import { access, readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import SSHConfig, { type Line, LineType } from 'ssh-config';

/** What refedez.yaml says about a remote machine. */
export interface SshTargetInput {
  /** `ip` in refedez.yaml: an address, a host name or a `Host` alias of ~/.ssh/config. */
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
  /** Private key path (`identity`); `~` is expanded, relative paths are relative to `baseDir`. */
  readonly identity?: string;
}

export interface SshResolveOptions {
  /** ~/.ssh/config by default; null to ignore any config file. */
  readonly sshConfigPath?: string | null;
  /** The home folder used for `~` and the default file locations (default: os.homedir()). */
  readonly homeDir?: string;
  /** Folder relative identity paths are resolved against (the refedez.yaml folder). */
  readonly baseDir?: string;
  /** The local user name, the default remote user. */
  readonly localUser?: string;
}

/** Fully resolved connection settings. Never holds secrets: keys are paths, read at connect time. */
export interface ResolvedSsh {
  /** The name as written in the config (alias or address), for messages. */
  readonly alias: string;
  /** The address actually connected to. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private keys to try in order (absolute paths; may not exist — missing ones are skipped). */
  readonly identityFiles: readonly string[];
  /** The name looked up in known_hosts (HostKeyAlias, else host). */
  readonly hostKeyAlias: string;
  /** Extra known_hosts files from UserKnownHostsFile (absolute). */
  readonly userKnownHostsFiles: readonly string[];
  /** From ConnectTimeout (seconds → ms), when the config sets it. */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Removes directives that would make ssh-config run programs or DNS lookups synchronously (`Match exec`, canonicalization). */
function stripBlocking(config: SSHConfig): void {
  for (let i = config.length - 1; i >= 0; i--) {
    const line: Line = config[i]!;
    if (line.type !== LineType.DIRECTIVE) continue;
    if (/^(CanonicalizeHostName|CanonicalDomains)$/i.test(line.param)) {
      config.splice(i, 1);
    } else if ('config' in line) {
      stripBlocking(line.config);
    }
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Expands `~` and the common `%` tokens of ssh_config paths (%d home, %u local user, %h host, %r remote user, %%). */
function expandPath(p: string, ctx: { home: string; localUser: string; host: string; user: string; baseDir: string }): string {
  let out = p.replace(/%([%dhur])/g, (_, t: string) => (t === '%' ? '%' : t === 'd' ? ctx.home : t === 'h' ? ctx.host : t === 'u' ? ctx.localUser : ctx.user));
  if (out === '~') out = ctx.home;
  else if (out.startsWith('~/')) out = join(ctx.home, out.slice(2));
  return isAbsolute(out) ? out : resolve(ctx.baseDir, out);
}

/** Parses an ssh config file; a missing file is an empty config. */
export async function loadSshConfig(path: string | null): Promise<SSHConfig> {
  if (path === null) return SSHConfig.parse('');
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const config = SSHConfig.parse(text);
  stripBlocking(config);
  return config;
}

/** Resolves a remote machine's connection settings (see the module comment for precedence). */
export async function resolveSsh(input: SshTargetInput, opts: SshResolveOptions = {}): Promise<ResolvedSsh> {
  const home = opts.homeDir ?? homedir();
  const localUser = opts.localUser ?? safeLocalUser();
  const configPath = opts.sshConfigPath === undefined ? join(home, '.ssh', 'config') : opts.sshConfigPath;
  const config = await loadSshConfig(configPath);
  // matchExec: false — a `Match exec` line must never run a program (synchronously!) inside the app.
  const computed = config.compute({ Host: input.host, ...(input.user ? { User: input.user } : {}) }, { matchExec: false, ignoreCase: true });
  const get = (key: string) => computed[key.toLowerCase()] ?? computed[key];

  const host = first(get('HostName')) ?? input.host;
  const user = input.user ?? first(get('User')) ?? localUser;
  const portText = first(get('Port'));
  const port = input.port ?? (portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : 22);
  const ctx = { home, localUser, host, user, baseDir: opts.baseDir ?? process.cwd() };

  let identityFiles: string[];
  if (input.identity) {
    identityFiles = [expandPath(input.identity, ctx)];
  } else {
    const fromConfig = all(get('IdentityFile')).map((p) => expandPath(p, ctx));
    identityFiles = fromConfig.length > 0 ? fromConfig : DEFAULT_IDENTITIES.map((n) => join(home, '.ssh', n));
  }
  const existing: string[] = [];
  for (const f of identityFiles) {
    if (
      await access(f).then(
        () => true,
        () => false,
      )
    )
      existing.push(f);
  }
  // An explicitly named identity that does not exist is kept so the auth error can name it.
  if (input.identity && existing.length === 0) existing.push(identityFiles[0]!);

  const timeoutText = first(get('ConnectTimeout'));
  const userKnownHostsFiles = all(get('UserKnownHostsFile'))
    .flatMap((v) => v.split(/\s+/))
    .filter((v) => v !== '' && v !== 'none' && v !== '/dev/null')
    .map((p) => expandPath(p, ctx));
  return {
    alias: input.host,
    host,
    port,
    user,
    identityFiles: existing,
    hostKeyAlias: first(get('HostKeyAlias')) ?? host,
    userKnownHostsFiles,
    ...(timeoutText !== undefined && /^\d+$/.test(timeoutText) ? { connectTimeoutMs: Number(timeoutText) * 1000 } : {}),
  };
}

function safeLocalUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
