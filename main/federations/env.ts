/**
 * What every federation operation is given — the environment (`FederationEnv`: state store, SSH policy, bounds) and
 * the workspace (`FederationWorkspace`: folder, config, state file) — and the helpers they share: building a Machine
 * for a participant or a recorded machine, reading the config leniently, taking the state lock cancellably.
 *
 * Plain data in, no registry, no runner: the handler table (main/ipc/table.ts), the CLI and the tests all call the domain
 * functions with these two objects and an `OpContext`.
 */
import { resolve } from 'node:path';
import type { ErrorData, FederationStatus, TargetOutcome } from '../../preload/contract';
import { AppError } from '../errors';
import type { OpContext } from '../operations/types';
import type { FederationState, MachineRecord, StateStore, StateTarget, StateTx } from '../state';
import { loadFederationConfig, type FederationConfig } from './config/federation-config';
import { DEFAULT_CONCURRENCY } from '../util';
import { createMachine, DEFAULT_CONNECT_TIMEOUT_MS, resolveSsh, type Machine, type MachineTarget } from './machines/index';
import type { RecordOrigin } from './paths';
import { workspaceKnownHostsPath } from './paths';

/** How operations reach machines and the state (nothing here is persisted; no secrets: key files and the agent only). */
export interface FederationEnv {
  readonly store: StateStore;
  /** Machines handled at once (default 8). */
  readonly parallelism?: number;
  /** Bound for connect + handshake + auth, and for each machine's whole stop (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** `--accept-new`: trust and record a host key seen for the first time (a changed key is always refused). */
  readonly acceptNewHostKeys?: boolean;
  /** known_hosts files read besides the workspace's own (default: OpenSSH's user and system files). */
  readonly knownHostsFiles?: readonly string[];
  /** ssh config file (default ~/.ssh/config; null: none). */
  readonly sshConfigPath?: string | null;
  /** Home folder for `~` and default key locations (default os.homedir()). */
  readonly homeDir?: string;
  /** ssh-agent socket (default SSH_AUTH_SOCK; null: no agent). */
  readonly agentSocket?: string | null;
  /** nvflare executable for provisioning (default: looked up on PATH; null: never provision). */
  readonly nvflare?: string | null;
  /** Temp root on every machine (default /tmp). */
  readonly tempRoot?: string;
  /** Bound for remote commands other than stop (mktemp, launch, rm, tail; default 30 s). Uploads are unbounded but cancellable. */
  readonly commandTimeoutMs?: number;
  /** How long clean waits for a signalled participant to end before it keeps its folder (default 15 s). */
  readonly stopGraceMs?: number;
}

/** One federation workspace, described explicitly (the CLI builds this from a folder; the app from its registry). */
export interface FederationWorkspace {
  /** The project folder holding refedez.yaml. */
  readonly folder: string;
  /** refedez.yaml. */
  readonly configFile: string;
  /** The state file (`<refedez.folder>/state.json`). */
  readonly statePath: string;
  /** The lineage the caller has seen; a state file with another one is `state-foreign`. */
  readonly lineage?: string;
  /** The workspace's own known_hosts (default `<folder>/.clusterdesk/known_hosts`). */
  readonly knownHostsFile?: string;
}

