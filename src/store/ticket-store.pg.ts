import type pg from 'pg';
import { fail, ok, StoreError, type Result } from '../core/result.js';
import type { TicketOverview, TicketQuery } from '../core/store.port.js';
import { COMMANDS_CHANNEL } from './command-ops.js';
import { overviewWalk } from './list-queries.js';
import { OpStore } from './op-store.js';
import { createPgPool, parsePgUrl, scrubPassword, withPgTransaction, type PgLocation } from './pg/connect.js';
import { PgListener } from './pg/listen.js';
import { CHANGED_CHANNEL, migratePg } from './pg/migrations.js';
import { toPg } from './pg/sql.js';
import { TICKET_VERSIONS_SQL, toOverview } from './queries.js';
import type { TicketRow } from './rows.js';
import { Refusal, runAsync, type Op, type Stmt } from './sql-op.js';

// The PostgreSQL adapter of the store port: the same sql-op operations as SQLite (OpStore), each one
// SERIALIZABLE transaction, retried whole on a serialization failure, a deadlock or a lost connection, so
// several hosts' daemons and consoles can write one store safely. What cannot be known is never success: a
// connection lost during COMMIT is `store_failed` saying the change may or may not have been saved.

/** Rows per round trip of a streamed walk (eachOverview): bounded memory, few round trips. */
const WALK_PAGE = 500;

export interface PgStoreOptions {
  /** Connections at most (default 4). */
  poolMax?: number;
  /** Give up retrying a transaction after this long (default 5 s). */
  deadlineMs?: number;
  /** Where connection trouble is reported (default: nowhere; the failing call reports it too). */
  log?: (message: string) => void;
}

