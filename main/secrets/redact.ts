/**
 * The one redaction function of Clusterdesk (the rule is documented in docs/state.md).
 * Pure: no I/O. Every write boundary calls it: state writes, `.backup`, history generations, bundles, error messages
 * and hints, log lines.
 *
 * By key — a key whose name, lower-cased with `_ - . ` and spaces removed, contains one of
 * `password passwd passphrase secret token apikey privatekey credential authorization` (so `admin_password`,
 * `rootPassword`, `SSH-PASSWORD`, `api.key`, `x_private_key_pem`, `remote_credentials` all match):
 *   - the key is removed, whatever its value (string, number, object…), except:
 *   - a `credential…` key holding an object or array (ReFedEz's `remote_credentials: {user, ip, port, password}`)
 *     is kept as a container: inside it only identity fields (`user`, `ip`, `host`, `port`, `type`, `name`, …) with
 *     plain values survive, everything else is removed; a `credential…` key holding `null` stays `null`;
 *   - a boolean or `null` value is kept (it cannot hold a secret: `password_auth: true`).
 * By value — under any other key, in objects and arrays alike, a string that contains key material or a
 * credential has that part replaced with `[redacted]` (the field stays, so required fields still validate):
 * PEM private-key blocks (`-----BEGIN … PRIVATE KEY-----`, encrypted and PGP ones too), OpenSSH private-key bodies
 * (`b3BlbnNzaC1rZXktdjE…` = base64 of `openssh-key-v1`), PuTTY key files, GitHub / GitLab / Slack tokens, AWS access
 * key ids, JSON Web Tokens, the password of a URL (`scheme://user:PASSWORD@host`), `Authorization: Bearer …`
 * headers, and `key: value` / `key=value` text whose key is secret-named (a YAML line echoed in an error).
 * Never matched: UUIDs, paths, `SHA256:` fingerprints, public keys (`ssh-ed25519 AAAA…`, `BEGIN PUBLIC KEY`,
 * certificates), IP addresses, times.
 *
 * What was removed is reported as paths (`data.machines[1].password`), never as values.
 */

/** What replaces a secret found inside a value. */
export const REDACTED = '[redacted]';

/** The secret words, as they appear in a normalized key (lower case, separators removed). */
export const SECRET_KEY_WORDS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'credential',
  'authorization',
];

/** Fields kept inside a `credential…` container: who and where, never how to prove it. */
const CONTAINER_ALLOW: ReadonlySet<string> = new Set([
  'user',
  'username',
  'login',
  'ip',
  'host',
  'hostname',
  'address',
  'port',
  'type',
  'kind',
  'name',
  'protocol',
  'method',
]);

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[\s_.-]+/g, '');

const keyCache = new Map<string, boolean>();

/** True when `key` names a secret (see the module comment): any case, any prefix/suffix, `_ - .` or camelCase. */
export function isSecretKey(key: string): boolean {
  const hit = keyCache.get(key);
  if (hit !== undefined) return hit;
  const n = normalizeKey(key);
  const secret = SECRET_KEY_WORDS.some((w) => n.includes(w));
  if (keyCache.size > 10_000) keyCache.clear();
  keyCache.set(key, secret);
  return secret;
}

/** A secret-named key that may hold a group of connection fields (kept as a container, see the module comment). */
function isCredentialKey(key: string): boolean {
  return normalizeKey(key).includes('credential');
}

// ---------------------------------------------------------------------------------------------------------------
// Values and text

/** The key words as they appear in text (at most one separator between their parts). */
const TEXT_KEY_WORD = String.raw`(?:pass[_.-]?(?:word|wd|phrase)|secret|token|api[_.-]?key|private[_.-]?key|credential|authorization)`;

/**
 * A cheap test that is true whenever a replacement below could apply (it may also be true when none does). Used to
 * skip the replacements on the vast majority of strings, and to skip parsing files that cannot hold a secret.
 */
const TRIGGER = new RegExp(
  String.raw`-----BEGIN|PuTTY-User-Key|b3BlbnNzaC1rZXktdjE|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|eyJ|://[^\s/@]*:[^\s/@]*@|bearer|basic\s|${TEXT_KEY_WORD}`,
  'i',
);

/**
 * The same test split into simple expressions, tried one after the other: much faster than the one alternation on
 * a long text (a whole state file), where V8 can use each literal to skip ahead.
 */
const TEXT_TRIGGERS: readonly RegExp[] = [
  new RegExp(TEXT_KEY_WORD, 'i'),
  /-----BEGIN/,
  /PuTTY-User-Key/,
  /b3BlbnNzaC1rZXktdjE/,
  /gh[pousr]_/,
  /github_pat_/,
  /glpat-/,
  /xox[abposr]-/,
  /AKIA|ASIA/,
  /eyJ/,
  /:\/\/[^\s/@]*:[^\s/@]*@/,
  /[Bb]earer/,
  /Basic\s/,
];

