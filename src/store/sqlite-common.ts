import type Database from 'better-sqlite3';
import { fail, ok, StoreError, type Failure, type Result } from '../core/result.js';
import { Refusal, runSync, type Op, type Params, type RunInfo, type Stmt } from './sql-op.js';

// What only the SQLite adapter has: the prepared-statement cache and the executor that answers an
// operation's statements from it, the iterate/raw fast paths, the transaction runners (busy retry, SQLITE_*
// faults named for the operator). The operations themselves are dialect-neutral (sql-op.ts, op-common.ts).

function isList(p: Params): p is readonly unknown[] {
  return Array.isArray(p);
}

/** A connection with a prepared-statement cache; operations' statements are run through `exec`. */
export class Ctx {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  /** The cached prepared statement for `sql`. */
  stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** Answer one statement of an operation (see sql-op.ts) synchronously. */
  readonly exec = (s: Stmt): unknown => {
    const st = this.stmt(s.sql);
    const p = s.params;
    switch (s.kind) {
      case 'get':
        return isList(p) ? st.get(...p) : st.get(p);
      case 'all':
        return isList(p) ? st.all(...p) : st.all(p);
      case 'run': {
        const info = isList(p) ? st.run(...p) : st.run(p);
        return { changes: info.changes } satisfies RunInfo;
      }
    }
  };

  /** Rows one at a time; the connection runs nothing else until the loop ends (better-sqlite3 refuses). */
  iterate<T>(sql: string, params: readonly unknown[] = []): IterableIterator<T> {
    return this.stmt(sql).iterate(...params) as IterableIterator<T>;
  }

  /** Rows as arrays, not objects (much cheaper for wide scans); a statement used here is only used raw. */
  raw<T>(sql: string): T[] {
    return this.stmt(sql).raw(true).all() as T[];
  }
}

function sqliteCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : '';
}

/** SQLITE_BUSY / SQLITE_LOCKED and their extended codes: another connection held the lock too long. */
export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/** What a store write meets on a real machine that no retry fixes: named for the operator, never a stack trace. */
const STORE_FAULTS: readonly (readonly [prefix: string, what: string])[] = [
  ['SQLITE_FULL', 'the disk holding it is full'],
  ['SQLITE_IOERR', 'an I/O error'],
  ['SQLITE_READONLY', 'it cannot be written (read-only)'],
  ['SQLITE_CORRUPT', 'the file is damaged'],
  ['SQLITE_CANTOPEN', 'a file it needs cannot be opened'],
];

/** A write failure the operator must fix (free the disk, fix the file), as a Failure naming the store file. */
export function storeFault(db: Database.Database, err: unknown): Failure | null {
  const code = sqliteCode(err);
  const fault = STORE_FAULTS.find(([prefix]) => code.startsWith(prefix));
  if (!fault) return null;
  return fail(
    'store_failed',
    `store ${db.name}: ${fault[1]} (${code}); nothing was written${fault[0] === 'SQLITE_FULL' ? ': free space and try again' : ''}`,
  );
}

const BUSY_ATTEMPTS = 4;

function sleep(msDelay: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msDelay));
}

/**
 * Run the operation `op()` makes as one IMMEDIATE transaction, its statements answered synchronously by `c`
 * (no await can split its read-decide-write). A Refusal rolls back and becomes its Failure. busy_timeout
 * should make SQLITE_BUSY impossible here; if a lock is still held past it, the whole transaction is retried
 * with jitter (it is all-or-nothing, so a retry is safe; a generator runs once, so each attempt makes a fresh
 * operation) and finally reported as a conflict, never thrown.
 */
export async function runWrite<T>(c: Ctx, op: () => Op<T>, onCommit: () => void): Promise<Result<T>> {
  const { db } = c;
  const fn = (): T => runSync(op(), c.exec);
  for (let attempt = 1; ; attempt++) {
    try {
      const value = db.transaction(fn).immediate();
      onCommit();
      return ok(value);
    } catch (err) {
      if (err instanceof Refusal) return err.failure;
      const fault = storeFault(db, err);
      if (fault) return fault;
      if (!isBusy(err)) throw err;
      if (attempt >= BUSY_ATTEMPTS) {
        return fail(
          'conflict',
          `store busy: another process kept ${db.name} locked through ${attempt} attempts; try again`,
        );
      }
      await sleep(20 * attempt + Math.random() * 50);
    }
  }
}

/** runWrite for operations whose port signature has no failure channel: a Failure becomes an Error. */
export async function runWriteOrThrow<T>(c: Ctx, op: () => Op<T>, onCommit: () => void): Promise<T> {
  const result = await runWrite(c, op, onCommit);
  if (!result.ok) throw new StoreError(result.message);
  return result.value;
}

/**
 * Run `fn` as one read transaction (a consistent snapshot across its queries), retrying a busy WAL index.
 * `fn` is usually `runSync` of a read operation; the streaming walks (iterate) call it directly.
 */
export async function runRead<T>(db: Database.Database, fn: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return db.transaction(fn).deferred();
    } catch (err) {
      const fault = storeFault(db, err);
      if (fault) throw new StoreError(fault.message.replace('; nothing was written', ''));
      if (!isBusy(err) || attempt >= BUSY_ATTEMPTS) throw err;
      await sleep(20 * attempt + Math.random() * 50);
    }
  }
}
