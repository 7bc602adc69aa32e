/**
 * The typed IPC contract shared by main, preload and renderer.
 *
 * Written once: main registers one handler per `CHANNEL_MAP` channel, the renderer calls them through a bridge
 * (Electron IPC or WebSocket) and listens to `EVENT_MAP` events. The two maps and the error-code list are plain data so
 * the transports can validate names at run time; everything else here is types.
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
  /** Periodic refresh (clusters) / probe (federations) of workspaces on this machine, minutes; 0 = off. */
  readonly autoRefreshLocalMin: number;
  /** The same for workspaces on remote hosts (qemu+ssh, SSH machines), minutes; 0 = off (the default). */
  readonly autoRefreshRemoteMin: number;
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
  /**
   * The workspace setting "state backend": a `postgres://USER@HOST:PORT/DB?schema=…&workspace=…` URL (no password)
   * holding the state instead of the local file. Wins over the config's `clusterdesk.backend`.
   */
  readonly backend?: string;
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
  /** Set when a PostgreSQL backend holds the state: where (`host:port/db?schema=s#key`, never a password) and the key. */
  readonly backend?: { readonly label: string; readonly key: string };
  /**
   * The backend could not be reached: what is shown is the last state this app read (`since`), not the current one;
   * `error` is the `backend-unreachable` naming host and port. Writes fail until it is back.
   */
  readonly stale?: { readonly error: ErrorData; readonly since: string };
  /**
   * The revision of this snapshot as main holds it (see `WorkspaceChange.seq`); a `workspace:snapshot` answer carries
   * it so the window knows which `workspace:changed` patch comes next.
   */
  readonly seq?: number;
}

/** Changes to a list of rows keyed by `name`: rows added or changed (whole), names removed, the order when it moved. */
export interface KeyedListPatch<T extends { readonly name: string }> {
  readonly set?: readonly T[];
  readonly remove?: readonly string[];
  /** Every name in its new order, only when the order is not "kept rows in place, new rows appended". */
  readonly order?: readonly string[];
}

/** What changed in a cluster's detail: per-VM and per-volume patches; the small lists whole when they changed. */
export interface ClusterDetailPatch {
  readonly clusterName?: string;
  readonly vms?: KeyedListPatch<VmView>;
  readonly volumes?: KeyedListPatch<ClusterDetail['volumes'][number]>;
  readonly networks?: ClusterDetail['networks'];
  readonly pools?: ClusterDetail['pools'];
}

/** What changed in a workspace snapshot (see preload/snapshot-patch.ts for `diffSnapshot` / `applyPatch`). */
export interface SnapshotPatch {
  /** Workspace-level fields that changed, with their new values. */
  readonly fields?: Partial<Omit<WorkspaceSnapshot, 'id' | 'cluster' | 'federation' | 'seq'>>;
  /** The cluster detail's changes (from an empty one when it appeared); null when it went away. */
  readonly cluster?: ClusterDetailPatch | null;
  /** The federation detail whole (it is small) when it changed; null when it went away. */
  readonly federation?: FederationDetail | null;
}

/**
 * `workspace:changed`: one per operation (or outside change). Windows receive only what changed — `patch`, which
 * applies to the snapshot of revision `base` — or, when main held no earlier snapshot, the whole `snapshot`. A window
 * whose snapshot is not at `base` fetches a full one (`workspace:snapshot`). Inside main the event also carries the
 * held `snapshot` (the same object, no copy) for in-process listeners such as the tray; transports drop it from a
 * patch before sending (see `wirePayload` in main/ipc/events.ts).
 */
