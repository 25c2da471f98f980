import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { StoreError, type Result } from '../core/result.js';
import type { TicketOverview, TicketQuery } from '../core/store.port.js';
import { prepareStoreFiles, tightenSidecars } from './file-modes.js';
import { checkStoreFile } from './store-file.js';
import * as list from './list-queries.js';
import { assertNotNewer, assertOursOrEmpty, migrate, SCHEMA_VERSION } from './migrations.js';
import * as q from './queries.js';
import type { TicketRow } from './rows.js';
import { runSync, type Op } from './sql-op.js';
import { Ctx, isBusy, runRead, runWrite, runWriteOrThrow } from './sqlite-common.js';
import { OpStore } from './op-store.js';

export { SCHEMA_VERSION } from './migrations.js';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The SQLite adapter of the store port: one connection, every mutation one immediate transaction. The
 * operations are the dialect-neutral generators of ticket-ops, message-ops, queries and list-queries; this
 * class only drives them synchronously (runSync) over its statement cache, plus the streaming fast paths.
 */
export class SqliteStore extends OpStore {
  private readonly c: Ctx;
  readonly storeId: string;
  private sidecarsPrivate = false;
  private lastDataVersion = -1;
  private token = 0;
  private ownCommit = false;

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    /** Permission problems found on open and left alone (shared directory, foreign owner), for `mcc doctor`. */
    readonly permissionNotes: readonly string[] = [],
  ) {
    super();
    this.c = new Ctx(db);
    const id = this.c.stmt("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined;
    if (id === undefined) throw new Error(`the store at ${location} has no store_id in its meta table`);
    this.storeId = id.value;
    this.sidecarsPrivate = tightenSidecars(location);
  }

  // data_version only moves for other connections' commits; our own commits make the next changeToken look.
  private readonly committed = (): void => {
    this.ownCommit = true;
    if (!this.sidecarsPrivate) this.sidecarsPrivate = tightenSidecars(this.location);
  };

  /** Run the operation `op()` makes as one immediate transaction (a retry after busy makes a fresh one). */
  protected write<T>(op: () => Op<T>): Promise<Result<T>> {
    return runWrite(this.c, op, this.committed);
  }

  protected writeOrThrow<T>(op: () => Op<T>): Promise<T> {
    return runWriteOrThrow(this.c, op, this.committed);
  }

  /** Run the read operation `op()` makes inside one read transaction. */
  protected read<T>(op: () => Op<T>): Promise<T> {
    return runRead(this.db, () => runSync(op(), this.c.exec));
  }

  async eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<number> {
    // One statement walked inside one read transaction: a consistent snapshot, one row in memory at a time.
    // A busy WAL index is met on the first step, before any row; a retry after rows went out would repeat them.
    const walk = list.overviewWalk(query);
    if (walk === null) return 0;
    let visited = 0;
    return runRead(this.db, () => {
      if (visited > 0)
        throw new StoreError(`store ${this.location}: a walk of the tickets broke off after ${visited} rows`);
      for (const row of this.c.iterate<TicketRow & Record<string, unknown>>(walk.sql, walk.params)) {
        visited++;
        visit(q.toOverview(row));
      }
      return visited;
    });
  }

  async ticketVersions(): Promise<Map<string, number>> {
    return runRead(this.db, () => new Map(this.c.raw<[string, number]>(q.TICKET_VERSIONS_SQL)));
  }

  /**
   * The revision migration 7's triggers keep (tickets, runtimes, messages), read again only when some commit
   * happened since the last read (data_version moves for other connections' commits, `committed` for ours).
   * Leases and heartbeats leave it alone, so a daemon renewing its lease makes no console reload.
   */
  async changeToken(): Promise<number> {
    const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    if (dataVersion !== this.lastDataVersion || this.ownCommit) {
      this.lastDataVersion = dataVersion;
      this.ownCommit = false;
      const row = this.c.stmt("SELECT value FROM sequences WHERE name = 'revision'").get() as
        { value: number } | undefined;
      // No revision row (hand-edited store): every commit counts as a change.
      this.token = row === undefined ? this.token + 1 : row.value;
    }
    return this.token;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function withBusyRetry<T>(fn: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      // Switching to WAL needs a moment of exclusivity, which a concurrent opener can deny past busy_timeout.
      if (!isBusy(err) || attempt >= 5) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25 * attempt + Math.random() * 50);
    }
  }
}

/** A failure while opening, said with the file it concerns (SQLite's own words name no file). */
function openError(err: unknown, path: string): Error {
  if (!(err instanceof Error) || err.message.includes(path)) return err instanceof Error ? err : new Error(String(err));
  const raw = (err as Error & { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  const damaged = code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');
  if (code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR')) {
    // The machine's fault, not the operator's input (exit 1): a full or failing disk under the store.
    return new StoreError(
      `store ${path}: cannot be opened: ${err.message} (${code}); is the disk holding it full? nothing was changed`,
      { cause: err },
    );
  }
  return new Error(
    `the store at ${path} cannot be opened: ${err.message}${code ? ` (${code})` : ''}` +
      (damaged ? '; it is damaged: nothing was changed (move it aside, or restore it from a backup)' : ''),
    { cause: err },
  );
}

/** Open (creating and migrating as needed) the store at `path`; throws, naming the file, if it is unusable. */
export function openSqliteStore(path: string, opts: { busyTimeoutMs?: number } = {}): SqliteStore {
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  // Before any chmod or SQLite call: a directory, a foreign file or a read-only store is reported untouched.
  checkStoreFile(path, SCHEMA_VERSION);
  // A new store is created private; an existing one has its modes tightened only once it is known to be ours.
  const existed = existsSync(path);
  let db: Database.Database;
  let notes: string[] = [];
  try {
    if (!existed) notes = prepareStoreFiles(path);
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (err) {
    throw openError(err, path);
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // Before anything writes (even the journal mode lives in the file header): a newer store stays untouched.
    withBusyRetry(() => assertNotNewer(db, path));
    withBusyRetry(() => assertOursOrEmpty(db, path));
    if (existed) notes = prepareStoreFiles(path);
    const mode = withBusyRetry(() => db.pragma('journal_mode = WAL', { simple: true }));
    if (mode !== 'wal') {
      throw new Error(
        `the store at ${path} cannot use WAL (journal_mode is ${String(mode)}); is it on a network filesystem?`,
      );
    }
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    withBusyRetry(() => migrate(db, path));
    return new SqliteStore(db, path, notes);
  } catch (err) {
    db.close();
    throw openError(err, path);
  }
}
