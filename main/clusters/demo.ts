/**
 * Demo clusters: a small cluster.yaml on a fresh libvirt test-driver host file, so the whole lifecycle can be tried
 * with nothing installed but libvirt. The config names its host (`clusterdesk.libvirt_uri`), so the app and the CLI
 * open the same one.
 */
import { lstat, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors';
import { specialKind } from '../files/regular-file';
import { createDemoHost } from './libvirt/test-host';

export interface DemoCluster {
  readonly folder: string;
  readonly configFile: string;
  readonly hostFile: string;
  readonly uri: string;
  readonly clusterName: string;
}

/** The demo's cluster.yaml: a controller and `computeNodes` compute nodes on 192.168.150.0/24. */
export function demoConfigYaml(clusterName: string, uri: string, computeNodes = 3): string {
  const nodes = Array.from(
    { length: computeNodes },
    (_, i) => `      - cpu_cores: 4\n        memory_gb: 8\n        disk_gb: 80\n        ip: "192.168.150.${11 + i}"\n`,
  ).join('');
  return [
    "# A demo cluster on libvirt's test driver: nothing really boots, no base image is needed.",
    "# `clusterdesk:` is Clusterdesk's own section (AI-HOW ignores it): the host file both the app and the CLI use.",
    'version: "1.0"',
    'metadata:',
    `  name: ${JSON.stringify(clusterName)}`,
    '  description: "Clusterdesk demo cluster (libvirt test driver)"',
    'clusterdesk:',
    `  libvirt_uri: ${JSON.stringify(uri)}`,
    '  pool_path: "pool"',
    'clusters:',
    '  hpc:',
    `    name: ${JSON.stringify(clusterName)}`,
    '    base_image_path: "images/hpc-base.qcow2"',
    '    network:',
    '      subnet: "192.168.150.0/24"',
    '      bridge: "cdemo150"',
    '    controller:',
    '      cpu_cores: 2',
    '      memory_gb: 4',
    '      disk_gb: 40',
    '      ip_address: "192.168.150.10"',
    '    compute_nodes:',
    nodes,
  ].join('\n');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
}

/** Kernel file systems: never a place for a demo (writes there fail or mean something else entirely). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function refused(dir: string, why: string, hint = 'Pick an empty folder of your own for the demo.'): AppError {
  return new AppError('path-refused', `Cannot create a demo cluster in ${dir}: ${why}.`, { path: dir, hint });
}

/** A fresh folder of ours for a demo: refuses special files, kernel file systems and any file the demo would write. */
async function prepareFolder(folder: string): Promise<string> {
  const dir = resolve(folder);
  try {
    const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st && !st.isDirectory() && !st.isSymbolicLink()) {
      throw refused(dir, `it is a ${specialKind(st) ?? 'file'}, not a folder`);
    }
    if (!st) await mkdir(dir, { recursive: true, mode: 0o700 });
    const real = await realpath(dir);
    if (VIRTUAL_ROOTS.some((r) => real === r || real.startsWith(`${r}/`))) throw refused(dir, `it lies on a kernel file system (${real})`);
    const target = await stat(real);
    if (!target.isDirectory()) throw refused(dir, `it is a ${specialKind(target) ?? 'file'}, not a folder`);
    for (const name of ['cluster.yaml', 'host.xml']) {
      if (await exists(join(dir, name))) {
        throw refused(dir, `it already holds ${name}; not overwriting it`, 'Pick an empty folder for the demo, or open the existing cluster.yaml.');
      }
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw refused(dir, `${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return dir;
}

/**
 * Creates a demo cluster folder: `folder` if given (it must not hold a cluster.yaml yet), else the first free
 * `<dataDir>/demos/cluster-N`.
 */
export async function createDemoCluster(dataDir: string, folder?: string): Promise<DemoCluster> {
  let dir: string;
  let clusterName: string;
  if (folder) {
    dir = await prepareFolder(folder);
    clusterName = 'demo';
  } else {
    const root = join(dataDir, 'demos');
    await mkdir(root, { recursive: true, mode: 0o700 });
    let n = 1;
    // mkdir without `recursive` fails on an existing folder, so two concurrent calls never share one.
    for (;;) {
      dir = join(root, `cluster-${n}`);
      try {
        await mkdir(dir, { mode: 0o700 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        n++;
      }
    }
    clusterName = `demo-${n}`;
  }
  const hostFile = join(dir, 'host.xml');
  const configFile = join(dir, 'cluster.yaml');
  try {
    // Both names are claimed exclusively first: a file that appeared since the check is never replaced.
    await writeFile(configFile, '', { mode: 0o600, flag: 'wx' });
    await writeFile(hostFile, '', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refused(dir, code === 'EEXIST' ? 'cluster.yaml or host.xml appeared meanwhile; not overwriting it' : `cannot write there (${code ?? String(err)})`);
  }
  const uri = await createDemoHost(hostFile);
  await writeFile(configFile, demoConfigYaml(clusterName, uri), { mode: 0o600 });
  return { folder: dir, configFile, hostFile, uri, clusterName };
}
