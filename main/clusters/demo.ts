/**
 * Demo clusters: a small cluster.yaml on a fresh libvirt test-driver host file, so the whole lifecycle can be tried
 * with nothing installed but libvirt. The config names its host (`clusterdesk.libvirt_uri`), so the app and the CLI
 * open the same one.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors';
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
    '# A demo cluster on libvirt\'s test driver: nothing really boots, no base image is needed.',
    '# `clusterdesk:` is Clusterdesk\'s own section (AI-HOW ignores it): the host file both the app and the CLI use.',
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
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Creates a demo cluster folder: `folder` if given (it must not hold a cluster.yaml yet), else the first free
 * `<dataDir>/demos/cluster-N`.
 */
export async function createDemoCluster(dataDir: string, folder?: string): Promise<DemoCluster> {
  let dir: string;
  let clusterName: string;
  if (folder) {
    dir = resolve(folder);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (await exists(join(dir, 'cluster.yaml'))) {
      throw new AppError('path-refused', `${dir} already holds a cluster.yaml; not overwriting it.`, { path: dir, hint: 'Pick an empty folder for the demo.' });
    }
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
  const uri = await createDemoHost(hostFile);
  const configFile = join(dir, 'cluster.yaml');
  await writeFile(configFile, demoConfigYaml(clusterName, uri), { mode: 0o600, flag: 'wx' });
  return { folder: dir, configFile, hostFile, uri, clusterName };
}
