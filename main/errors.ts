import { ERROR_CODES, type ErrorCode, type ErrorData } from '../preload/contract';
import { redactSecrets, redactText } from './secrets/redact';

/** Fields an AppError can carry besides code and message. */
export type AppErrorFields = Omit<ErrorData, 'code' | 'message'>;

/**
 * The one error type services throw. It converts to `ErrorData` at the IPC boundary, so code, hint, path and host
 * survive the trip to the renderer and to the CLI's `--json` output. Message, hint and details are redacted here,
 * once (main/secrets/redact.ts): an error that echoes a line of a file (`password: x`) never carries the secret
 * into a log, the UI or the CLI's output.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: AppErrorFields;

  constructor(code: ErrorCode, message: string, fields: AppErrorFields = {}, options?: { cause?: unknown }) {
    super(redactText(message), options);
    this.name = 'AppError';
    this.code = code;
    this.fields = redactFields(fields);
  }

  /** Rebuilds an AppError from error data (e.g. an error recorded in a snapshot). */
  static fromData(data: ErrorData): AppError {
    const { code, message, ...fields } = data;
    return new AppError(code, message, fields);
  }

  get hint(): string | undefined {
    return this.fields.hint;
  }

  get path(): string | undefined {
    return this.fields.path;
  }

  get host(): string | undefined {
    return this.fields.host;
  }

  toData(): ErrorData {
    return plainError(this.code, this.message, this.fields);
  }

  /** `JSON.stringify(appError)` gives the plain error data, never `{name, code, fields}`. */
  toJSON(): ErrorData {
    return this.toData();
  }
}

/** The error data with only its documented keys, `details` made JSON-plain (nested errors become error data). */
function plainError(code: ErrorData['code'], message: string, fields: AppErrorFields): ErrorData {
  const out: { -readonly [K in keyof ErrorData]: ErrorData[K] } = { code, message };
  if (fields.hint !== undefined) out.hint = fields.hint;
  if (fields.path !== undefined) out.path = fields.path;
  if (fields.host !== undefined) out.host = fields.host;
  if (fields.line !== undefined) out.line = fields.line;
  if (fields.field !== undefined) out.field = fields.field;
  if (fields.details !== undefined) out.details = plainValue(fields.details, 0) as Record<string, unknown>;
  return out;
}

function plainValue(v: unknown, depth: number): unknown {
  if (v instanceof AppError) return v.toData();
  if (v instanceof Error) return { code: 'internal', message: v.message };
  if (depth > 8 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => plainValue(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x, depth + 1)]));
}

/** Where this process's hints are read: the CLI names commands to run, the app (desktop or `serve`) buttons to click. */
export type HintHost = 'cli' | 'ui';
let currentHintHost: HintHost = 'ui';

/** Set once by an entry point (the CLI sets `cli`; the app keeps the default `ui`). */
export function setHintHost(host: HintHost): void {
  currentHintHost = host;
}

export function hintHost(): HintHost {
  return currentHintHost;
}

/**
 * The one rule for hints that ask the user to do something: every such hint is written in both forms — the command a
 * CLI user can run (`clusterdesk state restore ID`) and the button an app user can click — and the host the error is
 * raised in picks its own. Errors are created in the process that shows them (the CLI runs the domain functions
 * itself), so choosing at creation is choosing by host.
 */
export function actionHint(forms: { readonly cli: string; readonly ui: string }): string {
  return currentHintHost === 'cli' ? forms.cli : forms.ui;
}

function redactFields(fields: AppErrorFields): AppErrorFields {
  const hint = fields.hint === undefined ? undefined : redactText(fields.hint);
  const details = fields.details === undefined ? undefined : redactSecrets(fields.details).value;
  if (hint === fields.hint && details === fields.details) return fields;
  return { ...fields, ...(hint !== undefined ? { hint } : {}), ...(details !== undefined ? { details } : {}) };
}

/** Is `err` an AppError with (one of) the given code(s)? */
export function isAppError(err: unknown, ...codes: ErrorCode[]): err is AppError {
  return err instanceof AppError && (codes.length === 0 || codes.includes(err.code));
}

/** Any thrown value as error data; unknown errors become `internal` and keep their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof AppError) return err.toData();
  // Plain error data (from a worker, a snapshot, a settled result): redacted and reduced to the documented keys.
  if (isErrorData(err)) return AppError.fromData(err).toData();
  if (err instanceof Error && err.name === 'AbortError') return cancelledError().toData();
  const message = redactText(err instanceof Error ? err.message : String(err));
  return { code: 'internal', message, hint: 'This is a bug in Clusterdesk; please report it with the log.' };
}

function isErrorData(v: unknown): v is ErrorData {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Error) &&
    (ERROR_CODES as readonly string[]).includes((v as ErrorData).code) &&
    typeof (v as ErrorData).message === 'string'
  );
}

/** The one `cancelled` error (`what` says what was being waited for, if anything). */
export function cancelledError(what?: string): AppError {
  return new AppError('cancelled', what ? `The operation was cancelled while ${what}.` : 'The operation was cancelled.');
}

/** Throws a `cancelled` AppError when the signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
