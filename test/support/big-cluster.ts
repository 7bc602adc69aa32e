/**
 * Big demo clusters for the UI bench and the big-cluster E2E: a demo cluster started through the app (controller + 3
 * computes on libvirt's test driver) is grown to `vms` VMs by cloning its own records — compute-01's domain XML,
 * volume and state entry — into the host file and the state file, so every field is one the app itself wrote.
 * Starting 10,000 VMs through the app would take far longer than the measurement.
 *
 * Every `driftEvery`-th compute node is SHUTOFF on the host while the state records it RUNNING, so a Refresh reports
 * drift on those rows.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BigClusterOptions {
  /** Total VMs (controller included). */
  readonly vms: number;
  /** Every n-th compute node drifts (SHUTOFF on the host, RUNNING in the state); 0 for none. Default 10. */
  readonly driftEvery?: number;
}

export interface BigCluster {
  readonly clusterName: string;
  /** Compute node names, in state order. */
  readonly computeNames: readonly string[];
  /** Names of the nodes that drift. */
  readonly drifting: readonly string[];
}

interface StateVm {
  name: string;
  mac?: string;
  volumes: string[];
  ip_address: string | null;
  ip_verified?: boolean;
  [k: string]: unknown;
}

interface StateVolume {
  name: string;
  path: string;
  [k: string]: unknown;
}

const SHUTOFF = 5;
const RUNNING = 1;

function macOf(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:01:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
}

/** The `<tag>` element of the host file whose `<name>` is `name` (with its leading indentation). */
function element(xml: string, tag: string, name: string): { start: number; end: number; text: string } {
  const re = new RegExp(` *<${tag}\\b[^>]*>\\s*<name>${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</name>[\\s\\S]*?</${tag}>\\n?`);
  const m = re.exec(xml);
  if (!m) throw new Error(`no <${tag}> named ${name} in the host file`);
  return { start: m.index, end: m.index + m[0].length, text: m[0] };
}

function removeElement(xml: string, tag: string, name: string): string {
  const e = element(xml, tag, name);
  return xml.slice(0, e.start) + xml.slice(e.end);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.grow.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

/** Grows the started demo cluster in `folder` (cluster.yaml, host.xml, output/state.json) to `opts.vms` VMs. */
export async function growDemoCluster(folder: string, opts: BigClusterOptions): Promise<BigCluster> {
  const stateFile = join(folder, 'output', 'state.json');
  const hostFile = join(folder, 'host.xml');
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
    cluster_name: string;
    vms: StateVm[];
    volumes: StateVolume[];
    serial: number;
    [k: string]: unknown;
  };
  let xml = await readFile(hostFile, 'utf8');
  const cluster = state.cluster_name;
  const template = `${cluster}-compute-01`;
  const oldComputes = state.vms.filter((v) => v.name.startsWith(`${cluster}-compute-`)).map((v) => v.name);
  const vmTemplate = state.vms.find((v) => v.name === template);
  const volTemplate = state.volumes.find((v) => v.name === `${template}.qcow2`);
  if (!vmTemplate || !volTemplate) throw new Error(`${stateFile} has no ${template} to clone: start the demo cluster first`);
  const domainTemplate = element(xml, 'domain', template).text;
  const volumeTemplate = element(xml, 'volume', `${template}.qcow2`).text;
  const templateMac = vmTemplate.mac ?? /<mac address="([^"]+)"/.exec(domainTemplate)?.[1] ?? '';
  for (const name of oldComputes) {
    xml = removeElement(xml, 'domain', name);
    xml = removeElement(xml, 'volume', `${name}.qcow2`);
  }

  const driftEvery = opts.driftEvery ?? 10;
  const count = Math.max(0, opts.vms - 1);
  const width = Math.max(2, String(count).length);
  const computeNames: string[] = [];
  const drifting: string[] = [];
  const domains: string[] = [];
  const volumes: string[] = [];
  const vms: StateVm[] = state.vms.filter((v) => !oldComputes.includes(v.name));
  const stateVolumes: StateVolume[] = state.volumes.filter((v) => !oldComputes.some((n) => v.name === `${n}.qcow2`));
  for (let i = 1; i <= count; i++) {
    const name = `${cluster}-compute-${String(i).padStart(width, '0')}`;
    const mac = macOf(i);
    const drifts = driftEvery > 0 && i % driftEvery === 0;
    computeNames.push(name);
    if (drifts) drifting.push(name);
    domains.push(
      domainTemplate
        .split(template)
        .join(name)
        .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`)
        .split(templateMac)
        .join(mac)
        .replace(/(<test:runstate[^>]*>)\d+(<\/test:runstate>)/, `$1${drifts ? SHUTOFF : RUNNING}$2`),
    );
    volumes.push(volumeTemplate.split(template).join(name));
    vms.push({
      ...vmTemplate,
      name,
      mac,
      state: 'RUNNING',
      ip_address: null,
      ip_verified: false,
      volumes: vmTemplate.volumes.map((p) => p.split(template).join(name)),
    });
    stateVolumes.push({ ...volTemplate, name: `${name}.qcow2`, path: volTemplate.path.split(template).join(name) });
  }
  // Domains go before the first remaining element after the domains (the network); volumes at the end of the pool.
  const netAt = xml.search(/ *<network>/);
  if (netAt < 0) throw new Error(`no <network> in ${hostFile}`);
  xml = xml.slice(0, netAt) + domains.join('') + xml.slice(netAt);
  // The host file's indentation is libvirt's and the saver's business: find `</pool>` and keep its own indentation.
  const poolEnd = /[ ]*<\/pool>(?![\s\S]*<\/pool>)/.exec(xml)?.index ?? -1;
  if (poolEnd < 0) throw new Error(`no </pool> in ${hostFile}`);
  xml = xml.slice(0, poolEnd) + volumes.join('') + xml.slice(poolEnd);
  await writeAtomic(hostFile, xml);

  const next = { ...state, vms, volumes: stateVolumes, serial: state.serial + 1, last_modified: new Date().toISOString().replace('Z', '+00:00') };
  await writeAtomic(stateFile, `${JSON.stringify(next, null, 2)}\n`);
  return { clusterName: cluster, computeNames, drifting };
}
