import { fail, type ErrorCode, type Failure } from '../core/result.js';

// A store operation written once for every SQL dialect: a generator that yields the statements it needs and
// receives their results. The SQLite adapter runs it synchronously inside `db.transaction(fn).immediate()`
// (no await can split its read-decide-write); the PostgreSQL adapter runs the same generator statement by
// statement inside one serializable transaction. So the domain rules (CAS on version, the refusals, the events)
// exist once, and only the drivers differ.
//
// Rules for operations, so they run unchanged on both:
// - SQL in the common subset: `?` or `@name` placeholders (never both in one statement), `RETURNING`,
//   `ON CONFLICT ... DO NOTHING`, coalesce; no SQLite-only functions (scalar max/min, ifnull, json_*, pragma).
// - Never catch a database error inside an operation: PostgreSQL aborts the transaction on the first error,
//   so nothing can be asked after it. Expected clashes use `ON CONFLICT DO NOTHING RETURNING` and check the
//   row; refusals throw `Refusal` (via `refuse`), which rolls everything back in both drivers.
// - Booleans are integers 0/1 and times are ISO-8601 text, in both dialects.
// - A clause only PostgreSQL needs (`FOR UPDATE SKIP LOCKED`) is written as a `/*pg: ... */` comment: the
//   PostgreSQL driver un-comments it, SQLite (whose write transactions are already serial) skips it.

export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/** One statement an operation asks for. */
export interface Stmt {
  kind: 'get' | 'all' | 'run';
  sql: string;
  params: Params;
}

/** What a `run` statement reports. */
export interface RunInfo {
  changes: number;
}

/** An operation: yields statements, receives each one's result, returns T. */
export type Op<T> = Generator<Stmt, T, unknown>;

/** The first row of `sql`, or undefined. */
export function* get<T>(sql: string, params: Params = []): Op<T | undefined> {
  return (yield { kind: 'get', sql, params }) as T | undefined;
}

/** Every row of `sql`. */
export function* all<T>(sql: string, params: Params = []): Op<T[]> {
  return (yield { kind: 'all', sql, params }) as T[];
}

/** Run a statement that returns no rows; reports how many rows it changed. */
export function* run(sql: string, params: Params = []): Op<RunInfo> {
  return (yield { kind: 'run', sql, params }) as RunInfo;
}

/** Thrown inside an operation to roll everything back and hand `failure` to the caller. */
export class Refusal extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Abort the current operation's transaction with an expected failure. */
export function refuse(code: ErrorCode, message: string, holder?: string): never {
  throw new Refusal(fail(code, message, holder === undefined ? {} : { holder }));
}

/**
 * Drive `op` to its end with a synchronous executor (SQLite). A statement that throws is thrown into the
 * operation (which, by the rules above, lets it propagate) so the transaction around the driver rolls back.
 */
export function runSync<T>(op: Op<T>, exec: (stmt: Stmt) => unknown): T {
  let step = op.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = exec(step.value);
    } catch (err) {
      step = op.throw(err);
      continue;
    }
    step = op.next(result);
  }
  return step.value;
}

/** Drive `op` to its end with an asynchronous executor (a server database), one statement at a time. */
export async function runAsync<T>(op: Op<T>, exec: (stmt: Stmt) => Promise<unknown>): Promise<T> {
  let step = op.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await exec(step.value);
    } catch (err) {
      step = op.throw(err);
      continue;
    }
    step = op.next(result);
  }
  return step.value;
}
