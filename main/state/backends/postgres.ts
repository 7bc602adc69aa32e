/**
 * The PostgreSQL state backend: the file engine's semantics (lineage and serial, atomic generations, history with the
 * same retention, restore, adoption, the same typed errors) on a database that several desks share.
 *
 * - One row per workspace key in `<schema>.states` pointing at its current serial; every generation's exact text (so a
 *   push/pull round trip is byte-equal) in `<schema>.history`, the current one included, like `<file>.history/` —
 *   each save writes the text once.
 * - Locks are held by the server: a session-level advisory lock per workspace key on the transaction's own
 *   connection, with the holder (user, host, pid, operation, since) in `<schema>.locks`. A holder that dies or loses
 *   its network loses its connection, and with it the lock — there is no stale lock to break by hand.
 * - Every committed generation NOTIFYs `clusterdesk_state` with `{key, serial, lineage}`; `watch()` LISTENs and
 *   reconnects by itself.
 * - The schema is created and migrated here, versioned in `<schema>.meta`.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import type { BackupEntry, LockHolder } from '../../../preload/contract';
import { AppError, throwIfCancelled } from '../../errors';
import { redactedCopyForHistory } from '../../secrets/redact';
import { sleep } from '../../util';
import { stripSecrets } from '../convert';
import { foreignError, mismatchError, staleError } from '../errors';
import { parseState, serializeState } from '../parse';
import {
  clusterStateSchema,
  federationStateSchema,
  isFederationState,
  isoNow,
  newLineage,
  STATE_FORMAT_VERSION,
  summarize,
  type AnyState,
  type StateKind,
  type StateOf,
  type Written,
} from '../schema';
import { connectionError, libpqPassword, parsePgUrl, type PgLocation } from './pg-connect';

/** A workspace's state in a PostgreSQL backend. */
export interface PgTarget<K extends StateKind = StateKind> {
  readonly kind: K;
  /** The workspace key the user sees (several workspaces share one database). */
  readonly key: string;
  readonly clusterName?: string;
  readonly lineage?: string;
}

export interface PgBackendOptions {
  readonly historyLimit?: number;
  readonly lockTimeoutMs?: number;
  readonly onWarning?: (message: string) => void;
  /** Connection attempts give up after this long (default 5 s). */
  readonly connectTimeoutMs?: number;
}

export interface PgWriteOptions {
  readonly baseSerial?: number;
  readonly adoptLineage?: boolean;
  readonly minSerial?: number;
}

export interface PgTx<K extends StateKind> {
  readonly target: PgTarget<K>;
  readonly lockId: string;
  read(): Promise<StateOf<K> | null>;
  write(next: StateOf<K>, opts?: PgWriteOptions): Promise<Written<StateOf<K>>>;
  update(fn: (current: StateOf<K> | null) => StateOf<K> | Promise<StateOf<K>>, opts?: { readonly baseSerial?: number }): Promise<Written<StateOf<K>>>;
  remove(): Promise<void>;
}

/** One committed generation, as NOTIFY carries it. */
export interface PgChange {
  readonly key: string;
  readonly serial: number | null;
  readonly lineage: string | null;
  /** Set for a lock taken or released (no generation was committed then). */
  readonly lock?: 'taken' | 'released';
}

/** A raw generation (push / pull move these verbatim). */
export interface RawGeneration {
  readonly serial: number;
  readonly text: string;
  readonly savedAt: string;
}

export const NOTIFY_CHANNEL = 'clusterdesk_state';
/** The first half of every advisory lock key we take (so ours never collide with another application's). */
const LOCK_CLASS = 0x43_44_53_54 | 0; // "CDST"
const SCHEMA_VERSION = 1;
const HISTORY_ID = /^history:(\d{1,15})$/;

