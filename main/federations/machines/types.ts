/**
 * The Machine port: what the federation service needs from a participant's machine, whether it is this computer
 * (local: fs + child_process) or a remote host (ssh2). Every method is cancellable and bounded; failures are
 * `AppError`s naming the host (`ssh-unreachable`, `ssh-auth`, `ssh-timeout`, `ssh-command`, `ssh-hostkey-*`,
 * `path-refused`, `not-found`, `cancelled`).
 */

export type MachineKind = 'local' | 'remote';

/** Cancellation and a time bound for one call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Bound for this call (after the connection is up); `ssh-timeout` when exceeded. */
  readonly timeoutMs?: number;
}

export interface ExecResult {
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface UploadProgress {
  /** Content bytes sent so far / in total. */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Files completely sent so far / in total (directories not counted). */
  readonly files: number;
  readonly totalFiles: number;
}

export interface UploadOptions extends CallOptions {
  onProgress?(progress: UploadProgress): void;
}

export interface UploadStats {
  readonly bytes: number;
  readonly files: number;
}

export interface LaunchOptions extends CallOptions {
  /** Working directory of the process (absolute). */
  readonly cwd: string;
  /** stdout and stderr are appended here (absolute). */
  readonly logFile: string;
}

/** One participant's machine. Connections are opened lazily and reused until `close()`. */
export interface Machine {
  readonly kind: MachineKind;
  /** Where the machine is, for records and messages: the address connected to (`localhost` for local). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Temp dirs are created under this root (`/tmp`); callers only remove paths under it. */
  readonly tempRoot: string;

  /** Opens the connection now (a no-op for local machines): the "reachable?" probe. */
  connect(opts?: CallOptions): Promise<void>;
  /** Runs argv (quoted with shellQuote on remote machines; no shell locally). A non-zero exit is a result, not an error. */
  exec(argv: readonly string[], opts?: CallOptions): Promise<ExecResult>;
  /** Creates a fresh 0700 folder `<tempRoot>/<prefix>XXXXXXXX` and returns its absolute path. */
  mkTempDir(prefix: string, opts?: CallOptions): Promise<string>;
  /** Copies the contents of `localDir` into `remoteDir` (created if missing), keeping file modes. */
  upload(localDir: string, remoteDir: string, opts?: UploadOptions): Promise<UploadStats>;
  /** Starts argv in the background, detached from this session; returns its PID when the machine reports one. */
  launchDetached(argv: readonly string[], opts: LaunchOptions): Promise<number | null>;
  /** Creates `path` if missing (its folder must exist) and updates its mtime. */
  touch(path: string, opts?: CallOptions): Promise<void>;
  exists(path: string, opts?: CallOptions): Promise<boolean>;
  /** Is a process with this PID alive (and signalable by this user)? */
  isAlive(pid: number, opts?: CallOptions): Promise<boolean>;
  /** The last `lines` lines of a text file; `not-found` when it does not exist. */
  readTail(path: string, lines: number, opts?: CallOptions): Promise<readonly string[]>;
  /** Removes a folder recursively; refuses obviously dangerous paths (`path-refused`). Missing is fine. */
  removeDir(path: string, opts?: CallOptions): Promise<void>;
  /** Closes the connection; the machine may be used again (it reconnects). */
  close(): Promise<void>;
}
