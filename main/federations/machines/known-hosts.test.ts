import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendKnownHost, fingerprint, hostFieldMatches, keyTypeOfBlob, knownHostsName, knownKeyTypes, parseKnownHosts, verifyHostKey } from './known-hosts';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIOp0vJ7qQ6QJ8n3yS7i7p0u3bEJpZ1C1mZfKJbK2xYzA';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

function hashed(name: string, salt = Buffer.from('0123456789abcdefghij')): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('known_hosts', () => {
  it('names non-22 ports in brackets', () => {
    expect(knownHostsName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('parses comments, markers and line numbers, skipping malformed lines', () => {
    const text = `# comment\n\nhost1 ssh-ed25519 ${KEY_A} me@x\n@revoked * ssh-ed25519 ${KEY_B}\n@cert-authority *.corp ssh-ed25519 ${KEY_B}\nbroken-line\n@weird h ssh-ed25519 ${KEY_A}\n`;
    const entries = parseKnownHosts(text, 'f');
    expect(entries.map((e) => [e.line, e.marker, e.hosts])).toEqual([
      [3, null, 'host1'],
      [4, 'revoked', '*'],
      [5, 'cert-authority', '*.corp'],
    ]);
  });

  it('matches patterns: lists, wildcards, negation, case, hashed names', () => {
    expect(hostFieldMatches('a,b,c', 'b')).toBe(true);
    expect(hostFieldMatches('*.example.com', 'node1.EXAMPLE.com')).toBe(true);
    expect(hostFieldMatches('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(hostFieldMatches('10.0.0.?', '10.0.0.17')).toBe(false);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('[h]:2222', 'h')).toBe(false);
    expect(hostFieldMatches(hashed('[h]:2222'), '[h]:2222')).toBe(true);
    expect(hostFieldMatches(hashed('[h]:2222'), 'h')).toBe(false);
    expect(hostFieldMatches('|1|garbage', 'h')).toBe(false);
  });

  it('gives strict verdicts: known, unknown, changed (same type), revoked', () => {
    const entries = parseKnownHosts(
      `h1 ssh-ed25519 ${KEY_A}\n${hashed('h2')} ssh-ed25519 ${KEY_A}\nh3 ssh-rsa AAAAB3NzaC1yc2E\n@revoked * ssh-ed25519 ${KEY_B}\n`,
      'kh',
    );
    expect(verifyHostKey(entries, 'h1', 'ssh-ed25519', KEY_A).status).toBe('known');
    expect(verifyHostKey(entries, 'h2', 'ssh-ed25519', KEY_A).status).toBe('known');
    expect(verifyHostKey(entries, 'h9', 'ssh-ed25519', KEY_A).status).toBe('unknown');
    expect(verifyHostKey(entries, 'h3', 'ssh-ed25519', KEY_A).status).toBe('unknown');
    const changed = verifyHostKey(entries, 'h1', 'ssh-ed25519', 'AAAAC3Nza');
    expect(changed).toMatchObject({ status: 'changed', entry: { file: 'kh', line: 1 } });
    expect(verifyHostKey(entries, 'h9', 'ssh-ed25519', KEY_B).status).toBe('revoked');
    expect(knownKeyTypes(entries, 'h3')).toEqual(['ssh-rsa']);
  });

  it('fingerprints and key types match ssh-keygen conventions', () => {
    const blob = Buffer.from(KEY_A, 'base64');
    expect(keyTypeOfBlob(blob)).toBe('ssh-ed25519');
    expect(fingerprint(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('appends entries to a new 0600 file and keeps existing lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cd-kh-'));
    dirs.push(dir);
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, '127.0.0.5', 2222, 'ssh-ed25519', KEY_A);
    await appendKnownHost(file, '127.0.0.6', 22, 'ssh-ed25519', KEY_B);
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.5]:2222 ssh-ed25519 ${KEY_A}\n127.0.0.6 ssh-ed25519 ${KEY_B}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(appendKnownHost(file, 'h', 22, 'ssh-ed25519', 'bad key\nh2 x')).rejects.toThrow(/malformed/);
  });
});
