/**
 * A cluster workspace as the domain functions see it: config file, state file, the lineage seen, the URI setting.
 * Reads the config once per operation and resolves which libvirt host it talks to.
 */
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorData, ValidationReport } from '../../preload/contract';
import { AppError } from '../errors';
import { readYamlFile } from '../files/yaml-limits';
import { OFF_THREAD_MIN_BYTES, offThreadAvailable, runOffThread } from '../workers/off-thread';
import type { StateTarget } from '../state';
import { backendOfConfigBlock } from '../state/backends/backend-config';
import { DEFAULT_GUEST, readGuestOptions, type GuestOptions } from './config/guest';
import { parseClusterConfig, toValidationReport, type ConfigResult } from './config/parse';
import type { ClusterPlan } from './config/plan';
import { resolveLibvirtUri } from './libvirt/uri';

/** What a domain function needs to know about a cluster workspace (the CLI builds this from its flags). */
export interface ClusterWorkspace {
  /** Absolute path of the cluster.yaml. */
  readonly configFile: string;
  /** Absolute path of the state file. */
  readonly statePath: string;
  /** The lineage this workspace has seen; a state file with another one is `state-foreign`. */
  readonly lineage?: string;
  /** The workspace's URI setting (`--uri`); wins over the config's `clusterdesk.libvirt_uri`. */
  readonly libvirtUri?: string;
}

/** The config as one operation uses it. */
export interface LoadedConfig {
  /** The libvirt URI: setting > `clusterdesk.libvirt_uri` in the config > `LIBVIRT_DEFAULT_URI` > `qemu:///system`. */
  readonly uri: string;
  readonly result: ConfigResult;
  /** The cluster name (from the plan, or read leniently from an invalid config), null when unknown. */
  readonly clusterName: string | null;
  /** Where the cluster's dir pool keeps its volumes. */
  readonly poolPath: string | null;
  /** `clusterdesk.network_mode`: `nat` (default) or `isolated`. */
  readonly networkMode: NetworkMode;
  /** `clusterdesk.domain_type`, `boot`, `serial_log_dir` (config/guest.ts). */
  readonly guest: GuestOptions;
}

export type NetworkMode = 'nat' | 'isolated';

/** Our extension of cluster.yaml: `clusterdesk: { libvirt_uri, pool_path, network_mode }` (AI-HOW ignores unknown top-level keys). */
interface Extension {
  readonly libvirtUri: string | null;
  readonly poolPath: string | null;
  readonly networkMode: NetworkMode;
  readonly guest: GuestOptions;
  readonly errors: readonly AppError[];
  readonly clusterName: string | null;
}

/** Reads our extension from the config's value (parsed once, within the limits, by `parseClusterConfig`). */
function readExtension(value: unknown, file: string): Extension {
  if (value === null || value === undefined || typeof value !== 'object')
    return { libvirtUri: null, poolPath: null, networkMode: 'nat', guest: DEFAULT_GUEST, errors: [], clusterName: null };
  const data = value as { clusterdesk?: unknown; clusters?: { hpc?: { name?: unknown } } } | null;
  const name = data?.clusters?.hpc?.name;
  const ext = data?.clusterdesk;
  const errors: AppError[] = [];
  const field = (key: string): string | null => {
    if (ext === undefined || ext === null || typeof ext !== 'object') return null;
    const v = (ext as Record<string, unknown>)[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.trim() === '' || v.includes('\0')) {
      errors.push(new AppError('config-invalid', `${file}: clusterdesk.${key}: expected a non-empty string`, { path: file, field: `clusterdesk.${key}` }));
      return null;
    }
    return v.trim();
  };
  const mode = field('network_mode');
  if (mode !== null && mode !== 'nat' && mode !== 'isolated') {
    errors.push(
      new AppError('config-invalid', `${file}: clusterdesk.network_mode: expected "nat" or "isolated", got ${JSON.stringify(mode)}`, {
        path: file,
        field: 'clusterdesk.network_mode',
      }),
    );
  }
  const guest = readGuestOptions(ext, file, dirname(file));
  errors.push(...guest.errors);
  try {
    backendOfConfigBlock(ext, 'cluster', file); // `clusterdesk.backend`: checked here, routed by the workspace (detect.ts)
  } catch (err) {
    if (err instanceof AppError) errors.push(err);
    else throw err;
  }
  return {
    guest: guest.guest,
    libvirtUri: field('libvirt_uri'),
    poolPath: field('pool_path'),
    networkMode: mode === 'isolated' ? 'isolated' : 'nat',
    errors,
    clusterName: typeof name === 'string' && name ? name : null,
  };
}

/**
 * Reads and validates the workspace's config. Never throws for a bad config (the result carries the errors); the
 * base image must exist only on a real host, since the test driver never reads it.
 *
 * A large file is parsed in the config worker (main/workers/off-thread.ts), so the YAML parser — ~100 KB/s on a busy
 * machine — never holds the event loop of `serve` or the desktop app; small files parse inline in milliseconds.
 */
