/**
 * Test support: states full of secrets, and a check that greps every file under some folders for any of them and
 * checks the modes of the files Clusterdesk writes.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

/** A real-looking OpenSSH private key (random body: never a usable key). */
export const PEM_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBq7vC1yHj0dB3fE0oGmXo5Jf3kq8pM7dcVx2Lrw1hN0QAAAJj2bDnl9mw5',
  'ZQAAAAtzc2gtZWQyNTUxOQAAACBq7vC1yHj0dB3fE0oGmXo5Jf3kq8pM7dcVx2Lrw1hN0Q',
  '-----END OPENSSH PRIVATE KEY-----',
  '',
].join('\n');

/** The secret values planted by `stateWithSecrets` (and the ReFedEz fixture's password): none may reach a file. */
export const SECRET_NEEDLES: readonly string[] = [
  'adm-pw-1',
  'root-pw-2',
  'ssh-pw-3',
  'api-tok-4',
  'DUMMY-refedez-fixture-password',
  'PRIVATE KEY',
  'b3BlbnNzaC1rZXktdjE',
  'QyNTUxOQAAACBq7vC1yHj0dB3fE0oGmXo5Jf3kq8pM7dcVx2Lrw1hN0QAAAJj2bDnl9mw5',
];

/** An AI-HOW documented-format cluster state carrying every secret named in issue #9, plus an unknown field. */
export function stateWithSecrets(name = 'hpc'): Record<string, unknown> {
  return {
    cluster_name: name,
    cluster_type: 'hpc',
    status: 'running',
    created_at: '2025-10-21T09:00:00.000+00:00',
    admin_password: 'adm-pw-1',
    future_field: { keep: 'me', api_token: 'api-tok-4' },
    vms: [
      {
        name: `${name}-controller`,
        cpu_cores: 2,
        memory_gb: 4,
        state: 'RUNNING',
        ip_address: '192.168.100.10',
        gpu_count: 0,
        volumes: [],
        created_at: '2025-10-21T09:00:00.000+00:00',
        last_seen: null,
        root_password: 'root-pw-2',
        ssh_password: 'ssh-pw-3',
        ssh_identity: PEM_KEY,
      },
    ],
    networks: [],
    volumes: [],
  };
}

async function* walk(dir: string): AsyncGenerator<{ path: string; dir: boolean; mode: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isSymbolicLink()) continue;
    yield { path, dir: st.isDirectory(), mode: st.mode & 0o777 };
    if (st.isDirectory()) yield* walk(path);
  }
}

/** Files Clusterdesk writes (their modes must be 0600) and folders it creates for them (0700). */
const OURS_FILE = /(state\.json(\.backup|\.tmp)?|\/\d{6}\.json|\.cdstate)$/;
const OURS_DIR = /\.history$/;

/**
 * Greps every file under `roots` for every needle (raw bytes, so JSON escaping cannot hide one) and checks modes.
 * `extraNeedles`: more values to look for. Returns the files seen.
 */
export async function expectNoSecretFiles(roots: readonly string[], extraNeedles: readonly string[] = []): Promise<string[]> {
  const seen: string[] = [];
  const needles = [...SECRET_NEEDLES, ...extraNeedles];
  for (const root of roots) {
    for await (const e of walk(root)) {
      if (e.dir) {
        if (OURS_DIR.test(e.path)) expect(e.mode, `${e.path} mode`).toBe(0o700);
        continue;
      }
      seen.push(e.path);
      const text = await readFile(e.path, 'latin1');
      for (const needle of needles) expect(text.includes(needle), `${e.path} holds ${needle}`).toBe(false);
      if (OURS_FILE.test(e.path)) expect(e.mode, `${e.path} mode`).toBe(0o600);
    }
  }
  return seen;
}
