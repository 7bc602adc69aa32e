/**
 * Every file the state engine writes, checked byte by byte on disk: state, `.backup`, history generations (written,
 * rotated, archived on restore and remove), with their modes.
 */
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeHistoryFile } from '../state/history';
import { StateStore, type ClusterState, type StateTarget } from '../state';
import { tempDir } from '../../test/support/state/samples';
import { expectNoSecretFiles, PEM_KEY, SECRET_NEEDLES, stateWithSecrets } from '../../test/support/no-secrets';

let dir: string;
let cleanup: () => Promise<void>;
let warnings: string[];
let store: StateStore;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('clusterdesk-secrets-'));
  warnings = [];
  store = new StateStore({ historyLimit: 3, onWarning: (m) => warnings.push(m) });
});
afterEach(async () => {
  await cleanup();
});

const clusterAt = (file: string): StateTarget<'cluster'> => ({ kind: 'cluster', file });

async function foreignFile(file: string, content: unknown): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  // Written as another tool would: indent 4, mode 0644.
  await writeFile(file, JSON.stringify(content, null, 4));
  await chmod(file, 0o644);
}

describe('state engine write boundaries', () => {
  it('a foreign file with secrets: our first write leaves a redacted state, a redacted 0600 .backup and clean history', async () => {
    const file = join(dir, 'output', 'state.json');
    await foreignFile(file, stateWithSecrets());
    const loaded = await store.load(clusterAt(file));
    // Secrets never reach the app either.
    expect(JSON.stringify(loaded)).not.toMatch(/adm-pw-1|PRIVATE KEY/);

    await store.update(clusterAt(file), 'refresh', (cur) => ({ ...cur!, status: 'stopped' }));
    const backup = await readFile(`${file}.backup`, 'utf8');
    const st = await stat(`${file}.backup`);
    expect(st.mode & 0o777).toBe(0o600);
    // A redacted copy, not the original inode (which was 0644 and held the password).
    expect(backup).not.toContain('adm-pw-1');
    // Everything else of the original is kept (its own layout, unknown fields).
    expect(JSON.parse(backup)).toMatchObject({ cluster_name: 'hpc', future_field: { keep: 'me' } });
    // The warning names what was dropped, never its value.
    expect(warnings.join('\n')).toMatch(/dropped admin_password/);
    for (const needle of SECRET_NEEDLES) expect(warnings.join('\n')).not.toContain(needle);
    await expectNoSecretFiles([dir]);

    // The next write links our own (redacted) generation as .backup.
    await store.update(clusterAt(file), 'refresh', (cur) => ({ ...cur!, status: 'running' }));
    expect(JSON.parse(await readFile(`${file}.backup`, 'utf8'))).toMatchObject({ serial: 1, status: 'stopped' });
    await expectNoSecretFiles([dir]);
  });

  it('a caller’s secrets are dropped on write, the history rotates and never holds one', async () => {
    const file = join(dir, 'state.json');
    for (let i = 0; i < 6; i++) {
      await store.update(clusterAt(file), 'start', () => ({ ...(stateWithSecrets() as ClusterState), status: i % 2 ? 'running' : 'stopped' }));
    }
    expect(warnings.length).toBe(6);
    expect(warnings[0]).toMatch(/dropped admin_password, .*vms\[0\]\.ssh_identity/);
    for (const needle of SECRET_NEEDLES) expect(warnings.join('\n')).not.toContain(needle);
    const history = await readdir(`${file}.history`);
    expect(history).toHaveLength(3);
    await expectNoSecretFiles([dir]);
  });

  it('restore over a corrupt file holding a password archives it redacted', async () => {
    const file = join(dir, 'state.json');
    await store.update(clusterAt(file), 'start', () => stateWithSecrets() as ClusterState);
    // Someone edits the file by hand and breaks it, a password in it.
    await writeFile(file, `{"cluster_name": "hpc", "admin_password": "adm-pw-1",\n "key": ${JSON.stringify(PEM_KEY)}, oops`);
    const backups = await store.backups(clusterAt(file));
    const entry = backups.find((b) => b.source === 'history')!;
    await store.restore(clusterAt(file), entry.id);
    await expectNoSecretFiles([dir]);
    // The error that describes a corrupt file never echoes the secret either.
    await writeFile(file, `{"cluster_name": "hpc",\n  admin_password: "adm-pw-1"\n}`);
    const err = await store.load(clusterAt(file)).catch((e: unknown) => e as Error);
    expect(String((err as Error).message)).not.toContain('adm-pw-1');
  });

  it('remove (destroy) archives the current file redacted', async () => {
    const file = join(dir, 'state.json');
    await foreignFile(file, stateWithSecrets());
    await store.transaction(clusterAt(file), 'destroy', (tx) => tx.remove());
    await expectNoSecretFiles([dir]);
    expect((await readdir(`${file}.history`)).length).toBe(1);
  });

  it('writeHistoryFile (used for an adopted file’s original) always redacts and writes 0600', async () => {
    const path = join(dir, 'h', '000001.json');
    await mkdir(join(dir, 'h'), { mode: 0o700 });
    await writeFile(path, 'old', { mode: 0o644 });
    const removed = await writeHistoryFile(path, JSON.stringify(stateWithSecrets(), null, 4));
    expect(removed).toContain('admin_password');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expectNoSecretFiles([dir]);
  });
});