export interface WorkspaceChange {
  readonly id: string;
  /** This change's revision: increasing for the host's lifetime and across restarts (it starts from the clock). */
  readonly seq: number;
  /** The revision `patch` applies to. */
  readonly base?: number;
  readonly patch?: SnapshotPatch;
  /** The whole snapshot after the change (always inside main; on the wire only when there is no patch). */
  readonly snapshot?: WorkspaceSnapshot;
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

/**
 * An operation ended (sent after the workspace's one `workspace:changed` of this operation). It carries the
 * per-target outcomes, so every window — not only the one that asked — can say what happened.
 */
export interface OperationFinished {
  readonly opId: string;
  readonly workspaceId: string;
  readonly operation: string;
  readonly ok: boolean;
  readonly error?: ErrorData;
  readonly outcomes: readonly TargetOutcome[];
}

/** Per-target outcome of an operation (a VM stop, a machine signal). */
export interface TargetOutcome {
  readonly target: string;
  readonly result: string;
  readonly message?: string;
  readonly error?: ErrorData;
}

/**
 * What a mutation answers: its id and per-target outcomes. Never the state: the new snapshot reaches every window
 * once, as the `workspace:changed` event published when the operation ends.
 */
export interface OperationReport {
  readonly opId: string;
  readonly outcomes: readonly TargetOutcome[];
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
  readonly opId: string;
  readonly drift: readonly DriftItem[];
  readonly applied: boolean;
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
  /** The serial the import will really write (a new generation past the history; preload/restore-plan.ts); null when nothing is written. */
  readonly writeSerial?: number | null;
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

/** The tray's overall state, shown by its icon (assets/tray-<icon>.png). */
export type TrayIcon = 'idle' | 'busy' | 'error' | 'drift';

/** What a tray item does: an invoke through the handler table (the window's button does the same call), or app glue. */
export type TrayItemAction =
  | {
      readonly kind: 'invoke';
      readonly channel: 'cluster:start' | 'cluster:stop' | 'cluster:refresh' | 'federation:start' | 'federation:stop' | 'federation:clean' | 'federation:probe';
      readonly workspaceId: string;
    }
  | { readonly kind: 'refresh-all' }
  | { readonly kind: 'open' }
  | { readonly kind: 'quit' };

/** One item of the tray menu, as data (Electron builds its native menu from it; `serve` answers it over IPC). */
export interface TrayMenuItem {
  /** Stable id, accepted by `app:tray-click`. */
  readonly id: string;
  readonly label: string;
  readonly enabled: boolean;
  /** Why a disabled action is disabled (the sentence of preload/workspace-actions.ts). */
  readonly reason?: string;
  readonly separator?: true;
  readonly action?: TrayItemAction;
  readonly submenu?: readonly TrayMenuItem[];
}

export interface TrayTemplate {
  readonly icon: TrayIcon;
  readonly tooltip: string;
  readonly items: readonly TrayMenuItem[];
}

/** What a tray click did: the channel(s) it invoked and the operation ids they answered. */
export interface TrayClickResult {
  readonly itemId: string;
  readonly invoked: readonly { readonly channel: string; readonly workspaceId: string; readonly opId: string | null }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Channels

export interface WorkspaceRef {
  readonly workspaceId: string;
}

/** One channel's argument and result types (type-only: the value is an empty marker). */
export interface ChannelSpec<A, R> {
  /** Phantom fields: never read at run time. */
  readonly _arg?: A;
  readonly _result?: R;
}

function ch<A, R>(): ChannelSpec<A, R> {
  return {};
}

/** One folder's listing for the host's folder picker (`fs:list-dirs`). */
export interface FolderListing {
  /** The folder listed (real path). */
  readonly path: string;
  /** Its parent when that is still under the root; null at the root. */
  readonly parent: string | null;
  readonly root: string;
  readonly entries: readonly { readonly name: string; readonly path: string; readonly kind: 'dir' | 'file' }[];
  /** More entries exist than were listed (the listing is bounded). */
  readonly truncated: boolean;
}

/**
 * The one map of invoke channels: channel → its argument and its result (wrapped in `Result<>` on the wire). The
 * types (`InvokeMap`, `Channel`) and the run-time list (`CHANNELS`) are both derived from it, so a channel is written
 * once; main's handler table must then cover it exactly (see main/ipc/table.ts).
 */
export const CHANNEL_MAP = {
  'app:info': ch<Record<string, never>, AppInfo>(),
  /** The tray menu as the host last built it from its events (the desktop tray shows the same; `serve` has no tray). */
  'app:tray-template': ch<Record<string, never>, TrayTemplate>(),
  /** Runs a tray item's action, the same call as the window's button; a disabled item is refused with its reason. */
  'app:tray-click': ch<{ itemId: string }, TrayClickResult>(),
  'settings:get': ch<Record<string, never>, AppSettings>(),
  /** Changes some settings; they apply to the next operation. Answers all of them. */
  'settings:set': ch<Partial<AppSettings>, AppSettings>(),
  'workspaces:list': ch<Record<string, never>, readonly WorkspaceEntry[]>(),
  'workspaces:add': ch<{ path: string; statePath?: string }, WorkspaceEntry>(),
  'workspaces:remove': ch<WorkspaceRef, { removed: boolean }>(),
  /** The workspace setting "state backend" (a postgres:// URL without password), or null for the config's / the local file. */
  'workspaces:set-backend': ch<WorkspaceRef & { backend: string | null }, WorkspaceEntry>(),
  /**
   * The host's folder picker (for `serve`, whose page cannot see the host's disk): the folders (and cluster YAML
   * files) directly inside `path`, which must lie under the browse root (the host user's home); bounded, and a
   * symlink that leads out of the root is never listed or entered.
   */
  'fs:list-dirs': ch<{ path?: string }, FolderListing>(),
  'workspace:snapshot': ch<WorkspaceRef, WorkspaceSnapshot>(),
  'state:backups': ch<WorkspaceRef, readonly BackupEntry[]>(),
  'state:restore': ch<WorkspaceRef & { backupId: string; adopt?: boolean }, OperationReport>(),
  'state:unlock': ch<WorkspaceRef & { lockId: string }, OperationReport>(),
  'operation:cancel': ch<{ opId: string }, { cancelled: boolean }>(),
  /** Accept the lineage now in the state file as this workspace's (after `state-foreign`: the file was replaced knowingly). */
  'workspace:adopt-lineage': ch<WorkspaceRef, OperationReport>(),

  'cluster:validate': ch<WorkspaceRef, ValidationReport>(),
  'cluster:start': ch<WorkspaceRef, OperationReport>(),
  'cluster:stop': ch<WorkspaceRef & { timeoutSec?: number }, OperationReport>(),
  /** `confirm` must equal the cluster name. */
  'cluster:destroy': ch<WorkspaceRef & { confirm: string }, OperationReport>(),
  'cluster:refresh': ch<WorkspaceRef & { apply?: boolean }, RefreshReport>(),
  'cluster:vm-action': ch<WorkspaceRef & { vm: string; action: VmAction }, OperationReport>(),
  /** Creates a demo cluster workspace on libvirt's test driver under the data dir (or `folder`). */
  'cluster:create-demo': ch<{ folder?: string }, WorkspaceEntry>(),

  'federation:start': ch<WorkspaceRef, OperationReport>(),
  'federation:status': ch<WorkspaceRef, WorkspaceSnapshot>(),
  'federation:probe': ch<WorkspaceRef, readonly MachineProbe[]>(),
  'federation:stop': ch<WorkspaceRef, OperationReport>(),
  'federation:clean': ch<WorkspaceRef & { force?: boolean }, OperationReport>(),
  'federation:logs': ch<WorkspaceRef & { lines?: number }, readonly MachineLog[]>(),
  /** Trust a host key reported by `ssh-hostkey-unknown` (fingerprint must match what the host presents). */
  'federation:trust-host': ch<WorkspaceRef & { host: string; port: number; fingerprint: string }, { trusted: boolean }>(),
  /** Creates a demo federation workspace (local machines, the example kits) under the data dir (or `folder`). */
  'federation:create-demo': ch<{ folder?: string }, WorkspaceEntry>(),

  'state:export': ch<WorkspaceRef & { file?: string; redactHome?: boolean }, ExportedBundle>(),
  'state:import-preview': ch<WorkspaceRef & { content: string }, ImportPreview>(),
  'state:import': ch<WorkspaceRef & { content: string; force?: boolean; adopt?: boolean }, OperationReport>(),
  /** What adopting the workspace's ReFedEz / AI-HOW state file would take over (read-only). */
  'state:adopt-preview': ch<WorkspaceRef, AdoptionPreview>(),
  /** Adopts it: lineage and serial assigned, evidence recorded, the original kept in history redacted. */
  'state:adopt': ch<WorkspaceRef, OperationReport>(),
  /** Copies the workspace's local state file and its history into a PostgreSQL backend (`clusterdesk state push`). */
  'state:push': ch<WorkspaceRef & { url: string; key?: string; adopt?: boolean }, OperationReport>(),
  /** Writes a PostgreSQL backend's state and history into the workspace's local state file (`clusterdesk state pull`). */
  'state:pull': ch<WorkspaceRef & { url: string; key?: string; adopt?: boolean }, OperationReport>(),
} as const;

/** Channel → (argument) => result, derived from `CHANNEL_MAP`. */
export type InvokeMap = {
  readonly [C in keyof typeof CHANNEL_MAP]: (typeof CHANNEL_MAP)[C] extends ChannelSpec<infer A, infer R> ? (arg: A) => R : never;
};

export type Channel = keyof InvokeMap;
export type InvokeArg<C extends Channel> = Parameters<InvokeMap[C]>[0];
export type InvokeResult<C extends Channel> = ReturnType<InvokeMap[C]>;

export const CHANNELS: readonly Channel[] = Object.keys(CHANNEL_MAP) as Channel[];

/** A `.cdstate` file opened from the OS (file association, second instance): the renderer starts its import. */
export interface BundleOpened {
  readonly fileName: string;
  readonly content: string;
  /** The registered workspace of the same kind and name, or null (then `message` says what to do). */
  readonly workspaceId: string | null;
  readonly message: string;
}

function ev<P>(): ChannelSpec<never, P> {
  return {};
}

/** The one map of events pushed from main to every window: event → payload (`EventMap`, `EVENTS` derive from it). */
export const EVENT_MAP = {
  'bundle:opened': ev<BundleOpened>(),
  'workspace:changed': ev<WorkspaceChange>(),
  'workspaces:changed': ev<readonly WorkspaceEntry[]>(),
  'operation:progress': ev<ProgressEvent>(),
  'operation:finished': ev<OperationFinished>(),
} as const;

/** Event → payload, derived from `EVENT_MAP`. */
export type EventMap = {
  readonly [E in keyof typeof EVENT_MAP]: (typeof EVENT_MAP)[E] extends ChannelSpec<never, infer P> ? P : never;
};

export type EventName = keyof EventMap;

export const EVENTS: readonly EventName[] = Object.keys(EVENT_MAP) as EventName[];

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
