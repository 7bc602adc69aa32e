/**
 * OpenSSH `known_hosts` files: parsing (plain, wildcard, negated and hashed `|1|salt|hash` host fields, the
 * `[host]:port` form, `@revoked` markers), the verdict for a presented host key, and appending a trusted key.
 *
 * The verdict follows OpenSSH's strict checking: a key listed for the host is `known`; a host with a listed key of
 * the same type but not this one is `changed` (never overridden here); otherwise `unknown`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | null;
  /** The raw host field (comma-separated patterns, or one hashed `|1|…` entry). */
  readonly hosts: string;
  readonly keyType: string;
  /** The key blob, base64 (as written in the file). */
  readonly key: string;
}

export type HostKeyVerdict =
  | { readonly status: 'known'; readonly entry: KnownHostEntry }
  | { readonly status: 'unknown' }
  | { readonly status: 'changed'; readonly entry: KnownHostEntry }
  | { readonly status: 'revoked'; readonly entry: KnownHostEntry };

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:…` fingerprint of a key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** Parses known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    out.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return out;
}

/** Reads and parses every file that exists; missing files count as empty. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** OpenSSH's glob: `*` any run, `?` one character; case-insensitive like host names. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** Does the host field of an entry match `name` (already in `[host]:port` form when needed)? */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      // A negated match vetoes the whole entry.
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The key types listed for a host name, in file order (used to prefer them during key exchange). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker === null && hostFieldMatches(e.hosts, name) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** OpenSSH's strict verdict for a presented key (type and base64 blob) at `name`. */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, keyType: string, key: string): HostKeyVerdict {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, name));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key === key);
  if (revoked) return { status: 'revoked', entry: revoked };
  const hit = forHost.find((e) => e.marker === null && e.key === key);
  if (hit) return { status: 'known', entry: hit };
  const sameType = forHost.find((e) => e.marker === null && e.keyType === keyType);
  if (sameType) return { status: 'changed', entry: sameType };
  return { status: 'unknown' };
}

/** Appends `name keyType key` to a known_hosts file (created 0600, folder 0700, if missing). */
export async function appendKnownHost(file: string, host: string, port: number, keyType: string, key: string): Promise<void> {
  if (!/^[A-Za-z0-9+/=]+$/.test(key) || !/^[A-Za-z0-9@.-]+$/.test(keyType)) throw new Error('malformed host key');
  if (/[\s,]/.test(host)) throw new Error('malformed host name');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  await appendFile(file, `${prefix}${knownHostsName(host, port)} ${keyType} ${key}\n`, { mode: 0o600 });
}
