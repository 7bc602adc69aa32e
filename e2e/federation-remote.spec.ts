import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKits } from '../main/federations/kits/example-kits';
import { expect, test } from '../test/support/app';
import { startMachines, type MachinesFixture } from '../test/support/sshd';
import { FederationPage } from './pages/federation-page';
import { WorkspacesPage } from './pages/workspaces-page';

// This spec owns 127.0.40.x: one real sshd machine beside a local server.
let fx: MachinesFixture | null = null;

test.afterEach(async () => {
  await fx?.stop();
  fx = null;
});

/**
 * Asks every participant still recorded to stop and removes its folder. The "remote" machine is an sshd on loopback,
 * so its temp dir is on this file system too (clean was refused by design at the end of the test).
 */
async function removeLeftovers(statePath: string): Promise<void> {
  const text = await readFile(statePath, 'utf8').catch(() => null);
  const machines = text ? ((JSON.parse(text) as { data?: { machines?: { tmp_dir?: string }[] } }).data?.machines ?? []) : [];
  const dirs = machines.map((m) => m.tmp_dir).filter((d): d is string => Boolean(d?.startsWith('/tmp/clusterdesk-')));
  for (const d of dirs) await writeFile(join(d, 'shutdown.fl'), '').catch(() => undefined);
  if (dirs.length) await new Promise((r) => setTimeout(r, 1500));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

test('a remote machine: unknown host key → trust dialog → start; logs; a changed key is refused loudly', async ({ app, workDir }) => {
  test.skip(app.host === 'electron', 'the SSH fixture is shared with the serve run; the Electron run covers the UI with the demo federation');
  fx = await startMachines(1, { base: '127.0.40', port: 'auto' });
  const m = fx.machines[0]!;
  const folder = join(workDir, 'fl-remote');
  await mkdir(folder, { recursive: true });
  const participants = [
    { name: 'server.localhost', type: 'server' as const },
    { name: 'site-1', type: 'client' as const },
  ];
  await writeFile(
    join(folder, 'project.yml'),
    stringify({ api_version: 3, name: 'fl-remote', participants: [...participants, { name: 'admin@x.org', type: 'admin' }] }),
  );
  await writeFile(
    join(folder, 'refedez.yaml'),
    stringify({
      refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' },
      machines: { 'server.localhost': { type: 'local' }, 'site-1': { type: 'remote', ip: m.host, port: m.port, user: m.user, identity: fx.clientKeyPath } },
    }),
  );
  await generateKits(participants, join(folder, 'kits'));
  const statePath = join(folder, '.refedez', 'state.json');

  try {
    const ws = new WorkspacesPage(app);
    const fed = new FederationPage(app);
    await ws.add(folder);
    await ws.select('fl-remote');
    await fed.button('Start').click();

    const dialog = app.page.getByRole('dialog', { name: 'Unknown host key' });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText(m.hostKeyFingerprint);
    await app.screenshot('host-key-unknown');
    await dialog.getByRole('button', { name: 'Trust this key' }).click();

    const item = ws.item('fl-remote');
    await expect(item).toContainText('running', { timeout: 30_000 });
    await expect(fed.row('site-1')).toContainText('remote');
    await expect(fed.row('site-1')).toContainText(m.host);
    expect(await readFile(join(folder, '.clusterdesk', 'known_hosts'), 'utf8')).toContain(m.host);

    await fed.row('site-1').getByRole('button', { name: 'Logs for site-1' }).click();
    const log = app.page.getByRole('log', { name: 'Log of site-1' });
    await expect(async () => {
      await app.page.getByRole('button', { name: 'Reload log' }).click();
      await expect(log).toContainText('heartbeat', { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await app.screenshot('remote-running-log');

    // The machine comes back with another host key (reinstalled, or someone in the middle).
    await fx.restartWithNewHostKey(0);
    await fed.button('Stop').click();
    await expect(item).toContainText('dirty');
    await fed.clean('fl-remote');
    const alert = app.page.getByRole('alert').filter({ hasText: 'WARNING: the host key has changed' });
    await expect(alert).toBeVisible();
    await expect(app.page.getByRole('button', { name: 'Trust this key' })).toHaveCount(0);
    await expect(item).toContainText('dirty');
    await app.screenshot('host-key-changed');
  } finally {
    await removeLeftovers(statePath);
  }
});