export async function loadConfig(ws: ClusterWorkspace, processEnv: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig> {
  const size = await stat(resolve(ws.configFile)).then(
    (st) => (st.isFile() ? st.size : 0),
    () => 0,
  );
  if (size >= OFF_THREAD_MIN_BYTES && offThreadAvailable()) {
    const task = {
      configFile: ws.configFile,
      statePath: ws.statePath,
      ...(ws.lineage ? { lineage: ws.lineage } : {}),
      ...(ws.libvirtUri ? { libvirtUri: ws.libvirtUri } : {}),
    };
    return fromTransferable(await runOffThread<TransferableConfig>({ kind: 'load-cluster-config', ws: task, processEnv: { ...processEnv } }));
  }
  return loadConfigInline(ws, processEnv);
}

/** A LoadedConfig as plain data (errors as ErrorData, no raw document) to cross a thread. */
export interface TransferableConfig extends Omit<LoadedConfig, 'result'> {
  readonly result: { readonly plan: ConfigResult['plan']; readonly errors: readonly ErrorData[] };
}

export function toTransferable(config: LoadedConfig): TransferableConfig {
  return { ...config, result: { plan: config.result.plan, errors: config.result.errors.map((e) => e.toData()) } };
}

function fromTransferable(config: TransferableConfig): LoadedConfig {
  return { ...config, result: { plan: config.result.plan, errors: config.result.errors.map((e) => AppError.fromData(e)) } };
}

/** `loadConfig` on the calling thread (what the config worker runs). */
export async function loadConfigInline(ws: ClusterWorkspace, processEnv: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig> {
  const file = resolve(ws.configFile);
  let text: string;
  const unreadable = (message: string, hint: string): LoadedConfig => {
    const error = new AppError('config-invalid', message, { path: file, line: 1, hint });
    return {
      uri: resolveLibvirtUri(ws.libvirtUri, processEnv),
      result: { plan: null, errors: [error] },
      clusterName: null,
      poolPath: null,
      networkMode: 'nat',
      guest: DEFAULT_GUEST,
    };
  };
  try {
    const read = await readYamlFile(file, 'the cluster config');
    if ('problem' in read) return unreadable(`${file}: ${read.problem.message}.`, read.problem.hint);
    text = read.text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return unreadable(`Cannot read ${file} (${code}).`, 'Check that the cluster config still exists.');
  }
  const uriOf = (ext: Extension) => resolveLibvirtUri(ws.libvirtUri?.trim() || ext.libvirtUri, processEnv);
  // The image must exist only on a real host; which host is named inside the config, so decide once it is parsed.
  const parsed = await parseClusterConfig(text, { path: file, checkImage: (raw) => !uriOf(readExtension(raw, file)).startsWith('test:') });
  const ext = readExtension(parsed.raw, file);
  const uri = uriOf(ext);
  const result: ConfigResult = ext.errors.length > 0 ? { plan: null, errors: [...parsed.errors, ...ext.errors] } : parsed;
  const plan = result.plan;
  const clusterName = plan?.clusterName ?? ext.clusterName;
  let poolPath: string | null = null;
  if (ext.poolPath) poolPath = isAbsolute(ext.poolPath) ? ext.poolPath : resolve(dirname(file), ext.poolPath);
  else if (plan) poolPath = resolve(dirname(plan.baseImagePath), plan.pool.name);
  return { uri, result, clusterName, poolPath, networkMode: ext.networkMode, guest: ext.guest };
}

/** The plan of a loaded config, or `config-invalid` with every error in `details.errors`. */
export function planOf(config: LoadedConfig): ClusterPlan & { readonly poolPath: string; readonly networkMode: NetworkMode; readonly guest: GuestOptions } {
  const { plan, errors } = config.result;
  if (!plan || errors.length > 0 || !config.poolPath) {
    const first = errors[0] ?? new AppError('config-invalid', 'The cluster config is invalid.');
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new AppError('config-invalid', `${first.message}${more}`, { ...first.fields, details: { errors: errors.map((e) => e.toData()) } });
  }
  return { ...plan, poolPath: config.poolPath, networkMode: config.networkMode, guest: config.guest };
}

/** The state target of a cluster workspace. */
export function clusterTarget(ws: ClusterWorkspace, clusterName: string | null): StateTarget<'cluster'> {
  return {
    kind: 'cluster',
    file: ws.statePath,
    ...(ws.lineage ? { lineage: ws.lineage } : {}),
    ...(clusterName ? { clusterName } : {}),
  };
}

/** Validates the config without touching libvirt: the errors (file, line, field) and what start would create. */
export async function validateCluster(ws: ClusterWorkspace, processEnv: Readonly<Record<string, string | undefined>> = process.env): Promise<ValidationReport> {
  return toValidationReport((await loadConfig(ws, processEnv)).result);
}
