import { randomUUID } from 'node:crypto';
import type { OperationFinished, ProgressEvent, TargetOutcome } from '../../preload/contract';
import { AppError, toErrorData } from '../errors';
import { redactText } from '../secrets/redact';
import type { OpContext, ProgressUpdate } from './types';

/** What the runner tells its listeners (the IPC layer turns these into `operation:*` events). */
export interface RunnerListener {
  progress(event: ProgressEvent): void;
  finished(event: OperationFinished): void;
}

export interface RunningOperation {
  readonly opId: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly since: string;
}

interface Entry extends RunningOperation {
  readonly controller: AbortController;
  /** Settles when the operation has ended: `fn` returned or threw (its locks released), `settle` ran. */
  readonly done: Promise<void>;
}

export interface RunOptions {
  /** Cancels the operation from outside (besides `cancel(opId)`). */
  readonly signal?: AbortSignal;
  /**
   * Runs after the operation has ended and left the running set, before `finished` is announced — `operate` publishes
   * the workspace's one snapshot here, so a window sees the new state before the operation's end. Never throws.
   */
  readonly settle?: (ok: boolean) => Promise<void>;
}

/** The per-target outcomes an operation's value or error carries (`{outcomes: [...]}`, or an error's `details.outcomes`). */
export function outcomesOf(value: unknown): readonly TargetOutcome[] {
  const list = typeof value === 'object' && value !== null ? (value as { outcomes?: unknown }).outcomes : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter((o): o is TargetOutcome => typeof o === 'object' && o !== null && typeof (o as TargetOutcome).target === 'string');
}

/**
 * Runs long operations: at most one per workspace at a time (a clash answers `busy`), each with an id, progress
 * events and cancellation through an AbortSignal. The on-disk state lock is taken by the domain functions themselves
 * (through the state engine), so the CLI and a second app instance are excluded too. `AppServices.operate` is the one
 * caller in the app: it adds the single snapshot publish.
 */
export class OperationRunner {
  private readonly running = new Map<string, Entry>();
  private readonly listeners = new Set<RunnerListener>();

  /** Subscribes to progress / finished notifications; returns the unsubscribe function. */
  subscribe(listener: RunnerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The operation running on a workspace, if any. */
  current(workspaceId: string): RunningOperation | null {
    const entry = this.running.get(workspaceId);
    return entry ? { opId: entry.opId, workspaceId: entry.workspaceId, name: entry.name, since: entry.since } : null;
  }

  /** Cancels a running operation by id; false when no such operation runs. */
  cancel(opId: string): boolean {
    for (const entry of this.running.values()) {
      if (entry.opId === opId) {
        entry.controller.abort(new AppError('cancelled', `Operation ${entry.name} was cancelled.`));
        return true;
      }
    }
    return false;
  }

  /** Cancels everything (used at shutdown). */
  cancelAll(): void {
    for (const entry of this.running.values()) entry.controller.abort(new AppError('cancelled', 'Clusterdesk is shutting down.'));
  }

  /**
   * Shutdown: refuses new operations, cancels the running ones and waits until each has ended (its domain function
   * returned, so the state lock it held is released and its last checkpoint is the file's last generation). Gives up
   * waiting after `timeoutMs` (an operation deaf to its signal), resolving with the names still running.
   */
  async close(timeoutMs = 30_000): Promise<string[]> {
    this.closing = true;
    const entries = [...this.running.values()];
    this.cancelAll();
    if (entries.length === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
    });
    await Promise.race([Promise.all(entries.map((e) => e.done)), timeout]);
    clearTimeout(timer);
    return [...this.running.values()].map((e) => e.name);
  }

  private closing = false;

  /**
   * Runs `fn` as the workspace's one operation. Resolves with fn's value (and the op id) when it ends; progress
   * events flow meanwhile. A failure rejects with an AppError whose `details.opId` names the operation (a refusal
   * before it started, such as `busy`, has none).
   */
  async run<T>(
    workspaceId: string,
    name: string,
    fn: (ctx: OpContext, opId: string) => Promise<T>,
    options: RunOptions = {},
  ): Promise<{ opId: string; value: T }> {
    const existing = this.running.get(workspaceId);
    if (existing) {
      throw new AppError('busy', `Another operation (${existing.name}) is running on this workspace.`, {
        hint: 'Wait for it to finish or cancel it.',
        details: { runningOpId: existing.opId, operation: existing.name, since: existing.since },
      });
    }
    if (this.closing) throw new AppError('cancelled', 'Clusterdesk is shutting down; no new operation starts.');
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let markDone = () => undefined as void;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    const entry: Entry = { opId: randomUUID(), workspaceId, name, since: new Date().toISOString(), controller, done };
    this.running.set(workspaceId, entry);
    const ctx: OpContext = {
      signal: controller.signal,
      progress: (update: ProgressUpdate) => this.emitProgress(entry, update),
    };
    let outcome: { ok: true; value: T } | { ok: false; error: AppError };
    try {
      outcome = { ok: true, value: await fn(ctx, entry.opId) };
    } catch (err) {
      const data = controller.signal.aborted && !(err instanceof AppError) ? toErrorData(controller.signal.reason) : toErrorData(err);
      const { code, message, ...fields } = data;
      outcome = { ok: false, error: new AppError(code, message, { ...fields, details: { ...(fields.details ?? {}), opId: entry.opId } }, { cause: err }) };
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      this.running.delete(workspaceId);
    }
    try {
      await options.settle?.(outcome.ok).catch(() => undefined);
    } finally {
      markDone();
    }
    const base = { opId: entry.opId, workspaceId, operation: name };
    if (outcome.ok) {
      this.emitFinished({ ...base, ok: true, outcomes: outcomesOf(outcome.value) });
      return { opId: entry.opId, value: outcome.value };
    }
    const error = toErrorData(outcome.error);
    this.emitFinished({ ...base, ok: false, error, outcomes: outcomesOf(error.details) });
    throw outcome.error;
  }

  private emitProgress(entry: Entry, update: ProgressUpdate): void {
    const event: ProgressEvent = {
      opId: entry.opId,
      workspaceId: entry.workspaceId,
      operation: entry.name,
      target: update.target,
      step: update.step,
      value: update.value ?? null,
      message: redactText(update.message),
      level: update.level ?? 'info',
    };
    for (const l of this.listeners) l.progress(event);
  }

  private emitFinished(event: OperationFinished): void {
    for (const l of this.listeners) l.finished(event);
  }
}
