import type Database from 'better-sqlite3';
import { fail, ok, StoreError, type ErrorCode, type Failure, type Result } from '../core/result.js';
import type { EventInput, McEvent } from '../core/types.js';
import { eventParams, toEvent, type EventRow, type MessageRow, type RuntimeRow, type TicketRow } from './rows.js';

// Shared machinery of the SQLite adapter: the statement cache, the write-transaction runner that turns
// refusals into Results, and the row look-ups and conflict messages every operation needs.

type Params = Record<string, unknown>;

/** A connection with a prepared-statement cache; operations receive it instead of the raw handle. */
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

  get<T>(sql: string, params: Params | unknown[] = {}): T | undefined {
    return (Array.isArray(params) ? this.stmt(sql).get(...params) : this.stmt(sql).get(params)) as T | undefined;
  }

  all<T>(sql: string, params: Params | unknown[] = {}): T[] {
    return (Array.isArray(params) ? this.stmt(sql).all(...params) : this.stmt(sql).all(params)) as T[];
  }

  /** Rows one at a time; the connection runs nothing else until the loop ends (better-sqlite3 refuses). */
  iterate<T>(sql: string, params: unknown[] = []): IterableIterator<T> {
    return this.stmt(sql).iterate(...params) as IterableIterator<T>;
  }

  /** Rows as arrays, not objects (much cheaper for wide scans); a statement used here is only used raw. */
  raw<T>(sql: string): T[] {
    return this.stmt(sql).raw(true).all() as T[];
  }

  run(sql: string, params: Params | unknown[] = {}): Database.RunResult {
    return Array.isArray(params) ? this.stmt(sql).run(...params) : this.stmt(sql).run(params);
  }
}

