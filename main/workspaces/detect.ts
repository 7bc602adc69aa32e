import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { WorkspaceKind } from '../../preload/contract';
import { AppError } from '../errors';
import { readYamlAnyThread } from '../workers/off-thread';
import { clusterStatePath, federationStatePath } from '../state/locations';
import { backendOfConfigBlock, type BackendSpec } from '../state/backends/backend-config';

/** What a path turned out to be. */
export interface DetectedWorkspace {
  readonly kind: WorkspaceKind;
  readonly name: string;
  /** The folder (federation) or the cluster.yaml file (cluster). */
  readonly path: string;
  /** The config file: refedez.yaml or cluster.yaml. */
  readonly configFile: string;
  readonly statePath: string;
  /** `clusterdesk.backend` of the config: a PostgreSQL backend holds the state instead of `statePath`. */
  readonly backend?: BackendSpec;
}

const CLUSTER_FILE = 'cluster.yaml';
const FEDERATION_FILE = 'refedez.yaml';

/**
 * Detects a workspace: a folder holding `refedez.yaml` is a federation; a folder holding an AI-HOW `cluster.yaml`
 * (or such a file itself) is a cluster. Anything else is `workspace-unknown`, naming what was looked for.
 */
export async function detectWorkspace(input: string, opts: { statePath?: string } = {}): Promise<DetectedWorkspace> {
  const path = resolve(input);
  const info = await stat(path).catch(() => null);
  if (!info) {
    throw new AppError('workspace-not-found', `${path} does not exist.`, { path, hint: 'Check the path and try again.' });
  }
  if (info.isFile()) {
    const name = basename(path);
    if (name === FEDERATION_FILE) return detectFederation(dirname(path));
    const cluster = await readClusterConfig(path);
    if (cluster) return clusterWorkspace(path, cluster, opts.statePath);
    throw unknown(path, `${path} is neither a ${FEDERATION_FILE} nor an AI-HOW cluster config (a YAML file with clusters.hpc).`);
  }
  if (!info.isDirectory()) throw unknown(path, `${path} is not a file or folder.`);
  if (await isFile(join(path, FEDERATION_FILE))) return detectFederation(path);
  const clusterFile = join(path, CLUSTER_FILE);
  if (await isFile(clusterFile)) {
    const cluster = await readClusterConfig(clusterFile);
    if (cluster) return clusterWorkspace(clusterFile, cluster, opts.statePath);
    throw unknown(path, `${clusterFile} exists but is not an AI-HOW cluster config (it has no clusters.hpc section).`);
  }
  throw unknown(path, `${path} holds neither ${FEDERATION_FILE} (a federation) nor ${CLUSTER_FILE} (an AI-HOW cluster).`);
}

function unknown(path: string, message: string): AppError {
  return new AppError('workspace-unknown', message, {
    path,
    hint: `Add a folder containing ${FEDERATION_FILE} (federation) or an AI-HOW ${CLUSTER_FILE} (cluster), or the ${CLUSTER_FILE} file itself.`,
  });
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/**
 * Parses YAML within the size, depth, item and alias limits (main/files/yaml-limits.ts), in the config worker when
 * the file is large; every problem is `config-invalid` with the line.
 */
export async function readYaml(file: string): Promise<unknown> {
  return readYamlAnyThread(file);
}

interface ClusterHead {
  readonly name: string;
  readonly backend: BackendSpec | null;
}

async function readClusterConfig(file: string): Promise<ClusterHead | null> {
  const data = await readYaml(file);
  const hpc = (data as { clusters?: { hpc?: { name?: unknown } } } | null)?.clusters?.hpc;
  if (!hpc || typeof hpc !== 'object') return null;
  const name = typeof hpc.name === 'string' && hpc.name ? hpc.name : basename(dirname(file));
  return { name, backend: backendOfConfigBlock((data as { clusterdesk?: unknown }).clusterdesk, name, file) };
}

function clusterWorkspace(configFile: string, head: ClusterHead, statePath: string | undefined): DetectedWorkspace {
  return {
    kind: 'cluster',
    name: head.name,
    path: configFile,
    configFile,
    statePath: clusterStatePath(configFile, statePath ? { explicit: resolve(statePath) } : {}),
    ...(head.backend ? { backend: head.backend } : {}),
  };
}

async function detectFederation(folder: string): Promise<DetectedWorkspace> {
  const configFile = join(folder, FEDERATION_FILE);
  const data = (await readYaml(configFile)) as { refedez?: { folder?: unknown }; clusterdesk?: unknown } | null;
  const stateFolder = typeof data?.refedez?.folder === 'string' ? data.refedez.folder : undefined;
  const backend = backendOfConfigBlock(data?.clusterdesk, basename(folder), configFile);
  return {
    kind: 'federation',
    name: basename(folder),
    path: folder,
    configFile,
    statePath: federationStatePath(configFile, stateFolder),
    ...(backend ? { backend } : {}),
  };
}
