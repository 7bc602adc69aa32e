/**
 * The state engine's typed errors. Every error names the file (`path`) and says what to do (`hint`).
 */
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { actionHint, AppError } from '../errors';
import type { LockHolder } from '../../preload/contract';

const restoreHint = (): string =>
  actionHint({
    cli: 'Clusterdesk will not overwrite this file. List its backups with `clusterdesk state backups` and restore the newest valid one with `clusterdesk state restore ID`, or fix the file by hand.',
    ui: 'Clusterdesk will not overwrite this file. Click “Restore newest valid backup” (or pick one under Backups and click Restore), or fix the file by hand.',
  });

/** The file is not JSON (with the 1-based line and column) or not a valid state (with the field path). */
export function corruptError(
  path: string,
  message: string,
  where: { readonly line?: number; readonly column?: number; readonly field?: string } = {},
  cause?: unknown,
): AppError {
  const fields = {
    path,
    hint: restoreHint(),
    ...(where.line !== undefined ? { line: where.line } : {}),
    ...(where.field !== undefined ? { field: where.field } : {}),
    ...(where.column !== undefined ? { details: { column: where.column } } : {}),
  };
  return new AppError('state-corrupt', `${path}: ${message}`, fields, { cause });
}

/** The file belongs to another deployment (its lineage differs from the one the workspace knows). */
export function foreignError(path: string, found: string, expected: string): AppError {
  return new AppError('state-foreign', `${path} belongs to another deployment (lineage ${found}, expected ${expected}).`, {
    path,
    hint: 'Open this file as its own workspace, or adopt it explicitly if it really is this deployment’s state.',
    details: { found, expected },
  });
}

/** The file moved on since the caller read it. */
export function staleError(path: string, baseSerial: number, current: number): AppError {
  return new AppError('state-stale', `${path} changed since it was read (serial ${baseSerial} → ${current}).`, {
    path,
    hint: 'Another window or the CLI changed this state. Refresh and try again.',
    details: { baseSerial, current },
  });
}

/** A cluster state file records another cluster than the config names. */
export function mismatchError(path: string, found: string, expected: string): AppError {
  return new AppError('state-mismatch', `${path} records cluster "${found}", not "${expected}": multiple clusters using the same state file?`, {
    path,
    hint: 'Give each cluster its own state file (--state PATH or AI_HOW_STATE_FILE), or fix cluster_name in the config.',
    details: { found, expected },
  });
}

/** Another operation holds the lock. */
export function lockedError(path: string, holder: LockHolder | null, waitedMs: number): AppError {
  const who = holder ? `${holder.operation} (pid ${holder.pid} on ${holder.host}, since ${holder.since}, lock id ${holder.id})` : 'another operation';
  return new AppError('state-locked', `${path} is locked by ${who}; waited ${Math.round(waitedMs)} ms.`, {
    path,
    hint: actionHint(
      holder?.stale
        ? {
            cli: `The holder looks dead. Break the lock with \`clusterdesk state unlock ${holder.id}\` if you are sure no other Clusterdesk is working on it.`,
            ui: 'The holder looks dead. Click Unlock if you are sure no other Clusterdesk is working on it.',
          }
        : {
            cli: `Wait for the other operation to finish. If its process is gone, break the lock with \`clusterdesk state unlock ${holder?.id ?? 'LOCKID'}\` (the id is shown by \`clusterdesk state show\`).`,
            ui: 'Wait for the other operation to finish. If its process is gone, click Unlock.',
          },
    ),
    ...(holder ? { details: { holder } } : {}),
  });
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** True for the errno codes a permission fix can solve. */
export function isPermissionErrno(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * Maps a failed file-system call to `state-permission` (EACCES/EPERM, with the chmod/chown fix) or `state-io`
 * (anything else, with the errno). AppErrors pass through unchanged.
 */
export function fsError(err: unknown, path: string, action: string): AppError {
  if (err instanceof AppError) return err;
  const code = errnoOf(err) ?? 'unknown';
  const reason = err instanceof Error ? err.message : String(err);
  if (code === 'EACCES' || code === 'EPERM') {
    const dir = dirname(path);
    let user = 'YOUR_USER';
    try {
      user = userInfo().username;
    } catch {
      // No passwd entry (containers): keep the placeholder.
    }
    return new AppError(
      'state-permission',
      `Permission denied while trying to ${action} ${path} (${code}).`,
      {
        path,
        hint: `Give yourself the state folder back: chown -R ${user} '${dir}' && chmod 700 '${dir}' && chmod 600 '${path}' (if that fails too, check for an immutable flag with lsattr and clear it with chattr -i).`,
        details: { errno: code, action },
      },
      { cause: err },
    );
  }
  const hint =
    code === 'ENOSPC'
      ? 'The disk is full. Free some space and try again; the previous state is intact.'
      : code === 'EROFS'
        ? 'The file system is read-only. Move the state file (--state PATH) or remount read-write.'
        : code === 'ENOTDIR'
          ? 'A part of the path is a file, not a folder. Fix the state path.'
          : 'Check the disk and the path, then try again; the previous state is intact.';
  return new AppError('state-io', `Could not ${action} ${path}: ${reason}`, { path, hint, details: { errno: code, action } }, { cause: err });
}

/** True when a file-system error means "does not exist". */
export function isNotFound(err: unknown): boolean {
  return errnoOf(err) === 'ENOENT';
}

/** The errno code of a file-system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return errnoOf(err);
}
