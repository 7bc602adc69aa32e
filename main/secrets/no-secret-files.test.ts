/**
 * Issue #9 item 2, end to end: real CLI processes operate real deployments (libvirt's test driver; ReFedEz's own
 * state file with machines that refuse connections), and after every step EVERY file under the workspace folder and
 * the data dir is grepped for every planted secret, and the modes of the files we write are checked.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedAddress } from '../../test/support/sshd';
import { createDemoCluster } from '../clusters/service';
import { runCli, type CliRun } from '../../test/support/run-cli';
import { expectNoSecretFiles, PEM_KEY, SECRET_NEEDLES } from '../../test/support/no-secrets';

/** The file ReFedEz's own code wrote (shared/ beside the checkout), else the repo's copy of that layout. */
const FIXTURES = [
  join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'refedez', 'state-written-by-refedez.json'),
  '/work/shared/fixtures/refedez/state-written-by-refedez.json',
  join(import.meta.dirname, '..', 'federations', 'fixtures', 'refedez-running.json'),
];
const readFixture = async (): Promise<string> => {
  for (const f of FIXTURES) {
    const text = await readFile(f, 'utf8').catch(() => null);
    if (text !== null) return text;
  }
  throw new Error(`no ReFedEz fixture in ${FIXTURES.join(', ')}`);
};

