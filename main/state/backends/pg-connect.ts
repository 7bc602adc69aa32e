/**
 * Connecting to PostgreSQL the libpq way: a `postgres://user@host:port/db?schema=…&sslmode=…` URL with no password in
 * it (a URL ends up in a config file), the password from `PGPASSWORD` or a `.pgpass` file (`PGPASSFILE`, else
 * `~/.pgpass`, ignored when group- or world-readable, as libpq does), TLS from `sslmode` / `sslrootcert` / `sslcert` /
 * `sslkey` (handled by node-postgres' URL parser). Pure parsing plus one file read; no connection is made here.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../errors';

export interface PgLocation {
  /** The URL without `schema` (what node-postgres gets). */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** The SQL schema holding Clusterdesk's tables (`?schema=`, default `clusterdesk`). */
  readonly schema: string;
  /** `host:port/db?schema=…` — safe to show and log (never a password). */
  readonly label: string;
  /** The `?workspace=` key named in the URL (which workspace's state this is), or null. */
  readonly workspace: string | null;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** A workspace key: printable, 1..200 characters. */
export const WORKSPACE_KEY = /^[^\x00-\x1f\x7f]{1,200}$/;

/** True for a backend URL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(value: unknown): value is string {
  return typeof value === 'string' && /^postgres(?:ql)?:\/\//i.test(value);
}

/** Parses and checks a backend URL. A password in it is refused with a hint (it would be stored in a config file). */
export function parsePgUrl(url: string): PgLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError('config-invalid', `Not a valid PostgreSQL URL: ${redactUrl(url)}.`, {
      hint: 'Write it as postgres://USER@HOST:PORT/DATABASE?schema=clusterdesk.',
    });
  }
  if (!/^postgres(?:ql)?:$/i.test(u.protocol)) {
    throw new AppError('config-invalid', `Not a PostgreSQL URL: ${redactUrl(url)}.`, {
      hint: 'Write it as postgres://USER@HOST:PORT/DATABASE?schema=clusterdesk.',
    });
  }
  if (u.password) {
    throw new AppError(
      'config-invalid',
      `The backend URL ${redactUrl(url)} holds a password; Clusterdesk refuses it (the URL is stored in your config file).`,
      {
        hint: 'Remove the password from the URL and put it in ~/.pgpass (host:port:database:user:password, mode 0600) or in PGPASSWORD.',
      },
    );
  }
  const schema = u.searchParams.get('schema') ?? 'clusterdesk';
  if (!SCHEMA_NAME.test(schema)) {
    throw new AppError('config-invalid', `The backend URL's schema "${schema}" is not a plain lowercase SQL name.`, {
      hint: 'Use letters, digits and underscores, starting with a letter (e.g. ?schema=clusterdesk).',
    });
  }
  u.searchParams.delete('schema');
  const workspace = u.searchParams.get('workspace');
  u.searchParams.delete('workspace');
  if (workspace !== null && !WORKSPACE_KEY.test(workspace)) {
    throw new AppError('config-invalid', `The backend URL's workspace key "${workspace}" is empty, too long or holds control characters.`, {
      hint: 'Name the workspace with up to 200 printable characters (e.g. ?workspace=lab-cluster).',
    });
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const user = decodeURIComponent(u.username) || process.env.PGUSER || safeUser();
  const host = u.hostname || process.env.PGHOST || 'localhost';
  const port = Number(u.port || process.env.PGPORT || 5432);
  const rest = u.searchParams.toString();
  return {
    connectionString: u.toString(),
    host,
    port,
    database,
    user,
    schema,
    workspace,
    label: `${host}:${port}/${database}?schema=${schema}${rest ? `&${rest}` : ''}`,
  };
}

function safeUser(): string {
  try {
    return process.env.USER ?? 'postgres';
  } catch {
    return 'postgres';
  }
}

/** The URL with any password replaced by `***` (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function unescapeField(field: string): string {
  return field.replace(/\\(.)/g, '$1');
}

/** Splits a .pgpass line on unescaped colons. */
function splitPgpass(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += c + line[i + 1];
      i++;
    } else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map(unescapeField);
}

/**
 * The password libpq would use for this connection: `PGPASSWORD`, else the first matching `.pgpass` line. Returns
 * undefined when there is none (trust / peer / certificate authentication then decide).
 */
export async function libpqPassword(
  loc: Pick<PgLocation, 'host' | 'port' | 'database' | 'user'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (env.PGPASSWORD) return env.PGPASSWORD;
  const file = env.PGPASSFILE || join(homedir(), '.pgpass');
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    if ((st.mode & 0o077) !== 0) return undefined; // libpq ignores a group/world-readable password file
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const want = [loc.host, String(loc.port), loc.database, loc.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const f = splitPgpass(raw);
    if (f.length < 5) continue;
    if (want.every((w, i) => f[i] === '*' || f[i] === w)) return f.slice(4).join(':');
  }
  return undefined;
}

/** Turns a connection-level failure into `backend-unreachable` naming host and port; other errors pass through. */
export function connectionError(err: unknown, loc: PgLocation): AppError | null {
  if (err instanceof AppError) return null;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === '28P01' || code === '28000') {
    return new AppError('state-permission', `The state backend ${loc.label} refused the login of ${loc.user}: ${message}.`, {
      host: `${loc.host}:${loc.port}`,
      hint: 'Put the password in ~/.pgpass (host:port:database:user:password, mode 0600) or PGPASSWORD, or set up a client certificate (sslcert/sslkey in the URL).',
    });
  }
  const network = typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code);
  const serverGone = typeof code === 'string' && /^(57P01|57P02|57P03|08000|08003|08006|08001|08004)$/.test(code);
  const clientGone = /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(message);
  if (!network && !serverGone && !clientGone) return null;
  return new AppError('backend-unreachable', `The state backend ${loc.label} cannot be reached: ${message}.`, {
    host: `${loc.host}:${loc.port}`,
    hint: 'Check that PostgreSQL runs and accepts connections there (pg_isready -h HOST -p PORT); nothing was written.',
  });
}
