import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSecretKey, mayContainSecret, REDACTED, redactedCopyForHistory, redactSecrets, redactText } from './redact';

// ---------------------------------------------------------------------------------------------------------------
// Generators

const b64 = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('')), minLength: 40, maxLength: 64 });
const alnum = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('')), minLength: min, maxLength: max });
const upperDigits = (n: number) => fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('')), minLength: n, maxLength: n });

/** A word of the secret vocabulary, in a random case style. */
const WORDS: readonly (readonly string[])[] = [
  ['password'],
  ['passwd'],
  ['pass', 'phrase'],
  ['secret'],
  ['token'],
  ['api', 'key'],
  ['private', 'key'],
  ['credential'],
  ['credentials'],
];
const sep = fc.constantFrom('_', '-', '.', '');
const caseStyle = fc.constantFrom('lower', 'upper', 'camel', 'title');
const styled = (parts: readonly string[], style: string, s: string): string => {
  switch (style) {
    case 'upper':
      return parts.map((p) => p.toUpperCase()).join(s);
    case 'camel':
      return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
    case 'title':
      return parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join(s);
    default:
      return parts.join(s);
  }
};
/** Any prefix/suffix made of letters and separators (e.g. `admin_`, `X-`, `.v2`). */
const affix = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-.'.split('')), maxLength: 6 });
const secretKey = fc
  .tuple(affix, fc.constantFrom(...WORDS), caseStyle, sep, affix)
  .map(([pre, word, style, s, post]) => `${pre}${styled(word, style, s)}${post}`);

/**
 * Ordinary keys: real field names, and random names from an alphabet without `s`, `k` and `d`, letters that every
 * secret word needs (so none can be formed by chance).
 */
const REAL_KEYS = [
  'name',
  'host',
  'port',
  'user',
  'tmp_dir',
  'lineage',
  'serial',
  'ssh_identity',
  'identity',
  'fingerprint',
  'public_key',
  'host_key',
  'volume_path',
  'domain_uuid',
  'ip_address',
  'deployed_files_path',
  'keep',
];
const ordinaryKey = fc.oneof(
  fc.constantFrom(...REAL_KEYS),
  fc.string({ unit: fc.constantFrom(...'abcefghijlmnopqrtuvwxyzABCEFGHIJLMNOPQRTUVWXYZ0123456789_-.'.split('')), minLength: 1, maxLength: 14 }),
);

/** Values that are secrets whatever their key. */
const secretValue = fc.oneof(
  fc
    .tuple(fc.constantFrom('RSA ', 'EC ', 'DSA ', 'OPENSSH ', 'ENCRYPTED ', ''), b64, b64)
    .map(([kind, a, b]) => `-----BEGIN ${kind}PRIVATE KEY-----\n${a}\n${b}\n-----END ${kind}PRIVATE KEY-----\n`),
  fc.tuple(b64, b64).map(([a, b]) => `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${a}\n${b}\n-----END PGP PRIVATE KEY BLOCK-----`),
  b64.map((a) => `-----BEGIN RSA PRIVATE KEY-----\n${a}`), // cut short
  b64.map((a) => `b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW${a}`),
  alnum(36, 40).map((t) => `ghp_${t}`),
  alnum(40, 50).map((t) => `github_pat_${t}`),
  alnum(20, 24).map((t) => `glpat-${t}`),
  alnum(20, 30).map((t) => `xoxb-${t}`),
  upperDigits(16).map((t) => `AKIA${t}`),
  fc.tuple(alnum(10, 30), alnum(10, 30), alnum(10, 40)).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`),
  fc.tuple(alnum(3, 8), alnum(8, 20)).map(([u, p]) => `postgres://${u}:${p}@db.example:5432/x`),
  alnum(20, 40).map((t) => `Authorization: Bearer ${t}`),
);
/** The part of a secret value that must not survive (the value minus its armour and its harmless context). */
const secretCore = (v: string): string[] => {
  if (v.includes('://')) return [v.slice(v.lastIndexOf(':', v.indexOf('@')) + 1, v.indexOf('@'))];
  if (v.startsWith('Authorization')) return [v.slice('Authorization: Bearer '.length)];
  return v
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .map((l) => l.slice(0, 40));
};