const triggered = (text: string): boolean => (text.length > 4096 ? TEXT_TRIGGERS.some((re) => re.test(text)) : TRIGGER.test(text));

interface Rule {
  readonly re: RegExp;
  readonly to: string | ((...m: string[]) => string);
}

const RULES: readonly Rule[] = [
  // PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK); a block cut short is redacted to the end.
  {
    // (The body is an unrolled loop, linear even on a huge text: no lazy quantifier tried at every character.)
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[^-]*(?:-(?!----END )[^-]*)*(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\r?\n)?)?/g,
    to: REDACTED,
  },
  // PuTTY private key files, up to their MAC line.
  { re: /PuTTY-User-Key-File-\d+:[^\n]*(?:\n(?!Private-MAC:)[^\n]*)*(?:\nPrivate-MAC:[ \t]*[0-9a-fA-F]+)?/g, to: REDACTED },
  // An OpenSSH private key body without its armour (base64 of "openssh-key-v1"), lines joined by real or escaped newlines.
  { re: /b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]*(?:(?:\\n|\r?\n)[A-Za-z0-9+/=]+)*/g, to: REDACTED },
  // Provider tokens with unambiguous prefixes.
  { re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, to: REDACTED },
  { re: /\bglpat-[A-Za-z0-9_-]{20,}/g, to: REDACTED },
  { re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, to: REDACTED },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, to: REDACTED },
  // JSON Web Tokens: base64url('{"') twice, dot-separated.
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, to: REDACTED },
  // The password of a URL: scheme://user:PASSWORD@host.
  { re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*):[^\s/?#@"'<>]+@/gi, to: (_m, head) => `${head}:${REDACTED}@` },
  // HTTP credentials.
  { re: /\b(Bearer|bearer|Basic)\s+[A-Za-z0-9][A-Za-z0-9._~+/-]{15,}=*/g, to: (_m, scheme) => `${scheme} ${REDACTED}` },
];

const isKeyChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2d;