export class PgStore extends OpStore {
  readonly location: string;
  private token = 0;
  private readonly listener: PgListener;
  private ending: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly loc: PgLocation,
    readonly storeId: string,
    private readonly opts: PgStoreOptions = {},
  ) {
    super();
    this.location = loc.redacted;
    this.listener = new PgListener(loc, opts.log);
    // A lost or new notification connection may have missed changes: move the token so readers reload.
    this.listener.onReset = () => {
      this.token++;
    };
  }

  /** Run one statement an operation yields on the transaction's connection. */
  private async exec(client: pg.PoolClient, s: Stmt): Promise<unknown> {
    const res = await client.query(toPg(s.sql, s.params));
    if (s.kind === 'get') return res.rows[0];
    if (s.kind === 'all') return res.rows;
    return { changes: res.rowCount ?? 0 };
  }

  private failure(kind: string, message: string): StoreError {
    return new StoreError(`store ${this.location}: ${message}${kind === 'unknown' ? '' : '; nothing was written'}`);
  }

  protected async write<T>(op: () => Op<T>): Promise<Result<T>> {
    let out;
    try {
      out = await withPgTransaction(
        this.pool,
        { isolation: 'serializable' },
        (client) => runAsync(op(), (s) => this.exec(client, s)),
        { location: this.loc, deadlineMs: this.opts.deadlineMs ?? 5000 },
      );
    } catch (err) {
      if (err instanceof Refusal) return err.failure;
      throw err;
    }
    switch (out.kind) {
      case 'ok':
        this.token++;
        return ok(out.value);
      case 'busy':
      case 'unique':
        return fail('conflict', `store ${this.location}: ${out.message}; nothing was written, try again`);
      case 'unknown':
        return fail(
          'store_failed',
          `store ${this.location}: ${out.message}; look before retrying (mcc show, mcc list)`,
        );
      case 'unavailable':
      case 'fault':
        return fail('store_failed', this.failure(out.kind, out.message).message);
      default: {
        const never: never = out;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
  }

  protected async writeOrThrow<T>(op: () => Op<T>): Promise<T> {
    const res = await this.write(op);
    if (!res.ok) throw new StoreError(res.message);
    return res.value;
  }

  /** One consistent snapshot (REPEATABLE READ, read only) for all of `fn`'s statements. */
  private async snapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const out = await withPgTransaction(this.pool, { isolation: 'repeatable read', readOnly: true }, fn, {
      location: this.loc,
      deadlineMs: this.opts.deadlineMs ?? 5000,
    });
    if (out.kind === 'ok') return out.value;
    throw this.failure('read', out.message);
  }

  protected read<T>(op: () => Op<T>): Promise<T> {
    return this.snapshot((client) => runAsync(op(), (s) => this.exec(client, s)));
  }

  async eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<number> {
    // Keyset pages of the shared walk inside one snapshot: consistent, and never every row in memory at once.
    // A retry after rows went out would repeat them, so a walk that broke off is an error, never a rerun.
    let visited = 0;
    return this.snapshot(async (client) => {
      if (visited > 0)
        throw new StoreError(`store ${this.location}: a walk of the tickets broke off after ${visited} rows`);
      let after = query.after;
      let left = query.limit ?? Infinity;
      for (;;) {
        const page = Math.min(WALK_PAGE, left);
        if (page <= 0) return visited;
        const walk = overviewWalk({ ...query, limit: page, ...(after === undefined ? {} : { after }) });
        if (walk === null) return visited;
        const res = await client.query<TicketRow & Record<string, unknown>>(toPg(walk.sql, walk.params));
        for (const row of res.rows) {
          visited++;
          visit(toOverview(row));
        }
        left -= res.rows.length;
        if (res.rows.length < page) return visited;
        after = (res.rows[res.rows.length - 1] as TicketRow).key;
      }
    });
  }

  async ticketVersions(): Promise<Map<string, number>> {
    return this.snapshot(async (client) => {
      const res = await client.query<[string, number]>({ text: TICKET_VERSIONS_SQL, rowMode: 'array' });
      return new Map(res.rows);
    });
  }

  /**
   * Moves on every commit of ours and every change another process commits to tickets, runtimes or messages
   * (a NOTIFY from the schema's triggers). While the notification connection is down, it moves on every call:
   * readers reload rather than trust a cache they cannot vouch for.
   */
  async changeToken(): Promise<number> {
    if (!this.listenerStarted) {
      this.listenerStarted = true;
      this.listener.on(CHANGED_CHANNEL, () => {
        this.token++;
      });
    }
    if (!this.listener.connected) this.token++;
    return this.token;
  }
  private listenerStarted = false;

  /**
   * Call `fn` whenever a command is queued for `host` (a hint: the caller still polls), and once each time the
   * notification connection is back after a loss: a command queued while it was down was never notified.
   */
  onCommandQueued(host: string, fn: () => void): () => void {
    const offNotify = this.listener.on(COMMANDS_CHANNEL, (payload) => {
      if (payload === host) fn();
    });
    const offReconnect = this.listener.onReconnect(fn);
    return () => {
      offNotify();
      offReconnect();
    };
  }

  close(): void {
    this.ending ??= Promise.all([this.listener.close(), this.pool.end().catch(() => undefined)]).then(() => undefined);
  }

  /** Resolves once the pool and the notification connection are closed. */
  closed(): Promise<void> {
    this.close();
    return this.ending ?? Promise.resolve();
  }
}

/**
 * Open (creating and migrating as needed) the PostgreSQL store at `url`; throws, naming the redacted location
 * and never the password, when the URL is bad, the server cannot be reached or the database is not mcc's.
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
  const parsed = parsePgUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  const loc = parsed.value;
  const pool = createPgPool(loc, {
    ...(opts.poolMax === undefined ? {} : { max: opts.poolMax }),
    ...(opts.log === undefined ? {} : { onConnectionError: opts.log }),
  });
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreError(
      `store ${loc.redacted}: cannot connect: ${scrubPassword(err instanceof Error ? err.message || String(err) : String(err), loc)}; nothing was changed`,
    );
  }
  try {
    await migratePg(client, loc.redacted);
    const row = await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'store_id'");
    const storeId = row.rows[0]?.value;
    if (storeId === undefined) throw new Error(`the store at ${loc.redacted} has no store_id in its meta table`);
    client.release();
    return new PgStore(pool, loc, storeId, opts);
  } catch (err) {
    client.release(err instanceof Error ? err : undefined);
    await pool.end().catch(() => undefined);
    if (err instanceof Error) err.message = scrubPassword(err.message, loc);
    throw err;
  }
}