/** Values that must come through untouched. */
const ordinaryValue = fc.oneof(
  fc.uuid(),
  fc.constantFrom(
    '/home/alice/.ssh/id_ed25519',
    '/tmp/439eadc9-69db-4d3c-a635-d25b16cc3cb7',
    '/var/lib/libvirt/images/hpc/controller.qcow2',
    'qemu:///system',
    'test:///default',
    'ssh://fl@127.0.0.5:22/x',
    'https://example.org/path?x=1',
    '2025-10-21T09:00:00.000+00:00',
    '127.0.13.4',
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n',
    '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----\n',
    'RUNNING',
    'bench-vm-00003',
    'Basic usage',
    'the machine asks for a password',
  ),
  b64.map((b) => `SHA256:${b.slice(0, 43)}`),
  b64.map((b) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${b} alice@laptop`),
  b64.map((b) => `ssh-rsa AAAAB3NzaC1yc2E${b}`),
  fc.string({ unit: fc.constantFrom(...'abcdefghijlmnoqruvwxyz0123456789/._ -'.split('')), maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

interface Built {
  tree: unknown;
  secrets: string[];
  /** JSON of every ordinary leaf with its path, which must all survive. */
  ordinary: [string, unknown][];
}

/** A random tree mixing ordinary fields, secret keys (any value) and secret values (under ordinary keys, in arrays). */
const tree: fc.Arbitrary<Built> = fc.letrec<{ node: Built }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    ordinaryValue.map((v) => ({ tree: v, secrets: [], ordinary: [['', v]] as [string, unknown][] })),
    secretValue.map((v) => ({ tree: v, secrets: secretCore(v), ordinary: [] })),
    fc.array(tie('node'), { maxLength: 4 }).map((items) => ({
      tree: items.map((i) => i.tree),
      secrets: items.flatMap((i) => i.secrets),
      ordinary: items.flatMap((i, n) => i.ordinary.map(([p, v]) => [`[${n}]${p}`, v] as [string, unknown])),
    })),
    fc
      .tuple(
        fc.uniqueArray(fc.tuple(ordinaryKey, tie('node')), { selector: ([k]) => k, maxLength: 4 }),
        fc.array(fc.tuple(secretKey, fc.oneof(alnum(6, 20), fc.integer({ min: 1000 }), fc.constant({ value: 'nested-secret-xyz' }))), { maxLength: 2 }),
      )
      .map(([plain, secret]) => {
        const obj: Record<string, unknown> = {};
        const secrets: string[] = [];
        const ordinary: [string, unknown][] = [];
        for (const [k, n] of plain) {
          if (k === '__proto__') continue;
          obj[k] = n.tree;
          secrets.push(...n.secrets);
          ordinary.push(...n.ordinary.map(([p, v]) => [`.${k}${p}`, v] as [string, unknown]));
        }
        for (const [k, v] of secret) {
          if (k in obj) continue;
          obj[k] = v;
          secrets.push(typeof v === 'object' ? 'nested-secret-xyz' : String(v));
        }
        return { tree: obj, secrets, ordinary };
      }),
  ),
})).node;

function leaf(root: unknown, path: string): unknown {
  let cur = root;
  for (const m of path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    // Keys may contain dots: fall back to a direct lookup of the rest when a segment is missing.
    if (m[1] !== undefined) cur = (cur as Record<string, unknown>)[m[1]];
    else cur = (cur as unknown[])[Number(m[2])];
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------------------------

describe('redactSecrets (fuzzed keys and values)', () => {
  it('nothing secret survives, nothing ordinary is removed or changed, the input is untouched', () => {
    fc.assert(
      fc.property(tree, (b) => {
        const before = JSON.stringify(b.tree);
        const { value, removed } = redactSecrets(b.tree);
        const text = JSON.stringify(value) ?? '';
        expect(JSON.stringify(b.tree)).toBe(before);
        for (const s of b.secrets) expect(text).not.toContain(s);
        // Keys with dots make paths ambiguous; the byte-level check below covers them.
        for (const [p, v] of b.ordinary) if (!/\.[^.[]*\./.test(p) && !p.slice(1).includes('.')) expect(leaf(value, p)).toEqual(v);
        for (const [, v] of b.ordinary) if (typeof v === 'string' && v.length > 0) expect(text).toContain(JSON.stringify(v).slice(1, -1));
        if (b.secrets.length === 0) {
          expect(removed).toEqual([]);
          expect(value).toBe(b.tree);
        } else {
          expect(removed.length).toBeGreaterThan(0);
        }
        // What was removed is reported by path, never by value.
        for (const s of b.secrets) expect(removed.join('\n')).not.toContain(s);
      }),
      { numRuns: 400 },
    );
  });

  it('every secret key style is recognized, ordinary keys are not', () => {
    fc.assert(
      fc.property(secretKey, (k) => {
        expect(isSecretKey(k), k).toBe(true);
      }),
    );
    fc.assert(
      fc.property(ordinaryKey, (k) => {
        expect(isSecretKey(k), k).toBe(false);
      }),
    );
  });

  it('the same secrets are caught in text (logs, messages) and in non-JSON files', () => {
    fc.assert(
      fc.property(secretValue, fc.constantFrom('', 'error at line 3: ', 'x '), (v, prefix) => {
        const out = redactText(`${prefix}${v} end`);
        for (const s of secretCore(v)) expect(out).not.toContain(s);
        expect(out).toContain(REDACTED);
        expect(mayContainSecret(`${prefix}${v}`)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(
        ordinaryValue.filter((v): v is string => typeof v === 'string'),
        (v) => {
          expect(redactText(v)).toBe(v);
        },
      ),
    );
  });
});

describe('redactSecrets (the cases from issue #9)', () => {
  const PEM =
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDq3zTcDH7nWq0RpeFkH3dUD4yUBh7fL0yVzGQnqOsz9QAAAJgAAAAAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  const state = {
    cluster_name: 'hpc',
    admin_password: 'adm-1',
    vms: [{ name: 'c', root_password: 'root-1', ssh_password: 'ssh-1', api_token: 'tok-1', ssh_identity: PEM, ssh_key: '/home/a/.ssh/id_ed25519' }],
    data: {
      machines: [
        {
          closure: {
            machine: {
              name: 'site1',
              connection: { type: 'remote', remote_credentials: { user: 'fl', ip: '127.0.0.5', password: 'DUMMY-pw', port: 22, api_key: 'k' } },
            },
          },
        },
        { closure: { machine: { name: 'server', connection: { type: 'local', remote_credentials: null } } } },
      ],
    },
    password_auth: false,
    lineage: '439eadc9-69db-4d3c-a635-d25b16cc3cb7',
  };

  it('removes the keys, replaces key material, keeps a credentials container’s identity fields', () => {
    const { value, removed } = redactSecrets(state);
    const text = JSON.stringify(value);
    for (const s of ['adm-1', 'root-1', 'ssh-1', 'tok-1', 'DUMMY-pw', 'PRIVATE KEY', 'b3BlbnNzaC1rZXktdjE', '"k"']) expect(text).not.toContain(s);
    expect(removed).toEqual([
      'admin_password',
      'vms[0].root_password',
      'vms[0].ssh_password',
      'vms[0].api_token',
      'vms[0].ssh_identity',
      'data.machines[0].closure.machine.connection.remote_credentials.password',
      'data.machines[0].closure.machine.connection.remote_credentials.api_key',
    ]);
    const v = value as typeof state;
    expect(v.vms[0]).toEqual({ name: 'c', ssh_identity: REDACTED, ssh_key: '/home/a/.ssh/id_ed25519' });
    expect(v.data.machines[0]!.closure.machine.connection.remote_credentials).toEqual({ user: 'fl', ip: '127.0.0.5', port: 22 });
    expect(v.data.machines[1]!.closure.machine.connection.remote_credentials).toBeNull();
    expect(v.password_auth).toBe(false);
    expect(v.lineage).toBe(state.lineage);
    // Untouched input.
    expect(state.admin_password).toBe('adm-1');
  });

  it('redacts a YAML or JSON line echoed in a message, a URL password and a query token', () => {
    expect(redactText('refedez.yaml:4: bad indentation near "  password: hunter2 x"')).not.toContain('hunter2');
    expect(redactText('line 3: admin_password: my secret pass')).toBe('line 3: admin_password: [redacted]');
    expect(redactText('{"apiKey":"abc","user":"u"}')).toBe('{"apiKey":"[redacted]","user":"u"}');
    expect(redactText('connect postgres://bob:hunter2@db/x failed')).toBe('connect postgres://bob:[redacted]@db/x failed');
    expect(redactText('GET /?token=abcdef&x=1')).toBe('GET /?token=[redacted]&x=1');
    expect(redactText('Not storing secrets in /x/state.json: dropped data.machines[1].password.')).toBe(
      'Not storing secrets in /x/state.json: dropped data.machines[1].password.',
    );
  });

  it('keeps a file copy byte for byte when it holds no secret, else redacts it (JSON as a tree, other text as text)', () => {
    const clean = '{\n    "type": "clean",\n    "data": {}\n}';
    expect(redactedCopyForHistory(clean)).toEqual({ text: clean, removed: [] });
    const json = redactedCopyForHistory(Buffer.from(JSON.stringify(state, null, 4)));
    expect(json.removed).toContain('admin_password');
    expect(JSON.parse(json.text)).toEqual(redactSecrets(state).value);
    const torn = redactedCopyForHistory('{"type": "running", "admin_password": "adm-1", "key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIE');
    expect(torn.text).not.toMatch(/adm-1|MIIE/);
    expect(torn.removed).toEqual(['(text)']);
  });

  it('keeps __proto__ keys as data', () => {
    const input = JSON.parse('{"__proto__": {"x": 1}, "password": "p"}') as Record<string, unknown>;
    const { value } = redactSecrets(input);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"x":1}}');
  });
});
