/**
 * The demo federation: the example project of `examples/federation` (one server, two sites, an admin) on local
 * machines, with generated FLARE-like kits — something that starts, runs and stops with nothing installed but a shell.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors';
import { generateKits, type KitParticipant } from './kits/example-kits';

// The same project as examples/federation/{refedez.yaml,project.yml}, written from here because the packaged app
// does not ship the examples folder.
const REFEDEZ_YAML = `# A ReFedEz federation on this computer, created by Clusterdesk as a demo.
# For remote machines use: { type: remote, ip: HOST-or-~/.ssh/config-alias, user: NAME, port: 22, identity: KEY }.
refedez:
  folder: ./.refedez
  capabilities: ./project.yml
  kits: ./kits

machines:
  server1:
    type: local
  site-1:
    type: local
  site-2:
    type: local
`;

const PROJECT_YML = `# A FLARE project (NVIDIA FLARE project.yml, api_version 3): one server, two client sites and an admin.
api_version: 3
name: example_project
description: Clusterdesk demo federation (local machines)

participants:
  - name: server1
    type: server
    org: example
    fed_learn_port: 8002
    admin_port: 8003
  - name: site-1
    type: client
    org: example
  - name: site-2
    type: client
    org: example
  - name: admin@example.org
    type: admin
    org: example
    role: project_admin
`;

const PARTICIPANTS: readonly KitParticipant[] = [
  { name: 'server1', type: 'server' },
  { name: 'site-1', type: 'client' },
  { name: 'site-2', type: 'client' },
  { name: 'admin@example.org', type: 'admin' },
];

/**
 * Writes the demo project into `folder` (which must be missing or empty), or into the first free
 * `<dataDir>/demos/federation-N`; returns the project folder.
 */
export async function createDemoFederation(dataDir: string, folder?: string): Promise<string> {
  let target: string;
  if (folder) {
    target = resolve(folder);
    const entries = await readdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw new AppError('invalid-argument', `Cannot use ${target} for the demo: ${err.code ?? err.message}.`, { path: target });
    });
    if (entries.length > 0) {
      throw new AppError('invalid-argument', `${target} is not empty.`, { path: target, hint: 'Pick a new or empty folder for the demo federation.' });
    }
  } else {
    const demos = join(dataDir, 'demos');
    await mkdir(demos, { recursive: true, mode: 0o700 });
    // mkdir without `recursive` fails on an existing folder: two demos created at once get different numbers.
    for (let n = 1; ; n++) {
      const candidate = join(demos, `federation-${n}`);
      try {
        await mkdir(candidate, { mode: 0o700 });
        target = candidate;
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  await mkdir(target, { recursive: true, mode: 0o700 });
  await writeFile(join(target, 'refedez.yaml'), REFEDEZ_YAML);
  await writeFile(join(target, 'project.yml'), PROJECT_YML);
  await generateKits(PARTICIPANTS, join(target, 'kits'));
  return target;
}
