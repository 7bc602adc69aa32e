/** Messages between `off-thread.ts` and `config-worker.ts` (structured-cloneable data only). */
import type { ErrorData } from '../../preload/contract';
import type { StateTarget } from '../state/store';

/** A cluster config load: the workspace fields `loadConfig` reads, and the environment for the libvirt URI. */
export interface LoadClusterConfigTask {
  readonly kind: 'load-cluster-config';
  readonly ws: { readonly configFile: string; readonly statePath: string; readonly lineage?: string; readonly libvirtUri?: string };
  readonly processEnv: Readonly<Record<string, string | undefined>>;
}

/** A YAML file's plain value (workspace detection reads only a name or a folder from it). */
export interface ReadYamlTask {
  readonly kind: 'read-yaml';
  readonly file: string;
}

/** A state file read, parsed, validated and redacted (`StateStore.loadWithFormat`): a snapshot of a big state. */
export interface LoadStateTask {
  readonly kind: 'load-state';
  readonly target: StateTarget;
}

export type WorkerTask = LoadClusterConfigTask | ReadYamlTask | LoadStateTask;

export interface WorkerRequest {
  readonly id: number;
  readonly task: WorkerTask;
}

export type WorkerReply =
  { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: ErrorData };