/** The value after `key:` / `key=`: an escaped-quoted, quoted, single-quoted, cut-short quoted or bare value. */
const KV_VALUE = /[ \t]{0,16}(\\"(?:[^"\\\r\n]|\\[^"])*\\"|"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|\\?"[^\r\n]*|(?!\[redacted\])[^\s"'&\\][^\r\n"'&]*)/y;

/**
 * `key: value` / `key=value` / `"key": "value"` text whose key is secret-named (by `isSecretKey`, the rule used for
 * trees): a YAML or JSON line echoed in an error, a log line, a query string. A bare value runs to the end of the
 * line (a YAML password may contain spaces). Scans separators and looks back at the key, so it stays linear on any
 * text (a regex anchored on the key words backtracks badly over long runs of key characters).
 */
function redactKeyValues(text: string): string {
  const sep = /[:=]/g;
  let out = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = sep.exec(text)) !== null) {
    const at = m.index;
    let i = at - 1;
    while (i >= last && at - i <= 16 && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i--;
    if (i >= last && (text[i] === '"' || text[i] === "'")) {
      i--;
      if (i >= last && text[i] === '\\') i--;
    }
    const keyEnd = i + 1;
    while (i >= last && keyEnd - i <= 200 && isKeyChar(text.charCodeAt(i))) i--;
    if (keyEnd - i <= 1 || !isSecretKey(text.slice(i + 1, keyEnd))) continue;
    KV_VALUE.lastIndex = at + 1;
    const v = KV_VALUE.exec(text);
    if (!v) continue;
    const value = v[1]!;
    const start = KV_VALUE.lastIndex - value.length;
    const masked = value.startsWith('\\"') ? `\\"${REDACTED}\\"` : value.startsWith('"') ? `"${REDACTED}"` : value.startsWith("'") ? `'${REDACTED}'` : REDACTED;
    out += text.slice(last, start) + masked;
    last = KV_VALUE.lastIndex;
    sep.lastIndex = last;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** True when `text` may contain a secret (a fast pre-check; false means it certainly holds none we recognize). */
export function mayContainSecret(text: string): boolean {
  return triggered(text);
}

/** `text` with every recognized secret value replaced by `[redacted]` (for log lines, messages, hints, foreign text). */
export function redactText(text: string): string {
  if (!triggered(text)) return text;
  let out = text;
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    out = out.replace(rule.re, rule.to as (substring: string, ...args: string[]) => string);
  }
  return redactKeyValues(out);
}

// ---------------------------------------------------------------------------------------------------------------
// Trees

export interface Redacted<T> {
  /** The redacted value: the same object when nothing was removed, else a copy (the input is never changed). */
  readonly value: T;
  /** Paths of what was removed or replaced (`data.machines[1].password`), never the values. */
  readonly removed: string[];
}

const DROP = Symbol('drop');
type Out = unknown | typeof DROP;

/** The shortest string a value rule can change (`token=x`, `a://b:c@`): shorter ones are skipped without a test. */
const MIN_SECRET_VALUE = 7;

/**
 * Redacts secrets everywhere in a JSON-like tree (objects, arrays, unknown fields; see the module comment).
 * Copy-on-write: unchanged subtrees are shared with the input and the input is never modified, so the common case
 * (nothing secret) allocates nothing. Paths are built only for what is removed.
 */
export function redactSecrets<T>(value: T): Redacted<T> {
  const removed: string[] = [];
  // The path of the node being visited (keys and indexes), turned into text only when something is removed.
  const segs: (string | number)[] = [];
  const note = () => {
    let p = '';
    for (const seg of segs) p += typeof seg === 'number' ? `[${seg}]` : p ? `.${seg}` : seg;
    removed.push(p || '(value)');
  };

  const str = (s: string): string => {
    if (s.length < MIN_SECRET_VALUE || !TRIGGER.test(s)) return s;
    const r = redactText(s);
    if (r !== s) note();
    return r;
  };

  const walk = (v: unknown, container: boolean): Out => {
    if (typeof v === 'string') return str(v);
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        let next: Out = item;
        if (typeof item === 'object' && item !== null) {
          segs.push(i);
          next = walk(item, container);
          segs.pop();
        } else if (container || typeof item === 'string') {
          segs.push(i);
          if (container) {
            note();
            next = DROP;
          } else {
            next = str(item as string);
          }
          segs.pop();
        }
        if (next !== item && copy === null) copy = v.slice(0, i);
        if (copy !== null && next !== DROP) copy.push(next);
      }
      return copy ?? v;
    }
    const obj = v as Record<string, unknown>;
    let pairs: [string, unknown][] | null = null;
    let i = 0;
    for (const key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const child = obj[key];
      let next: Out = child;
      if (container) {
        segs.push(key);
        if (typeof child === 'object' && child !== null) next = walk(child, true);
        else if (CONTAINER_ALLOW.has(normalizeKey(key)) && child !== undefined) next = typeof child === 'string' ? str(child) : child;
        else {
          note();
          next = DROP;
        }
        segs.pop();
      } else if (isSecretKey(key)) {
        if (child !== null && typeof child !== 'boolean') {
          segs.push(key);
          if (typeof child === 'object' && isCredentialKey(key)) next = walk(child, true);
          else {
            note();
            next = DROP;
          }
          segs.pop();
        }
      } else if ((typeof child === 'object' && child !== null) || (typeof child === 'string' && child.length >= MIN_SECRET_VALUE)) {
        segs.push(key);
        next = walk(child, false);
        segs.pop();
      }
      if (next !== child && pairs === null)
        pairs = Object.keys(obj)
          .slice(0, i)
          .map((k) => [k, obj[k]]);
      if (pairs !== null && next !== DROP) pairs.push([key, next]);
      i++;
    }
    // fromEntries defines own properties, so a `__proto__` key stays data and never becomes a prototype.
    return pairs === null ? v : Object.fromEntries(pairs);
  };

  const out = walk(value, false);
  return { value: (out === DROP ? undefined : out) as T, removed };
}

// ---------------------------------------------------------------------------------------------------------------
// Files

export interface RedactedFile {
  /** The text to write. */
  readonly text: string;
  /** What was removed (paths for JSON, `(text)` for other content). Empty: `text` is the input, unchanged. */
  readonly removed: string[];
}

/**
 * The content to store for a file we keep a copy of (history generation, `.backup`, the original of an adopted
 * foreign state): JSON is redacted as a tree and re-serialized (2-space indent) only when something was removed;
 * anything else (a corrupt or truncated file) is redacted as text.
 */
export function redactedCopyForHistory(content: string | Uint8Array): RedactedFile {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  if (!triggered(text)) return { text, removed: [] };
  let parsed: unknown;
  let json = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    json = false;
  }
  if (json && typeof parsed === 'object' && parsed !== null) {
    const r = redactSecrets(parsed);
    if (r.removed.length === 0) return { text, removed: [] };
    return { text: `${JSON.stringify(r.value, null, 2)}\n`, removed: r.removed };
  }
  const red = redactText(text);
  return red === text ? { text, removed: [] } : { text: red, removed: ['(text)'] };
}
