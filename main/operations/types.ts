/** What a long operation reports while it runs (sent as `operation:progress` events). */
export interface ProgressUpdate {
  /** A VM, machine, network … or '' for the operation as a whole. */
  readonly target: string;
  /** A short machine-readable step name (`upload`, `define`, `shutdown`, …). */
  readonly step: string;
  /** 0..1 for this target, or null when unknown. */
  readonly value?: number | null;
  readonly message: string;
  readonly level?: 'info' | 'warn' | 'error';
}

/**
 * The context every long-running service function receives: a cancellation signal and a progress sink. Services
 * never import the runner; the runner, the CLI and tests each supply their own context.
 */
export interface OpContext {
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
}

/** A context for tests and one-shot calls: never cancelled unless a signal is given; progress goes to `sink`. */
export function simpleContext(signal?: AbortSignal, sink?: (u: ProgressUpdate) => void): OpContext {
  return { signal: signal ?? new AbortController().signal, progress: (u) => sink?.(u) };
}