/** What a mutating operation ends with. */
export interface FederationResult {
  readonly outcomes: readonly TargetOutcome[];
  /** The recorded status when the operation ended. */
  readonly status: FederationStatus;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_GRACE_MS = 15_000;

export const settingsOf = (env: FederationEnv) => ({
  parallelism: Math.max(1, Math.floor(env.parallelism ?? DEFAULT_CONCURRENCY)),
  connectTimeoutMs: Math.max(1, env.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
  commandTimeoutMs: Math.max(1, env.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS),
  tempRoot: env.tempRoot ?? '/tmp',
  stopGraceMs: Math.max(0, env.stopGraceMs ?? DEFAULT_STOP_GRACE_MS),
});

export function knownHostsOf(ws: FederationWorkspace): string {
  return ws.knownHostsFile ?? workspaceKnownHostsPath(ws.folder);
}

export function stateTargetOf(ws: FederationWorkspace): StateTarget<'federation'> {
  return { kind: 'federation', file: resolve(ws.statePath), ...(ws.lineage ? { lineage: ws.lineage } : {}) };
}

/** Builds the Machine for a target with the workspace's host-key policy. */
export function machineFor(env: FederationEnv, ws: FederationWorkspace, target: MachineTarget, extra: { trustFingerprint?: string } = {}): Machine {
  const s = settingsOf(env);
  return createMachine(target, {
    workspaceKnownHosts: knownHostsOf(ws),
    connectTimeoutMs: s.connectTimeoutMs,
    tempRoot: s.tempRoot,
    ...(env.knownHostsFiles ? { knownHostsFiles: env.knownHostsFiles } : {}),
    ...(env.homeDir ? { homeDir: env.homeDir } : {}),
    ...(env.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
    ...(env.agentSocket !== undefined ? { agentSocket: env.agentSocket } : {}),
    ...(extra.trustFingerprint ? { trustFingerprint: extra.trustFingerprint } : {}),
  });
}

/** refedez.yaml → FederationConfig (throws `config-invalid` / `config`-level errors). */
export function loadConfig(env: FederationEnv, ws: FederationWorkspace): Promise<FederationConfig> {
  return loadFederationConfig(ws.configFile, {
    ...(env.sshConfigPath !== undefined ? { sshConfigPath: env.sshConfigPath } : {}),
    ...(env.homeDir ? { homeDir: env.homeDir } : {}),
  });
}

/**
 * The config when it loads, else null: stop, clean, probe and logs work from the recorded machines alone, so a
 * broken or missing refedez.yaml (or an adopted ReFedEz state) never strands running machines.
 */
export async function loadConfigLenient(env: FederationEnv, ws: FederationWorkspace, ctx: OpContext): Promise<FederationConfig | null> {
  try {
    return await loadConfig(env, ws);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.progress({ target: '', step: 'config', message: `refedez.yaml not used (${message}); connecting with the recorded settings.`, level: 'warn' });
    return null;
  }
}

/**
 * How to reach a recorded machine: at the recorded host and port, as the recorded user; the key files come from the
 * config's machine of the same name when there is one, else from ~/.ssh/config and the defaults (and the agent).
 */
export async function targetOfRecord(env: FederationEnv, ws: FederationWorkspace, rec: MachineRecord, config: FederationConfig | null): Promise<MachineTarget> {
  if (rec.kind === 'local') return { kind: 'local' };
  const cfg = config?.machines.find((m) => m.name === rec.name)?.target;
  const port = rec.port > 0 ? rec.port : 22;
  if (cfg?.kind === 'remote') {
    const same = cfg.ssh.host === rec.host && cfg.ssh.port === port;
    return {
      kind: 'remote',
      ssh: { ...cfg.ssh, host: rec.host, port, user: rec.user || cfg.ssh.user, ...(same ? {} : { alias: rec.host, hostKeyAlias: rec.host }) },
    };
  }
  const ssh = await resolveSsh(
    { host: rec.host, port, ...(rec.user ? { user: rec.user } : {}) },
    {
      baseDir: ws.folder,
      ...(env.sshConfigPath !== undefined ? { sshConfigPath: env.sshConfigPath } : {}),
      ...(env.homeDir ? { homeDir: env.homeDir } : {}),
    },
  );
  // Connect where the kit was deployed, even if ~/.ssh/config now maps the name elsewhere.
  return { kind: 'remote', ssh: { ...ssh, host: rec.host, port } };
}

/** The recorded machines of a state (none for clean). */
export function machinesOf(state: FederationState | null): MachineRecord[] {
  if (!state || state.type === 'clean') return [];
  const list = (state.data as { machines?: unknown }).machines;
  return Array.isArray(list) ? (list as MachineRecord[]) : [];
}

/**
 * Where a machine record came from. Records converted from a ReFedEz-written file (read now, or marked when we
 * rewrote such a file) may carry ReFedEz's temp-folder names; records we wrote carry ours only.
 */
export function originOf(rec: MachineRecord, fileFormat: string | null): RecordOrigin {
  const r = rec as MachineRecord & { origin?: unknown; refedez_closure?: unknown };
  return fileFormat === 'refedez' || r.origin === 'refedez' || r.refedez_closure !== undefined ? 'refedez' : 'clusterdesk';
}

/** Marks records adopted from a ReFedEz file before we rewrite it in our format (so clean still knows their origin). */
export function markOrigin(records: readonly MachineRecord[], fileFormat: string | null): MachineRecord[] {
  return records.map((r) => (fileFormat === 'refedez' ? { ...r, origin: 'refedez' } : r));
}

/**
 * Runs `fn` holding the state lock. Waiting for the lock is cancellable; once held, the transaction is not tied to
 * the operation's signal, so a cancelled operation can still record what it did (a launched machine, a removed
 * folder) before it ends.
 */
export async function withStateLock<T>(
  env: FederationEnv,
  ws: FederationWorkspace,
  operation: string,
  ctx: OpContext,
  fn: (tx: StateTx<'federation'>) => Promise<T>,
): Promise<T> {
  return env.store.transaction(stateTargetOf(ws), operation, fn, { waitSignal: ctx.signal });
}

export function wrongStatus(path: string, message: string, hint: string): AppError {
  return new AppError('state-wrong-status', message, { path, hint });
}

/** A per-machine failure as an outcome. */
export function failed(target: string, result: string, error: ErrorData): TargetOutcome {
  return { target, result, message: error.message, error };
}

/** Host-key problems are trust decisions, not outages: they stop start and clean before anything is changed. */
export function isHostKeyError(error: ErrorData): boolean {
  return error.code === 'ssh-hostkey-unknown' || error.code === 'ssh-hostkey-changed';
}

/** Closes every machine, ignoring errors (a dead peer must not hold up the end of an operation). */
export async function closeAll(machines: Iterable<Machine>): Promise<void> {
  await Promise.all([...machines].map((m) => m.close().catch(() => undefined)));
}
