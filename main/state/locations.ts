/**
 * Where state files live. Pure functions: the caller passes the environment and the working directory in.
 */
import { dirname, isAbsolute, resolve } from 'node:path';

/** The environment variable AI-HOW reads for an alternative cluster state file. */
export const CLUSTER_STATE_ENV = 'AI_HOW_STATE_FILE';
/** ReFedEz's default state folder, relative to the folder of `refedez.yaml`. */
export const DEFAULT_FEDERATION_FOLDER = '.refedez';
/** The state file name inside a federation's state folder. */
export const FEDERATION_STATE_FILE = 'state.json';

export interface ClusterStatePathOptions {
  /** `--state PATH` from the command line or the workspace settings; wins over everything. */
  readonly explicit?: string | null;
  /** The environment to read `AI_HOW_STATE_FILE` from (pass `process.env`); ignored when absent or empty. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative explicit / environment paths (default: the process's working directory). */
  readonly cwd?: string;
}

/**
 * The cluster state file for a `cluster.yaml`: explicit path > `AI_HOW_STATE_FILE` > `<dir of cluster.yaml>/output/state.json`.
 */
export function clusterStatePath(configFile: string, opts: ClusterStatePathOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.explicit?.trim();
  if (explicit) return resolve(cwd, explicit);
  const fromEnv = opts.env?.[CLUSTER_STATE_ENV]?.trim();
  if (fromEnv) return resolve(cwd, fromEnv);
  return resolve(cwd, dirname(configFile), 'output', 'state.json');
}

/**
 * The federation state file for a `refedez.yaml`: `<refedez.folder>/state.json`, the folder taken relative to the
 * yaml's folder (absolute folders are used as they are), `./.refedez` when the yaml sets none.
 */
export function federationStatePath(refedezYamlFile: string, folderFromYaml?: string | null, cwd: string = process.cwd()): string {
  const yamlDir = resolve(cwd, dirname(refedezYamlFile));
  const folder = folderFromYaml?.trim() || DEFAULT_FEDERATION_FOLDER;
  return isAbsolute(folder) ? resolve(folder, FEDERATION_STATE_FILE) : resolve(yamlDir, folder, FEDERATION_STATE_FILE);
}

/** The sibling paths the store keeps next to a state file. */
export function siblingPaths(file: string): {
  readonly tmp: string;
  readonly backup: string;
  readonly lock: string;
  readonly history: string;
} {
  return { tmp: `${file}.tmp`, backup: `${file}.backup`, lock: `${file}.lock`, history: `${file}.history` };
}
