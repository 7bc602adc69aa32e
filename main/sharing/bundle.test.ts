import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { canonicalJson, makeBundle, parseBundle, previewImport, redact, type StateBundle } from './bundle';

const LIN = '11111111-2222-3333-4444-555555555555';

function bundle(state: Record<string, unknown>, over: Partial<Omit<StateBundle, 'sha256'>> = {}): StateBundle {
  return makeBundle({
    app_version: '0.1.0',
    exported_at: '2026-11-23T10:00:00.000Z',
    workspace: { kind: 'cluster', name: 'hpc' },
    lineage: LIN,
    serial: 5,
    redacted: { secrets: 0, home_paths: false },
    state,
    ...over,
  });
}

describe('canonicalJson', () => {
  it('is independent of key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });
});

describe('parseBundle', () => {
  it('round-trips a bundle', () => {
    const b = bundle({ cluster_name: 'hpc', vms: [] });
    expect(parseBundle(JSON.stringify(b))).toEqual(b);
  });

  it('refuses a tampered or truncated bundle', () => {
    const text = JSON.stringify(bundle({ cluster_name: 'hpc', status: 'running', vms: [] }));
    const tampered = text.replace('"running"', '"stopped"');
    expect(() => parseBundle(tampered)).toThrow(expect.objectContaining({ code: 'bundle-invalid' }));
    expect(() => parseBundle(text.slice(0, text.length - 10))).toThrow(expect.objectContaining({ code: 'bundle-invalid' }));
    expect(() => parseBundle('{"format":"other"}')).toThrow(expect.objectContaining({ code: 'bundle-invalid' }));
  });

  it('refuses every single-character change of the state', () => {
    const text = JSON.stringify(bundle({ cluster_name: 'hpc', vms: [{ name: 'hpc-controller', cpu_cores: 4 }] }));
    const start = text.indexOf('"state"');
    fc.assert(
      fc.property(fc.integer({ min: start + 9, max: text.indexOf('"sha256"') - 3 }), fc.constantFrom('0', '9', 'x'), (i, ch) => {
        if (text[i] === ch) return;
        const changed = text.slice(0, i) + ch + text.slice(i + 1);
        try {
          parseBundle(changed);
          throw new Error('accepted a modified bundle');
        } catch (err) {
          expect(isAppError(err, 'bundle-invalid')).toBe(true);
        }
      }),
    );
  });
});

describe('redact', () => {
  it('drops secret keys and key material, and replaces home paths on request', () => {
    const state = {
      data: {
        machines: [{ name: 'site1', user: 'alice', password: 'hunter2', tmp_dir: '/home/alice/tmp/x', identity: '/home/alice/.ssh/id_ed25519' }],
        agent: '/tmp/ssh-XXXXabcd/agent.1234',
        note: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----',
      },
      token: 'abc',
    };
    const { value, removed } = redact(state, { homeDirs: ['/home/alice'] });
    const text = JSON.stringify(value);
    expect(removed).toBe(4);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('agent.1234');
    expect(text).not.toContain('"token"');
    expect(text).toContain('"tmp_dir":"~/tmp/x"');
    expect(text).not.toContain('/home/alice');
  });
});

describe('previewImport (Terraform push rules)', () => {
  const cur = (serial: number | null, lineage: string | null, state: Record<string, unknown> | null) => ({ serial, lineage, status: null, state });
  const vms = (...names: string[]) => ({ cluster_name: 'hpc', vms: names.map((name) => ({ name, state: 'RUNNING' })) });

  it('accepts into an empty workspace', () => {
    expect(previewImport(cur(null, null, null), bundle(vms('a')), 'running')).toMatchObject({ verdict: 'accept', added: ['a'] });
  });
  it('accepts a newer serial of the same lineage and lists the diff', () => {
    const p = previewImport(
      cur(3, LIN, vms('a', 'b')),
      bundle({
        ...vms('a', 'c'),
        vms: [
          { name: 'a', state: 'SHUTOFF' },
          { name: 'c', state: 'RUNNING' },
        ],
      }),
      null,
    );
    expect(p).toMatchObject({ verdict: 'accept', added: ['c'], removed: ['b'], changed: ['a'] });
  });
  it('needs force for an older or equal serial with different content', () => {
    expect(previewImport(cur(9, LIN, vms('a')), bundle(vms('b')), null).verdict).toBe('needs-force');
    expect(previewImport(cur(5, LIN, vms('a')), bundle(vms('b')), null).verdict).toBe('needs-force');
  });
  it('is identical when only volatile fields differ', () => {
    expect(previewImport(cur(9, LIN, { ...vms('a'), serial: 9, last_modified: 'x' }), bundle({ ...vms('a'), serial: 5 }), null).verdict).toBe('identical');
  });
  it('needs adopt for another lineage', () => {
    expect(previewImport(cur(1, 'other', vms('a')), bundle(vms('a')), null).verdict).toBe('needs-adopt');
  });
});
