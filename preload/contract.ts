/**
 * The typed IPC contract shared by main, preload and renderer.
 *
 * Written once: main registers one handler per `InvokeMap` channel, the renderer calls them through a bridge (Electron
 * IPC or WebSocket) and listens to `EventMap` events. Every module imports this file for types only, except for the
 * channel list and error-code list, which are plain data so the transports can validate names at run time.
 */

/** The closed set of error codes that cross the IPC boundary. */
export const ERROR_CODES = [
  'invalid-argument',
  'internal',
  'not-found',
  'busy',
  'cancelled',
  'unsupported',
  'confirmation-required',
  'workspace-unknown',
  'workspace-not-found',
  'config-invalid',
  'state-corrupt',
  'state-foreign',
  'state-stale',
  'state-mismatch',
  'state-locked',
  'state-permission',
  'state-io',
  'state-wrong-status',
  'libvirt-unavailable',
  'libvirt-conn',
  'libvirt-error',
  'libvirt-conflict',
  'ssh-hostkey-unknown',
  'ssh-hostkey-changed',
  'ssh-unreachable',
  'ssh-auth',
  'ssh-timeout',
  'ssh-command',
  'path-refused',
  'provision-failed',
  'bundle-invalid',
  'backend-unreachable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error as data: a thrown Error loses everything but its message across IPC, so handlers return this. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  /** What the user can do about it, one sentence. */
  readonly hint?: string;
  /** The file the error is about. */
  readonly path?: string;
  /** The machine / host the error is about. */
  readonly host?: string;
  /** 1-based line in `path`, for config and state errors. */
  readonly line?: number;
  /** The field path (e.g. `clusters.hpc.controller.ip_address`). */
  readonly field?: string;
  /** Code-specific extras (e.g. a host-key fingerprint, a lock holder). JSON only. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

// ---------------------------------------------------------------------------------------------------------------
// Data shapes

export type WorkspaceKind = 'cluster' | 'federation';
export type FederationStatus = 'clean' | 'running' | 'dirty';
export type ClusterStatus = 'running' | 'stopped' | 'error' | 'partial' | 'none';
export type RecordedStatus = FederationStatus | ClusterStatus;

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  readonly host: 'electron' | 'serve';
  readonly platform: string;
  readonly dataDir: string;
  readonly nodeVersion: string;
}

/** The settings a user can change (persisted in the data dir's config.json; shared with the CLI). */
export interface AppSettings {
  /** State generations kept in each state file's history folder. */
  readonly historyLimit: number;
  /** Graceful shutdown timeout of a cluster stop, seconds, before VMs are forced off. */
  readonly stopTimeoutSec: number;
  /** How long a writer waits for another's state lock before `state-locked`, ms. */
  readonly lockTimeoutMs: number;
  /** VMs / machines handled at once. */
  readonly parallelism: number;
  /** SSH connect timeout, ms. */
  readonly sshConnectTimeoutMs: number;
}

export interface WorkspaceEntry {
  readonly id: string;
  readonly kind: WorkspaceKind;
  readonly name: string;
  /** The folder (federation) or config file (cluster) the workspace was added from. */
  readonly path: string;
  /** Absolute path of the state file. */
  readonly statePath: string;
  readonly addedAt: string;
  /** The lineage this workspace has seen; a state file with another lineage is `state-foreign`. */
  readonly lineage?: string;
  /** libvirt connection URI for clusters. */
  readonly libvirtUri?: string;
}

export interface LockHolder {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly operation: string;
  readonly since: string;
  readonly stale: boolean;
}

export interface VmView {
  readonly name: string;
  readonly role: 'controller' | 'compute' | 'other';
  readonly state: string;
  readonly ipAddress: string | null;
  /** False when the IP is the configured one and libvirt could not confirm it (no lease, no agent). */
  readonly ipVerified: boolean;
  readonly cpuCores: number;
  readonly memoryGb: number;
  readonly gpuCount: number;
  readonly lastSeen: string | null;
  readonly drift?: string;
}

export interface ClusterDetail {
  readonly clusterName: string;
  readonly vms: readonly VmView[];
  readonly networks: readonly { name: string; subnet: string; bridge: string; activeIps: readonly string[] }[];
  readonly volumes: readonly { name: string; path: string; sizeGb: number; format: string }[];
  /** Storage pools Clusterdesk created for the cluster (destroy removes them). */
  readonly pools: readonly { name: string; path: string }[];
}

export interface MachineView {
  readonly name: string;
  readonly kind: 'local' | 'remote';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly tmpDir: string;
  readonly startedAt: string | null;
  readonly pid: number | null;
}

export interface FederationDetail {
  readonly deployedFilesPath: string | null;
  readonly machines: readonly MachineView[];
}

export interface WorkspaceSnapshot {
  readonly id: string;
  readonly kind: WorkspaceKind;
  readonly name: string;
  readonly path: string;
  readonly statePath: string;
  /** The recorded status; null when the state could not be read (see `error`). */
  readonly status: RecordedStatus | null;
  readonly serial: number | null;
  readonly lineage: string | null;
  readonly lastModified: string | null;
  readonly lock: LockHolder | null;
  /** Why the state could not be read (state-corrupt, state-mismatch, state-foreign, ...). */
  readonly error: ErrorData | null;
  readonly cluster?: ClusterDetail;
  readonly federation?: FederationDetail;
  /** The operation running on this workspace, if any. */
  readonly operation: { readonly opId: string; readonly name: string; readonly since: string } | null;
}

export interface BackupEntry {
  /** Opaque id accepted by `state:restore`. */
  readonly id: string;
  readonly source: 'history' | 'backup';
  readonly file: string;
  readonly valid: boolean;
  readonly error?: string;
  readonly serial: number | null;
  readonly lineage: string | null;
  readonly savedAt: string | null;
  readonly status: string | null;
  /** VMs (cluster) or machines (federation). */
  readonly count: number | null;
}

/** One step of a long operation; `value` is 0..1 for the target, or null when unknown. */
export interface ProgressEvent {
  readonly opId: string;
  readonly workspaceId: string;
  readonly operation: string;
  /** What this step is about (a VM, a machine, a network), or '' for the whole operation. */
  readonly target: string;
  readonly step: string;
  readonly value: number | null;
  readonly message: string;
  readonly level: 'info' | 'warn' | 'error';
}

export interface OperationFinished {
  readonly opId: string;
  readonly workspaceId: string;
  readonly operation: string;
  readonly ok: boolean;
  readonly error?: ErrorData;
}

/** Per-target outcome of an operation (a VM stop, a machine signal). */
export interface TargetOutcome {
  readonly target: string;
  readonly result: string;
  readonly message?: string;
  readonly error?: ErrorData;
}

export interface OperationReport {
  readonly opId: string;
  readonly outcomes: readonly TargetOutcome[];
  readonly snapshot: WorkspaceSnapshot;
}

export type VmAction = 'start' | 'shutdown' | 'force-off' | 'pause' | 'resume' | 'reboot';

/** One difference between the recorded state and reality. */
export interface DriftItem {
  readonly kind: 'missing' | 'unrecorded' | 'state-differs' | 'ip-differs';
  readonly resource: 'vm' | 'network' | 'volume' | 'pool' | 'machine';
  readonly name: string;
  readonly recorded: string | null;
  readonly actual: string | null;
}

export interface RefreshReport {
  readonly drift: readonly DriftItem[];
  readonly applied: boolean;
  readonly snapshot: WorkspaceSnapshot;
}

export interface ValidationReport {
  readonly valid: boolean;
  readonly errors: readonly ErrorData[];
  /** What start would create, for the UI's plan view. */
  readonly plan: readonly { readonly resource: 'vm' | 'network' | 'pool' | 'volume'; readonly name: string }[];
}

export interface MachineProbe {
  readonly machine: string;
  readonly reachable: boolean;
  readonly processAlive: boolean | null;
  readonly shutdownRequested: boolean | null;
  readonly lastLogLine: string | null;
  readonly error?: ErrorData;
}

export interface MachineLog {
  readonly machine: string;
  readonly lines: readonly string[];
  readonly error?: ErrorData;
}

export interface ExportedBundle {
  /** Suggested file name (`<workspace>.cdstate`). */
  readonly fileName: string;
  /** The bundle's JSON text. */
  readonly content: string;
  /** Where it was written, when a path was given. */
  readonly savedTo: string | null;
}

export interface ImportPreview {
  readonly verdict: 'accept' | 'needs-force' | 'needs-adopt' | 'identical';
  readonly reason: string;
  readonly current: { readonly serial: number | null; readonly lineage: string | null; readonly status: string | null };
  readonly incoming: { readonly serial: number; readonly lineage: string; readonly status: string | null };
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** One resource an adoption would take over (or could not match, and leaves alone). */
export interface AdoptionItem {
  readonly kind: 'vm' | 'volume' | 'network' | 'pool' | 'machine';
  readonly name: string;
  /** What it is (a path, a host and folder, a UUID). */
  readonly detail: string;
  /** True: taken over (evidence matched); false: left alone and never operated on. */
  readonly matched: boolean;
  /** Why it was not matched, or what the evidence was. */
  readonly reason: string;
}

/** What `state:adopt` would do to a state file written by ReFedEz or AI-HOW (nothing is changed by the preview). */
export interface AdoptionPreview {
  readonly file: string;
  /** `refedez`, `ai-how-implementation`, or `clusterdesk` when there is nothing to adopt. */
  readonly format: string;
  /** False when the file is already ours (or missing): then `message` says so and adopt refuses. */
  readonly needed: boolean;
  readonly message: string;
  readonly status: string | null;
  readonly items: readonly AdoptionItem[];
  /** Secrets the adopted state and its history will not keep (field paths). */
  readonly secretsDropped: readonly string[];
  /** Fields the original wrote that are kept as they are (beyond the documented ones). */
  readonly keptFields: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Channels

export interface WorkspaceRef {
  readonly workspaceId: string;
}

/** Channel → (argument) => result. The result is wrapped in `Result<>` on the wire. */
export interface InvokeMap {
  'app:info': (arg: Record<string, never>) => AppInfo;
  'settings:get': (arg: Record<string, never>) => AppSettings;
  /** Changes some settings; they apply to the next operation. Answers all of them. */
  'settings:set': (arg: Partial<AppSettings>) => AppSettings;
  'workspaces:list': (arg: Record<string, never>) => readonly WorkspaceEntry[];
  'workspaces:add': (arg: { path: string; statePath?: string }) => WorkspaceEntry;
  'workspaces:remove': (arg: WorkspaceRef) => { removed: boolean };
  'workspace:snapshot': (arg: WorkspaceRef) => WorkspaceSnapshot;
  'state:backups': (arg: WorkspaceRef) => readonly BackupEntry[];
  'state:restore': (arg: WorkspaceRef & { backupId: string; adopt?: boolean }) => WorkspaceSnapshot;
  'state:unlock': (arg: WorkspaceRef & { lockId: string }) => WorkspaceSnapshot;
  'operation:cancel': (arg: { opId: string }) => { cancelled: boolean };
  /** Accept the lineage now in the state file as this workspace's (after `state-foreign`: the file was replaced knowingly). */
  'workspace:adopt-lineage': (arg: WorkspaceRef) => WorkspaceSnapshot;

  'cluster:validate': (arg: WorkspaceRef) => ValidationReport;
  'cluster:start': (arg: WorkspaceRef) => OperationReport;
  'cluster:stop': (arg: WorkspaceRef & { timeoutSec?: number }) => OperationReport;
  /** `confirm` must equal the cluster name. */
  'cluster:destroy': (arg: WorkspaceRef & { confirm: string }) => OperationReport;
  'cluster:refresh': (arg: WorkspaceRef & { apply?: boolean }) => RefreshReport;
  'cluster:vm-action': (arg: WorkspaceRef & { vm: string; action: VmAction }) => OperationReport;
  /** Creates a demo cluster workspace on libvirt's test driver under the data dir (or `folder`). */
  'cluster:create-demo': (arg: { folder?: string }) => WorkspaceEntry;

  'federation:start': (arg: WorkspaceRef) => OperationReport;
  'federation:status': (arg: WorkspaceRef) => WorkspaceSnapshot;
  'federation:probe': (arg: WorkspaceRef) => readonly MachineProbe[];
  'federation:stop': (arg: WorkspaceRef) => OperationReport;
  'federation:clean': (arg: WorkspaceRef & { force?: boolean }) => OperationReport;
  'federation:logs': (arg: WorkspaceRef & { lines?: number }) => readonly MachineLog[];
  /** Trust a host key reported by `ssh-hostkey-unknown` (fingerprint must match what the host presents). */
  'federation:trust-host': (arg: WorkspaceRef & { host: string; port: number; fingerprint: string }) => { trusted: boolean };
  /** Creates a demo federation workspace (local machines, the example kits) under the data dir (or `folder`). */
  'federation:create-demo': (arg: { folder?: string }) => WorkspaceEntry;

  'state:export': (arg: WorkspaceRef & { file?: string; redactHome?: boolean }) => ExportedBundle;
  'state:import-preview': (arg: WorkspaceRef & { content: string }) => ImportPreview;
  'state:import': (arg: WorkspaceRef & { content: string; force?: boolean; adopt?: boolean }) => WorkspaceSnapshot;
  /** What adopting the workspace's ReFedEz / AI-HOW state file would take over (read-only). */
  'state:adopt-preview': (arg: WorkspaceRef) => AdoptionPreview;
  /** Adopts it: lineage and serial assigned, evidence recorded, the original kept in history redacted. */
  'state:adopt': (arg: WorkspaceRef) => WorkspaceSnapshot;
}

export type Channel = keyof InvokeMap;
export type InvokeArg<C extends Channel> = Parameters<InvokeMap[C]>[0];
export type InvokeResult<C extends Channel> = ReturnType<InvokeMap[C]>;

export const CHANNELS = [
  'app:info',
  'settings:get',
  'settings:set',
  'workspaces:list',
  'workspaces:add',
  'workspaces:remove',
  'workspace:snapshot',
  'state:backups',
  'state:restore',
  'state:unlock',
  'operation:cancel',
  'workspace:adopt-lineage',
  'cluster:validate',
  'cluster:start',
  'cluster:stop',
  'cluster:destroy',
  'cluster:refresh',
  'cluster:vm-action',
  'cluster:create-demo',
  'federation:start',
  'federation:status',
  'federation:probe',
  'federation:stop',
  'federation:clean',
  'federation:logs',
  'federation:trust-host',
  'federation:create-demo',
  'state:export',
  'state:import-preview',
  'state:import',
  'state:adopt-preview',
  'state:adopt',
] as const satisfies readonly Channel[];

/** A `.cdstate` file opened from the OS (file association, second instance): the renderer starts its import. */
export interface BundleOpened {
  readonly fileName: string;
  readonly content: string;
  /** The registered workspace of the same kind and name, or null (then `message` says what to do). */
  readonly workspaceId: string | null;
  readonly message: string;
}

/** Event → payload, pushed from main to every window. */
export interface EventMap {
  'bundle:opened': BundleOpened;
  'workspace:changed': WorkspaceSnapshot;
  'workspaces:changed': readonly WorkspaceEntry[];
  'operation:progress': ProgressEvent;
  'operation:finished': OperationFinished;
}

export type EventName = keyof EventMap;

export const EVENTS = [
  'bundle:opened',
  'workspace:changed',
  'workspaces:changed',
  'operation:progress',
  'operation:finished',
] as const satisfies readonly EventName[];

/** The API the renderer sees (on `window.clusterdesk` in Electron, a WebSocket client in a browser). */
export interface ClusterdeskApi {
  readonly transport: 'electron' | 'websocket';
  invoke<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<Result<InvokeResult<C>>>;
  /** Subscribe to an event; abort the signal to unsubscribe. */
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void, signal?: AbortSignal): void;
  /** Electron only: the native folder / file pickers. Absent in a browser. */
  readonly dialogs?: {
    openFolder(): Promise<string | null>;
    openFile(filters?: { name: string; extensions: string[] }[]): Promise<string | null>;
  };
}

/** Exhaustiveness check for switches over unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