let dir = '';
let dataDir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-no-secrets-'));
  dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Two generations of history, so a few operations rotate it.
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ historyLimit: 2 }), { mode: 0o600 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Nothing secret in what the CLI printed either. */
function expectCleanOutput(r: CliRun): void {
  for (const needle of SECRET_NEEDLES) {
    expect(r.stdout, `stdout holds ${needle}`).not.toContain(needle);
    expect(r.stderr, `stderr holds ${needle}`).not.toContain(needle);
  }
}

async function cli(args: readonly string[]): Promise<CliRun> {
  const r = await runCli(args, { dataDir, timeoutMs: 120_000 });
  expectCleanOutput(r);
  return r;
}

describe('no secret in any file we write (CLI, real operations)', () => {
  it('a cluster whose state file carries admin/root/ssh passwords, an API token and a PEM key', async () => {
    const demo = await createDemoCluster(dataDir, join(dir, 'cluster'));
    const folder = join(dir, 'cluster');
    const config = demo.configFile;
    const stateFile = join(folder, 'output', 'state.json');
    const start = await cli(['hpc', 'start', config]);
    expect(start.code, start.stderr).toBe(0);

    // Another tool (or a hand edit) puts secrets in the file, mode 0644.
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, unknown> & { vms: Record<string, unknown>[] };
    state.admin_password = 'adm-pw-1';
    state.api_token = 'api-tok-4';
    Object.assign(state.vms[0]!, { root_password: 'root-pw-2', ssh_password: 'ssh-pw-3', ssh_identity: PEM_KEY });
    await writeFile(stateFile, JSON.stringify(state, null, 2));
    await chmod(stateFile, 0o644);

    // Read-only commands print nothing secret.
    const shown = await cli(['--json', 'state', 'show', config]);
    expect(shown.code).toBe(0);

    // Our first write: the state, the .backup of the foreign file and the history are all redacted.
    const stop = await cli(['hpc', 'stop', '--timeout', '5', config]);
    expect(stop.code, stop.stderr).toBe(0);
    await expectNoSecretFiles([folder, dataDir]);
    const backup = await readFile(`${stateFile}.backup`, 'utf8');
    expect(JSON.parse(backup)).toMatchObject({
      cluster_name: demo.clusterName,
      vms: expect.arrayContaining([expect.objectContaining({ ssh_identity: '[redacted]' })]),
    });

    // History rotation (limit 2).
    for (const cmd of ['start', 'stop']) {
      const r = await cli(['hpc', cmd, ...(cmd === 'stop' ? ['--timeout', '5'] : []), config]);
      expect(r.code, r.stderr).toBe(0);
    }
    const seen = await expectNoSecretFiles([folder, dataDir]);
    expect(seen.filter((p) => p.includes('state.json.history')).length).toBe(2);

    // Export to a bundle.
    const bundle = join(folder, 'cluster.cdstate');
    const ex = await cli(['state', 'export', bundle, config]);
    expect(ex.code, ex.stderr).toBe(0);
    await expectNoSecretFiles([folder, dataDir]);

    const destroy = await cli(['hpc', 'destroy', '--force', config]);
    expect(destroy.code, destroy.stderr).toBe(0);
    await expectNoSecretFiles([folder, dataDir]);
  }, 300_000);

  it('the state ReFedEz wrote, with its password: stop, a clean that cannot finish, export', async () => {
    const folder = join(dir, 'fed');
    const stateDir = join(folder, '.refedez');
    await mkdir(stateDir, { recursive: true });
    const [a, b] = await Promise.all([refusedAddress('127.0.9.61'), refusedAddress('127.0.9.62')]);
    const fixture = await readFixture();
    const raw = JSON.parse(fixture) as {
      data: { machines: { closure: { machine: { name: string; connection: { remote_credentials: Record<string, unknown> | null } } }; tmp_dir: string }[] };
    };
    // Rewritten to machines of our own (they refuse connections), temp folders that do not exist; password kept.
    const addrs = [a, b];
    const machines: Record<string, unknown> = {};
    raw.data.machines.forEach((m) => {
      m.tmp_dir = `/tmp/${randomUUID()}`;
      const creds = m.closure.machine.connection.remote_credentials;
      if (creds) {
        const addr = addrs.shift()!;
        Object.assign(creds, { ip: addr.host, port: addr.port, user: 'fl', password: 'DUMMY-refedez-fixture-password' });
        machines[m.closure.machine.name] = { type: 'remote', ip: addr.host, port: addr.port, user: 'fl' };
      } else {
        machines[m.closure.machine.name] = { type: 'local' };
      }
    });
    await writeFile(join(stateDir, 'state.json'), JSON.stringify(raw, null, 4));
    await chmod(join(stateDir, 'state.json'), 0o644);
    await writeFile(join(folder, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez' }, machines }));

    const status = await cli(['--json', 'fed', 'status', folder]);
    expect(status.code, status.stderr).toBe(0);

    // Adoption (preview first) is the explicit step before we operate it; the original goes to history redacted.
    const preview = await cli(['state', 'adopt', '--dry-run', folder]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout + preview.stderr).not.toContain('DUMMY-refedez-fixture-password');
    const adopt = await cli(['state', 'adopt', folder]);
    expect(adopt.code, adopt.stderr).toBe(0);
    await expectNoSecretFiles([folder, dataDir]);
    // The adopted original is kept as the oldest generation: every field but the password.
    expect(await readFile(join(stateDir, 'state.json.history', '000000.json'), 'utf8')).toContain('remote_credentials');

    // Stop: the remote machines are unreachable, the state becomes dirty.
    const stop = await cli(['fed', 'stop', folder]);
    // No key to log in with (this test has none): each remote machine is `failed` with ssh-auth, exit 1.
    expect([0, 1, 4], stop.stdout + stop.stderr).toContain(stop.code);
    await expectNoSecretFiles([folder, dataDir]);
    const backup = join(stateDir, 'state.json.backup');

    // Clean cannot finish (unreachable or refused): the state folder stays, and so does .backup — redacted, 0600.
    const clean = await cli(['fed', 'clean', folder]);
    expect(clean.code).not.toBe(0);
    await expectNoSecretFiles([folder, dataDir]);

    const bundle = join(folder, 'fed.cdstate');
    const ex = await cli(['state', 'export', bundle, folder]);
    expect(ex.code, ex.stderr).toBe(0);
    const files = await expectNoSecretFiles([folder, dataDir]);
    expect(files).toEqual(expect.arrayContaining([backup, bundle, join(stateDir, 'state.json')]));
  }, 300_000);
});