/** The migrations, in order; `meta.version` says how many ran. */
function migrations(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.states (
       key text PRIMARY KEY,
       kind text NOT NULL CHECK (kind IN ('cluster', 'federation')),
       lineage text NOT NULL,
       serial bigint NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE TABLE IF NOT EXISTS ${s}.history (
       key text NOT NULL,
       serial bigint NOT NULL,
       lineage text,
       body text NOT NULL,
       saved_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (key, serial)
     );
     CREATE TABLE IF NOT EXISTS ${s}.locks (
       key text PRIMARY KEY,
       id uuid NOT NULL,
       holder_user text NOT NULL,
       holder_host text NOT NULL,
       holder_pid integer NOT NULL,
       operation text NOT NULL,
       since timestamptz NOT NULL DEFAULT now(),
       backend_pid integer NOT NULL
     );`,
  ];
}

/** The PostgreSQL backend for one database URL (one pool; any number of workspace keys). */
export class PgStateBackend {
  readonly location: PgLocation;
  private readonly pool: pg.Pool;
  private limits: { historyLimit: number; lockTimeoutMs: number };
  private readonly onWarning: (message: string) => void;
  private ready: Promise<void> | null = null;
  private closed = false;

  private constructor(location: PgLocation, pool: pg.Pool, opts: PgBackendOptions) {
    this.location = location;
    this.pool = pool;
    this.limits = { historyLimit: Math.max(1, Math.floor(opts.historyLimit ?? 10)), lockTimeoutMs: Math.max(0, opts.lockTimeoutMs ?? 10_000) };
    this.onWarning = opts.onWarning ?? (() => undefined);
  }

  /** A backend for `url` (checked; no password allowed in it). Connects lazily; the schema is migrated on first use. */
  static create(url: string, opts: PgBackendOptions = {}): PgStateBackend {
    const location = parsePgUrl(url);
    const pool = new pg.Pool({
      connectionString: location.connectionString,
      password: () => libpqPassword(location).then((p) => p ?? ''),
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      max: 8,
      idleTimeoutMillis: 10_000,
      application_name: 'clusterdesk',
      // A CLI command ends when its work is done: idle pooled connections never keep the process alive.
      allowExitOnIdle: true,
    } as pg.PoolConfig);
    // An idle client whose server went away emits 'error' on the pool: that is not a crash, the next call reconnects.
    pool.on('error', () => undefined);
    return new PgStateBackend(location, pool, opts);
  }

  configure(opts: Pick<PgBackendOptions, 'historyLimit' | 'lockTimeoutMs'>): void {
    if (opts.historyLimit !== undefined) this.limits.historyLimit = Math.max(1, Math.floor(opts.historyLimit));
    if (opts.lockTimeoutMs !== undefined) this.limits.lockTimeoutMs = Math.max(0, opts.lockTimeoutMs);
  }

  get historyLimit(): number {
    return this.limits.historyLimit;
  }

  /** `postgres://host:port/db?schema=s#key` — what errors name as the "path" of a workspace's state. */
  labelOf(key: string): string {
    return `postgres://${this.location.label}#${key}`;
  }

  private get s(): string {
    return `"${this.location.schema}"`;
  }

  /** Runs `fn` with a pooled client, turning connection failures into `backend-unreachable`. */
  private async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.migrate();
    return this.rawClient(fn);
  }

  private async rawClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new AppError('internal', `The state backend ${this.location.label} was closed.`);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw connectionError(err, this.location) ?? err;
    }
    let broken: unknown = undefined;
    // A server that goes away while this client is checked out (between two queries, e.g. holding the workspace
    // lock) makes the client emit 'error': the pool only listens while it is idle, so without this listener that
    // event would be an uncaught exception. The next query fails with the connection error, which is turned into
    // `backend-unreachable` below; the client is then destroyed, not returned to the pool.
    const onError = (err: Error): void => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      const conn = connectionError(err, this.location);
      if (conn) {
        broken = err;
        throw conn;
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** Creates the schema and runs pending migrations (once per backend object; concurrent processes serialize). */
  migrate(): Promise<void> {
    if (!this.ready) {
      this.ready = this.rawClient(async (c) => {
        await c.query('BEGIN');
        try {
          await c.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
          await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
          await c.query(`CREATE TABLE IF NOT EXISTS ${this.s}.meta (version integer NOT NULL)`);
          const r = await c.query<{ version: number }>(`SELECT version FROM ${this.s}.meta`);
          const have = r.rows[0]?.version ?? 0;
          if (have > SCHEMA_VERSION) {
            throw new AppError(
              'unsupported',
              `The state backend ${this.location.label} has schema version ${have}; this Clusterdesk knows ${SCHEMA_VERSION}.`,
              {
                hint: 'Update Clusterdesk on this desk: a newer version has migrated the shared database.',
              },
            );
          }
          const all = migrations(this.location.schema);
          for (let v = have; v < all.length; v++) await c.query(all[v]!);
          if (r.rows.length === 0) await c.query(`INSERT INTO ${this.s}.meta (version) VALUES ($1)`, [all.length]);
          else await c.query(`UPDATE ${this.s}.meta SET version = $1`, [all.length]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }).catch((err: unknown) => {
        this.ready = null;
        throw err;
      });
    }
    return this.ready;
  }

  /** Reads a workspace's state without locking; null when the key holds none. */
  async load<K extends StateKind>(target: PgTarget<K>): Promise<StateOf<K> | null> {
    const row = await this.withClient((c) => readRow(c, this.s, target.key));
    if (!row) return null;
    return this.parseRow(target, row).state;
  }

  private parseRow<K extends StateKind>(target: PgTarget<K>, row: StateRow): { state: StateOf<K> } {
    const label = this.labelOf(target.key);
    if (row.kind !== target.kind) {
      throw new AppError('state-mismatch', `${label} holds a ${row.kind} state, not a ${target.kind} state.`, {
        path: label,
        hint: 'Give this workspace its own key in the backend URL configuration.',
      });
    }
    const { state } = parseState(target.kind, row.body, label);
    checkIdentity(target, state, label);
    return { state };
  }

  /**
   * Runs `fn` holding the workspace's server-side lock for its whole duration. Waits up to the lock timeout
   * (cancellable), then answers `state-locked` naming the holder.
   */
  async transaction<K extends StateKind, T>(
    target: PgTarget<K>,
    operation: string,
    fn: (tx: PgTx<K>) => Promise<T>,
    opts: { readonly signal?: AbortSignal; readonly waitSignal?: AbortSignal; readonly timeoutMs?: number } = {},
  ): Promise<T> {
    // `waitSignal` cancels only the wait for the lock (an operation's cancel): once held, the callback runs to its end.
    const waitSignal = opts.signal ?? opts.waitSignal;
    throwIfCancelled(waitSignal);
    return this.withClient(async (c) => {
      const lockId = randomUUID();
      const deadline = Date.now() + (opts.timeoutMs ?? this.limits.lockTimeoutMs);
      let delay = 20;
      for (;;) {
        const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS, target.key]);
        if (got.rows[0]?.ok) break;
        throwIfCancelled(waitSignal);
        if (Date.now() >= deadline) {
          const holder = await this.lockInfoWith(c, target.key);
          const label = this.labelOf(target.key);
          throw new AppError(
            'state-locked',
            holder
              ? `${label} is locked by ${holder.host} (pid ${holder.pid}): ${holder.operation}, since ${holder.since}.`
              : `${label} is locked by another Clusterdesk.`,
            {
              path: label,
              hint: 'Wait for that operation to finish. The lock is held by the database and goes away by itself when its holder ends or loses its connection.',
              ...(holder ? { details: { holder } } : {}),
            },
          );
        }
        await sleep(Math.min(delay, Math.max(1, deadline - Date.now())), waitSignal);
        delay = Math.min(delay * 2, 200);
      }
      let announced = false;
      try {
        throwIfCancelled(waitSignal);
        await c.query(
          `INSERT INTO ${this.s}.locks (key, id, holder_user, holder_host, holder_pid, operation, since, backend_pid)
           VALUES ($1, $2, $3, $4, $5, $6, now(), pg_backend_pid())
           ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id, holder_user = EXCLUDED.holder_user, holder_host = EXCLUDED.holder_host,
             holder_pid = EXCLUDED.holder_pid, operation = EXCLUDED.operation, since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid`,
          [target.key, lockId, currentUser(), hostname(), process.pid, operation],
        );
        // Every open Clusterdesk shows the holder at once ("locked by alice@ws2: stop, since 10:02").
        await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ key: target.key, lock: 'taken' })]);
        announced = true;
        const tx = new PgTransaction<K>(this, c, target, lockId, opts.signal);
        try {
          return await fn(tx);
        } finally {
          tx.close();
        }
      } finally {
        await c.query(`DELETE FROM ${this.s}.locks WHERE key = $1 AND id = $2`, [target.key, lockId]).catch(() => undefined);
        await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, target.key]).catch(() => undefined);
        if (announced)
          await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ key: target.key, lock: 'released' })]).catch(() => undefined);
      }
    });
  }

  async update<K extends StateKind>(
    target: PgTarget<K>,
    operation: string,
    fn: (current: StateOf<K> | null) => StateOf<K> | Promise<StateOf<K>>,
    opts: { readonly baseSerial?: number; readonly signal?: AbortSignal } = {},
  ): Promise<Written<StateOf<K>>> {
    return this.transaction(target, operation, (tx) => tx.update(fn, opts.baseSerial !== undefined ? { baseSerial: opts.baseSerial } : {}), {
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** The holder of a workspace's lock, or null. A row whose connection no longer holds the lock is gone already. */
  async lockInfo(target: Pick<PgTarget, 'key'>): Promise<LockHolder | null> {
    return this.withClient((c) => this.lockInfoWith(c, target.key));
  }

  private async lockInfoWith(c: pg.ClientBase, key: string): Promise<LockHolder | null> {
    const r = await c.query<{ id: string; holder_user: string; holder_host: string; holder_pid: number; operation: string; since: Date; live: boolean }>(
      `SELECT l.id, l.holder_user, l.holder_host, l.holder_pid, l.operation, l.since,
              EXISTS (SELECT 1 FROM pg_locks p WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
                        AND p.classid = ($2::int)::oid AND p.objid = (hashtext($1))::oid AND p.objsubid = 2) AS live
         FROM ${this.s}.locks l WHERE l.key = $1`,
      [key, LOCK_CLASS >>> 0],
    );
    const row = r.rows[0];
    if (!row || !row.live) return null;
    return {
      id: row.id,
      pid: row.holder_pid,
      host: `${row.holder_user}@${row.holder_host}`,
      operation: row.operation,
      since: row.since.toISOString(),
      stale: false,
    };
  }

  /** Every generation in history, newest first, each checked. */
  async backups(target: PgTarget): Promise<BackupEntry[]> {
    const gens = await this.history(target.key);
    return gens.map((g) => {
      const file = this.labelOf(target.key);
      const id = `history:${g.serial}`;
      try {
        const { state } = parseState(target.kind, g.text, `${file}@${g.serial}`);
        const { status, count } = summarize(state);
        return {
          id,
          source: 'history' as const,
          file,
          valid: true,
          serial: typeof state.serial === 'number' ? state.serial : g.serial,
          lineage: typeof state.lineage === 'string' ? state.lineage : null,
          savedAt: typeof state.last_modified === 'string' ? state.last_modified : g.savedAt,
          status,
          count,
        };
      } catch (err) {
        return {
          id,
          source: 'history' as const,
          file,
          valid: false,
          error: err instanceof Error ? err.message : String(err),
          serial: g.serial,
          lineage: null,
          savedAt: g.savedAt,
          status: null,
          count: null,
        };
      }
    });
  }

  /** Raw generations of a key, newest first. */
  async history(key: string): Promise<RawGeneration[]> {
    return this.withClient(async (c) => {
      const r = await c.query<{ serial: string; body: string; saved_at: Date }>(
        `SELECT serial, body, saved_at FROM ${this.s}.history WHERE key = $1 ORDER BY serial DESC`,
        [key],
      );
      return r.rows.map((row) => ({ serial: Number(row.serial), text: row.body, savedAt: row.saved_at.toISOString() }));
    });
  }

  /** Writes a generation from history as a new one (serial moves on; another lineage needs `adopt`). */
  async restore<K extends StateKind>(target: PgTarget<K>, backupId: string, opts: { readonly adopt?: boolean } = {}): Promise<Written<StateOf<K>>> {
    const m = HISTORY_ID.exec(backupId);
    const label = this.labelOf(target.key);
    if (!m)
      throw new AppError('invalid-argument', `Unknown backup id "${backupId}".`, {
        path: label,
        hint: 'Pick a backup from the list (clusterdesk state backups).',
      });
    const serial = Number(m[1]);
    return this.transaction(target, 'restore', async (tx) => {
      const t = tx as PgTransaction<K>;
      const text = await t.historyText(serial);
      if (text === null)
        throw new AppError('not-found', `${label} has no generation ${serial} (any more).`, { path: label, hint: 'List the backups again and pick one.' });
      const { state } = parseState(target.kind, text, `${label}@${serial}`);
      const row = await t.row();
      const expected = target.lineage ?? row?.lineage ?? null;
      const found = typeof state.lineage === 'string' ? state.lineage : null;
      if (expected && found && found !== expected && !opts.adopt) throw foreignError(`${label}@${serial}`, found, expected);
      return t.writeInternal(state, { restoreLineage: expected ?? found ?? newLineage() });
    });
  }

  /**
   * Writes generations verbatim (push): refuses when the key holds another lineage unless `adopt`. Runs in one SQL
   * transaction under the workspace lock: all or nothing.
   */
  async importGenerations(
    target: PgTarget,
    generations: readonly RawGeneration[],
    opts: { readonly adopt?: boolean; readonly signal?: AbortSignal } = {},
  ): Promise<{ serial: number; lineage: string }> {
    const label = this.labelOf(target.key);
    if (generations.length === 0) throw new AppError('not-found', `Nothing to push: the source holds no state.`, { path: label });
    // Moved verbatim, except that no secret ever reaches the database (a file written by an older version may hold one).
    const sorted = [...generations].map((g) => ({ ...g, text: redactedCopyForHistory(g.text).text })).sort((a, b) => a.serial - b.serial);
    const newest = sorted[sorted.length - 1]!;
    const { state } = parseState(target.kind, newest.text, `${label} (pushed)`);
    const lineage = typeof state.lineage === 'string' ? state.lineage : null;
    if (!lineage || typeof state.serial !== 'number') {
      throw new AppError('state-corrupt', 'The source state has no lineage or serial; write it once with Clusterdesk first (adopt it).', { path: label });
    }
    return this.transaction(
      target,
      'push',
      async (tx) => {
        const t = tx as PgTransaction<StateKind>;
        const row = await t.row();
        if (row && row.lineage !== lineage && !opts.adopt) throw foreignError(label, row.lineage, lineage);
        if (row && row.lineage === lineage && row.serial > state.serial!) throw staleError(label, state.serial!, row.serial);
        await t.raw(async (c) => {
          await c.query('BEGIN');
          try {
            if (opts.adopt) await c.query(`DELETE FROM ${this.s}.history WHERE key = $1`, [target.key]);
            for (const g of sorted) {
              await c.query(
                `INSERT INTO ${this.s}.history (key, serial, lineage, body, saved_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (key, serial) DO UPDATE SET body = EXCLUDED.body, lineage = EXCLUDED.lineage, saved_at = EXCLUDED.saved_at`,
                [target.key, g.serial, lineage, g.text, g.savedAt],
              );
            }
            await c.query(
              `INSERT INTO ${this.s}.states (key, kind, lineage, serial, updated_at) VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, updated_at = now()`,
              [target.key, target.kind, lineage, state.serial],
            );
            await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ key: target.key, serial: state.serial, lineage })]);
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        });
        return { serial: state.serial!, lineage };
      },
      opts.signal ? { signal: opts.signal } : {},
    );
  }

  /** The current generation's exact text, or null. */
  async currentText(key: string): Promise<string | null> {
    return this.withClient(async (c) => (await readRow(c, this.s, key))?.body ?? null);
  }

  /**
   * LISTENs for committed generations. Reconnects by itself (backing off up to 5 s) and reports its connection
   * status; after a reconnect it reports `{ key: '*' }` so the caller re-reads what it shows (changes made while it
   * was away have no notification).
   */
  watch(onChange: (change: PgChange) => void, onStatus: (status: { connected: boolean; error?: AppError }) => void = () => undefined): () => void {
    let stopped = false;
    let client: pg.Client | null = null;
    let backoff = 250;
    let everConnected = false;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const password = await libpqPassword(this.location);
      const c = new pg.Client({
        connectionString: this.location.connectionString,
        ...(password !== undefined ? { password } : {}),
        connectionTimeoutMillis: 5000,
      });
      client = c;
      const retry = (err: unknown) => {
        if (client !== c) return;
        client = null;
        c.removeAllListeners('notification');
        c.end().catch(() => undefined);
        if (stopped) return;
        onStatus({
          connected: false,
          error:
            connectionError(err, this.location) ?? new AppError('backend-unreachable', String(err), { host: `${this.location.host}:${this.location.port}` }),
        });
        setTimeout(() => void connect(), backoff).unref?.();
        backoff = Math.min(backoff * 2, 5000);
      };
      c.on('error', retry);
      c.on('end', () => retry(new Error('Connection terminated')));
      c.on('notification', (msg) => {
        if (msg.channel !== NOTIFY_CHANNEL || !msg.payload) return;
        try {
          const p = JSON.parse(msg.payload) as { key?: unknown; serial?: unknown; lineage?: unknown; lock?: unknown };
          if (typeof p.key === 'string')
            onChange({
              key: p.key,
              serial: typeof p.serial === 'number' ? p.serial : null,
              lineage: typeof p.lineage === 'string' ? p.lineage : null,
              ...(p.lock === 'taken' || p.lock === 'released' ? { lock: p.lock } : {}),
            });
        } catch {
          // not ours
        }
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
        if (stopped) {
          await c.end().catch(() => undefined);
          return;
        }
        backoff = 250;
        onStatus({ connected: true });
        if (everConnected) onChange({ key: '*', serial: null, lineage: null });
        everConnected = true;
      } catch (err) {
        retry(err);
      }
    };
    void connect();
    return () => {
      stopped = true;
      const c = client;
      client = null;
      c?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }

  /** @internal */
  warn(message: string): void {
    this.onWarning(message);
  }
}