/** Thrown inside a transaction function to roll everything back and return `failure` to the caller. */
class Refusal extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Abort the current transaction with an expected failure. */
export function refuse(code: ErrorCode, message: string, holder?: string): never {
  throw new Refusal(fail(code, message, holder === undefined ? {} : { holder }));
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

/** A UNIQUE or PRIMARY KEY constraint violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
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
 * Run `fn` as one IMMEDIATE transaction. A Refusal rolls back and becomes its Failure. busy_timeout should
 * make SQLITE_BUSY impossible here; if a lock is still held past it, the whole transaction is retried with
 * jitter (it is all-or-nothing, so a retry is safe) and finally reported as a conflict, never thrown.
 */
export async function runWrite<T>(db: Database.Database, fn: () => T, onCommit: () => void): Promise<Result<T>> {
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
export async function runWriteOrThrow<T>(db: Database.Database, fn: () => T, onCommit: () => void): Promise<T> {
  const result = await runWrite(db, fn, onCommit);
  if (!result.ok) throw new StoreError(result.message);
  return result.value;
}

/** Run `fn` as one read transaction (a consistent snapshot across its queries), retrying a busy WAL index. */
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

/** The tickets row, if any. */
export function ticketRow(c: Ctx, key: string): TicketRow | undefined {
  return c.get<TicketRow>('SELECT * FROM tickets WHERE key = ?', [key]);
}

/** The runtime_sessions row, if any. */
export function runtimeRow(c: Ctx, id: number): RuntimeRow | undefined {
  return c.get<RuntimeRow>('SELECT * FROM runtime_sessions WHERE id = ?', [id]);
}

/** The messages row, if any. */
export function messageRow(c: Ctx, id: number): MessageRow | undefined {
  return c.get<MessageRow>('SELECT * FROM messages WHERE id = ?', [id]);
}

/** The ticket's one non-closed runtime (the unique partial index guarantees at most one). */
export function openRuntimeOf(c: Ctx, key: string): RuntimeRow | undefined {
  return c.get<RuntimeRow>("SELECT * FROM runtime_sessions WHERE ticket_key = ? AND status <> 'closed'", [key]);
}

/** The tickets row, or refuse with not_found. */
export function mustTicket(c: Ctx, key: string): TicketRow {
  return ticketRow(c, key) ?? refuse('not_found', `no ticket ${key}`);
}

/** The runtime_sessions row, or refuse with not_found. */
export function mustRuntime(c: Ctx, id: number): RuntimeRow {
  return runtimeRow(c, id) ?? refuse('not_found', `no runtime ${id}`);
}

/** The messages row, or refuse with not_found. */
export function mustMessage(c: Ctx, id: number): MessageRow {
  return messageRow(c, id) ?? refuse('not_found', `no message ${id}`);
}

/** Who holds a ticket, in the words the console shows: "pid 4242 (runtime 7)". */
export function holderOf(r: RuntimeRow): string {
  return r.pid === null ? `runtime ${r.id} (${r.status}, no pid yet)` : `pid ${r.pid} (runtime ${r.id})`;
}

function changedSince(expected: number, found: number): string {
  return expected === found ? '' : `it changed since it was read (version ${expected}, now ${found}); `;
}

/** Refuse a ticket operation with a message naming what changed and who holds the ticket. */
export function refuseTicket(c: Ctx, t: TicketRow, expectedVersion: number, action: string): never {
  const open = openRuntimeOf(c, t.key);
  const held = open === undefined ? '' : `, held by ${holderOf(open)}`;
  refuse(
    'conflict',
    `cannot ${action} ${t.key}: ${changedSince(expectedVersion, t.version)}it is ${t.status}${held}`,
    open === undefined ? undefined : holderOf(open),
  );
}

/** Refuse a runtime operation with a message naming what changed. */
export function refuseRuntime(r: RuntimeRow, expectedVersion: number, action: string): never {
  const why = r.status === 'closed' && r.closed_reason !== null ? ` (${r.closed_reason})` : '';
  refuse(
    'conflict',
    `cannot ${action} runtime ${r.id} of ${r.ticket_key}: ${changedSince(expectedVersion, r.version)}it is ${r.status}${why}`,
  );
}

/**
 * Compare-and-set a ticket: `set` applies only while the version is still `version`, and bumps it. The
 * caller has already checked the row inside this same immediate transaction, so 0 rows is a bug in the
 * caller's check; it is still refused rather than ignored.
 */
export function casTicket(
  c: Ctx,
  key: string,
  version: number,
  set: string,
  params: Params,
  action: string,
): TicketRow {
  const row = c.get<TicketRow>(
    `UPDATE tickets SET ${set}, version = version + 1, updated_at = @now WHERE key = @key AND version = @version RETURNING *`,
    { ...params, key, version },
  );
  if (row !== undefined) return row;
  const current = ticketRow(c, key);
  return current === undefined ? refuse('not_found', `no ticket ${key}`) : refuseTicket(c, current, version, action);
}

/** Compare-and-set a runtime row, as casTicket. */
export function casRuntime(
  c: Ctx,
  id: number,
  version: number,
  set: string,
  params: Params,
  action: string,
): RuntimeRow {
  const row = c.get<RuntimeRow>(
    `UPDATE runtime_sessions SET ${set}, version = version + 1 WHERE id = @id AND version = @version RETURNING *`,
    { ...params, id, version },
  );
  if (row !== undefined) return row;
  const current = runtimeRow(c, id);
  return current === undefined ? refuse('not_found', `no runtime ${id}`) : refuseRuntime(current, version, action);
}

/** Append an event, filling its ticket and runtime from the operation when the caller left them null. */
export function insertEvent(
  c: Ctx,
  e: EventInput,
  now: number,
  fill: { key?: string; runtimeId?: number | null } = {},
): McEvent {
  const filled: EventInput = {
    ...e,
    ticketKey: e.ticketKey ?? fill.key ?? null,
    runtimeId: e.runtimeId ?? fill.runtimeId ?? null,
  };
  const row = c.get<EventRow>(
    `INSERT INTO events (at, ticket_key, runtime_id, actor, kind, status, summary, root_cause, safe_retry,
       stop_condition, human_input_required, next_actions, artifacts)
     VALUES (@at, @ticket_key, @runtime_id, @actor, @kind, @status, @summary, @root_cause, @safe_retry,
       @stop_condition, @human_input_required, @next_actions, @artifacts)
     RETURNING *`,
    eventParams(filled, now),
  );
  if (row === undefined) throw new Error('INSERT ... RETURNING returned no event row');
  return toEvent(row);
}
