/**
 * Which backend holds a workspace's state: `clusterdesk: { backend: postgres://USER@HOST:PORT/DB?schema=…&workspace=… }`
 * in cluster.yaml or refedez.yaml, or the workspace setting in the app (which wins). No backend: the local state file.
 * Pure: checks the URL (no password in it, a plain schema name) without connecting.
 */
import { AppError } from '../../errors';
import { isPostgresUrl, parsePgUrl, redactUrl } from './pg-connect';

/** A workspace's state in a PostgreSQL backend: the database URL and the workspace key inside it. */
export interface BackendSpec {
  /** The URL as written (no password; `schema` and `workspace` parameters allowed). */
  readonly url: string;
  /** The workspace key: `?workspace=` in the URL, else the workspace's name. */
  readonly key: string;
  /** A setting that was refused (a password in the URL…): every state call of the workspace answers this error. */
  readonly problem?: AppError;
}

/**
 * Reads a backend URL (from a config's `clusterdesk.backend` or the app's setting). `null`/absent → null (the local
 * file). A URL that is not PostgreSQL, holds a password or names a bad schema → `config-invalid` naming the file and
 * field, with the libpq way as the hint.
 */
export function readBackendSetting(value: unknown, defaultKey: string, where: { readonly path?: string; readonly field?: string } = {}): BackendSpec | null {
  if (value === undefined || value === null || value === '') return null;
  const at = { ...(where.path ? { path: where.path } : {}), ...(where.field ? { field: where.field } : {}) };
  const prefix = where.path ? `${where.path}: ${where.field ?? 'backend'}: ` : '';
  if (typeof value !== 'string' || !isPostgresUrl(value.trim())) {
    throw new AppError(
      'config-invalid',
      `${prefix}expected a postgres:// URL, got ${typeof value === 'string' ? JSON.stringify(redactUrl(value)) : typeof value}.`,
      {
        ...at,
        hint: 'Write postgres://USER@HOST:PORT/DATABASE?schema=clusterdesk&workspace=KEY, or remove the key to keep the state in a local file.',
      },
    );
  }
  const url = value.trim();
  let location;
  try {
    location = parsePgUrl(url);
  } catch (err) {
    if (err instanceof AppError) throw new AppError('config-invalid', `${prefix}${err.message}`, { ...err.fields, ...at }, { cause: err });
    throw err;
  }
  return { url, key: location.workspace ?? defaultKey };
}

/** `readBackendSetting` for a config file's parsed `clusterdesk:` block (field `clusterdesk.backend`). */
export function backendOfConfigBlock(block: unknown, defaultKey: string, file: string): BackendSpec | null {
  if (block === null || typeof block !== 'object' || Array.isArray(block)) return null;
  return readBackendSetting((block as Record<string, unknown>)['backend'], defaultKey, { path: file, field: 'clusterdesk.backend' });
}