interface StateRow {
  readonly kind: StateKind;
  readonly lineage: string;
  readonly serial: number;
  readonly body: string;
}

async function readRow(c: pg.ClientBase, s: string, key: string, forUpdate = false): Promise<StateRow | null> {
  const r = await c.query<{ kind: StateKind; lineage: string; serial: string; body: string }>(
    `SELECT s.kind, s.lineage, s.serial, h.body FROM ${s}.states s JOIN ${s}.history h ON h.key = s.key AND h.serial = s.serial
      WHERE s.key = $1${forUpdate ? ' FOR UPDATE OF s' : ''}`,
    [key],
  );
  const row = r.rows[0];
  return row ? { kind: row.kind, lineage: row.lineage, serial: Number(row.serial), body: row.body } : null;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

function checkIdentity(target: PgTarget, state: AnyState, label: string): void {
  const lineage = typeof state.lineage === 'string' ? state.lineage : null;
  if (target.lineage && lineage && lineage !== target.lineage) throw foreignError(label, lineage, target.lineage);
  if (target.kind === 'cluster' && target.clusterName && !isFederationState(state) && state.cluster_name !== target.clusterName) {
    throw mismatchError(label, state.cluster_name, target.clusterName);
  }
}

class PgTransaction<K extends StateKind> implements PgTx<K> {
  private closed = false;

  constructor(
    private readonly backend: PgStateBackend,
    private readonly client: pg.PoolClient,
    readonly target: PgTarget<K>,
    readonly lockId: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  close(): void {
    this.closed = true;
  }

  private get s(): string {
    return `"${this.backend.location.schema}"`;
  }

  private label(): string {
    return this.backend.labelOf(this.target.key);
  }

  private assertOpen(): void {
    if (this.closed)
      throw new AppError('internal', `The transaction on ${this.label()} has ended; its handle cannot be used any more.`, { path: this.label() });
  }

  /** @internal */
  async row(): Promise<StateRow | null> {
    return readRow(this.client, this.s, this.target.key);
  }

  /** @internal */
  async raw<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    return fn(this.client);
  }

  /** @internal */
  async historyText(serial: number): Promise<string | null> {
    const r = await this.client.query<{ body: string }>(`SELECT body FROM ${this.s}.history WHERE key = $1 AND serial = $2`, [this.target.key, serial]);
    return r.rows[0]?.body ?? null;
  }

  async read(): Promise<StateOf<K> | null> {
    this.assertOpen();
    const row = await this.row();
    if (!row) return null;
    const label = this.label();
    if (row.kind !== this.target.kind)
      throw new AppError('state-mismatch', `${label} holds a ${row.kind} state, not a ${this.target.kind} state.`, { path: label });
    const { state } = parseState(this.target.kind, row.body, label);
    checkIdentity(this.target, state, label);
    return state;
  }

  async write(next: StateOf<K>, opts: PgWriteOptions = {}): Promise<Written<StateOf<K>>> {
    return this.writeInternal(next, opts);
  }

  async update(
    fn: (current: StateOf<K> | null) => StateOf<K> | Promise<StateOf<K>>,
    opts: { readonly baseSerial?: number } = {},
  ): Promise<Written<StateOf<K>>> {
    const current = await this.read();
    if (opts.baseSerial !== undefined && (current?.serial ?? 0) > opts.baseSerial) throw staleError(this.label(), opts.baseSerial, current?.serial ?? 0);
    return this.writeInternal(await fn(current), opts.baseSerial !== undefined ? { baseSerial: opts.baseSerial } : {});
  }

  async remove(): Promise<void> {
    this.assertOpen();
    throwIfCancelled(this.signal);
    const c = this.client;
    await c.query('BEGIN');
    try {
      const row = await readRow(c, this.s, this.target.key, true);
      if (row) {
        const { state } = parseState(this.target.kind, row.body, this.label());
        checkIdentity(this.target, state, this.label());
        await c.query(`DELETE FROM ${this.s}.states WHERE key = $1`, [this.target.key]);
        await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ key: this.target.key, serial: null, lineage: row.lineage })]);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** @internal */
  async writeInternal(next: StateOf<K>, opts: PgWriteOptions & { readonly restoreLineage?: string }): Promise<Written<StateOf<K>>> {
    this.assertOpen();
    throwIfCancelled(this.signal);
    const kind = this.target.kind;
    const label = this.label();
    if (typeof next !== 'object' || next === null) throw new AppError('internal', `Refusing to write a non-object ${kind} state to ${label}.`, { path: label });
    if (kind === 'cluster' && this.target.clusterName) {
      const name = (next as { cluster_name?: unknown }).cluster_name;
      if (typeof name === 'string' && name !== this.target.clusterName) throw mismatchError(label, name, this.target.clusterName);
    }
    const c = this.client;
    await c.query('BEGIN');
    try {
      const row = await readRow(c, this.s, this.target.key, true);
      const restoring = opts.restoreLineage !== undefined;
      if (row && !restoring) {
        if (row.kind !== kind) throw new AppError('state-mismatch', `${label} holds a ${row.kind} state, not a ${kind} state.`, { path: label });
        if (this.target.lineage && row.lineage !== this.target.lineage && !opts.adoptLineage) throw foreignError(label, row.lineage, this.target.lineage);
      }
      if (opts.baseSerial !== undefined && (row?.serial ?? 0) > opts.baseSerial) throw staleError(label, opts.baseSerial, row?.serial ?? 0);
      const top = await c.query<{ top: string | null; lineage: string | null }>(
        `SELECT max(serial) AS top, (SELECT lineage FROM ${this.s}.history WHERE key = $1 ORDER BY serial DESC LIMIT 1) AS lineage FROM ${this.s}.history WHERE key = $1`,
        [this.target.key],
      );
      const historyTop = Number(top.rows[0]?.top ?? 0);
      const floor = opts.minSerial !== undefined && Number.isSafeInteger(opts.minSerial) ? opts.minSerial : 0;
      const serial = Math.max(Math.max(row?.serial ?? 0, historyTop) + 1, floor);
      const nextLineage = typeof next.lineage === 'string' && next.lineage ? next.lineage : null;
      const lineage =
        opts.restoreLineage ??
        (opts.adoptLineage && nextLineage ? nextLineage : null) ??
        row?.lineage ??
        this.target.lineage ??
        top.rows[0]?.lineage ??
        nextLineage ??
        newLineage();
      let out = { ...next, version: STATE_FORMAT_VERSION, serial, lineage, last_modified: isoNow() } as Written<StateOf<K>>;
      out = structuredClone(out);
      const removed = stripSecrets(out);
      if (removed.length > 0) this.backend.warn(`Not storing secrets in ${label}: dropped ${removed.join(', ')}.`);
      const result = (kind === 'cluster' ? clusterStateSchema : federationStateSchema).safeParse(out);
      if (!result.success) {
        throw new AppError('internal', `Refusing to write an invalid ${kind} state to ${label}: ${result.error.issues[0]?.message ?? 'invalid'}.`, {
          path: label,
          hint: 'This is a bug in Clusterdesk; the previous state is intact. Please report it with the log.',
        });
      }
      const text = serializeState(out);
      await c.query(
        `INSERT INTO ${this.s}.history (key, serial, lineage, body) VALUES ($1, $2, $3, $4) ON CONFLICT (key, serial) DO UPDATE SET body = EXCLUDED.body, lineage = EXCLUDED.lineage`,
        [this.target.key, serial, lineage, text],
      );
      await c.query(
        `INSERT INTO ${this.s}.states (key, kind, lineage, serial, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, updated_at = now()`,
        [this.target.key, kind, lineage, serial],
      );
      await c.query(
        `DELETE FROM ${this.s}.history WHERE key = $1 AND serial NOT IN (SELECT serial FROM ${this.s}.history WHERE key = $1 ORDER BY serial DESC LIMIT $2)`,
        [this.target.key, this.backend.historyLimit],
      );
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ key: this.target.key, serial, lineage })]);
      throwIfCancelled(this.signal);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
