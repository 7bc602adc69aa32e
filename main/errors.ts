import type { ErrorCode, ErrorData } from '../preload/contract';

/** Fields an AppError can carry besides code and message. */
export type AppErrorFields = Omit<ErrorData, 'code' | 'message'>;

/**
 * The one error type services throw. It converts to `ErrorData` at the IPC boundary, so code, hint, path and host
 * survive the trip to the renderer and to the CLI's `--json` output.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: AppErrorFields;

  constructor(code: ErrorCode, message: string, fields: AppErrorFields = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.fields = fields;
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
    return { code: this.code, message: this.message, ...this.fields };
  }
}

/** Is `err` an AppError with (one of) the given code(s)? */
export function isAppError(err: unknown, ...codes: ErrorCode[]): err is AppError {
  return err instanceof AppError && (codes.length === 0 || codes.includes(err.code));
}

/** Any thrown value as error data; unknown errors become `internal` and keep their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof AppError) return err.toData();
  if (err instanceof Error && err.name === 'AbortError') return cancelledError().toData();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message, hint: 'This is a bug in Clusterdesk; please report it with the log.' };
}

/** The one `cancelled` error (`what` says what was being waited for, if anything). */
export function cancelledError(what?: string): AppError {
  return new AppError('cancelled', what ? `The operation was cancelled while ${what}.` : 'The operation was cancelled.');
}

/** Throws a `cancelled` AppError when the signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
