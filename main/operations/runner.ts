import { randomUUID } from 'node:crypto';
import type { OperationFinished, ProgressEvent } from '../../preload/contract';
import { AppError, toErrorData } from '../errors';
import { redactText } from '../secrets/redact';
import type { OpContext, ProgressUpdate } from './types';

/** What the runner tells its listeners (the IPC layer turns these into `operation:*` events). */
export interface RunnerListener {
  progress(event: ProgressEvent): void;
  finished(event: OperationFinished): void;
  /** An operation started or ended on a workspace: its snapshot's `operation` field changed. */
  changed(workspaceId: string): void;
}

export interface RunningOperation {
  readonly opId: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly since: string;
}

interface Entry extends RunningOperation {
  readonly controller: AbortController;
}

/**
 * Runs long operations: at most one mutation per workspace at a time (a clash answers `busy`), each with an id,
 * progress events and cancellation through an AbortSignal. The on-disk state lock is taken by the services
 * themselves (through the state engine), so the CLI and a second app instance are excluded too.
 */
export class OperationRunner {
  private readonly running = new Map<string, Entry>();
  private readonly listeners = new Set<RunnerListener>();

  /** Subscribes to progress / finished / changed notifications; returns the unsubscribe function. */
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
   * Runs `fn` as the workspace's one mutation. Resolves with fn's value (and the op id) when it ends; progress
   * events flow meanwhile.
   */
  async run<T>(
    workspaceId: string,
    name: string,
    fn: (ctx: OpContext, opId: string) => Promise<T>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ opId: string; value: T }> {
    const existing = this.running.get(workspaceId);
    if (existing) {
      throw new AppError('busy', `Another operation (${existing.name}) is running on this workspace.`, {
        hint: 'Wait for it to finish or cancel it.',
        details: { opId: existing.opId, operation: existing.name, since: existing.since },
      });
    }
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const entry: Entry = { opId: randomUUID(), workspaceId, name, since: new Date().toISOString(), controller };
    this.running.set(workspaceId, entry);
    this.emitChanged(workspaceId);
    const ctx: OpContext = {
      signal: controller.signal,
      progress: (update: ProgressUpdate) => this.emitProgress(entry, update),
    };
    try {
      const value = await fn(ctx, entry.opId);
      this.emitFinished({ opId: entry.opId, workspaceId, operation: name, ok: true });
      return { opId: entry.opId, value };
    } catch (err) {
      const error = controller.signal.aborted && !(err instanceof AppError) ? toErrorData(controller.signal.reason) : toErrorData(err);
      this.emitFinished({ opId: entry.opId, workspaceId, operation: name, ok: false, error });
      throw err instanceof AppError ? err : new AppError(error.code, error.message, { hint: error.hint }, { cause: err });
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      this.running.delete(workspaceId);
      this.emitChanged(workspaceId);
    }
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

  private emitChanged(workspaceId: string): void {
    for (const l of this.listeners) l.changed(workspaceId);
  }
}
