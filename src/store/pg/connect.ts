import pg from 'pg';
import { fail, ok, type Result } from '../../core/result.js';

// Where a PostgreSQL store lives (`--db postgres://...` / MCC_DB) and how mcc connects to it. The URL carries
// a password; only `redacted` (no password, no query) is ever printed, and every pg error message that leaves
// this module goes through `scrubPassword` first.

/** A validated PostgreSQL URL. */
export interface PgLocation {
  /** The URL as given, for the driver only: it may hold a password. Never print it. */
  url: string;
  /** `postgres://user@host:port/db`: for the console header, doctor and messages. */
  redacted: string;
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  /** Exact strings to scrub from any message (the password, raw and decoded). */
  secrets: readonly string[];
}

const DEFAULT_PORT = 5432;
// Errors never quote the URL's parts: a password with an unescaped '/' or ':' lands in the port or path.
const ESCAPE_HINT = ' (a password holding / : @ ? or # must be %-escaped)';

function decode(part: string, what: string): Result<string> {
  try {
    return ok(decodeURIComponent(part));
  } catch {
    return fail('invalid', `the PostgreSQL URL's ${what} has a bad %-escape`);
  }
}

/** True when `raw` names a PostgreSQL store (by scheme) rather than an SQLite file. */
export function isPgUrl(raw: string): boolean {
  return /^postgres(ql)?:\/\//i.test(raw);
}

/**
 * Parse and validate a `postgres://` or `postgresql://` URL: `user[:password]@host[:port]/database[?params]`.
 * The error names what is wrong and never repeats the URL (it may hold a password).
 */
export function parsePgUrl(raw: string): Result<PgLocation> {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(raw.trim());
  if (!m) return fail('invalid', 'the store URL is not of the form postgres://user@host:port/database');
  const scheme = (m[1] as string).toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    return fail('invalid', `the store URL's scheme is "${scheme}:", not postgres: or postgresql:`);
  }
  const authority = m[2] as string;
  const path = m[3] as string;
  const query = new URLSearchParams((m[4] ?? '').slice(1));

  // The last '@' ends the credentials: a password may hold an unescaped '@'.
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostport = at < 0 ? authority : authority.slice(at + 1);

  let user: string | undefined;
  const secrets: string[] = [];
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (colon >= 0) {
      const rawPassword = userinfo.slice(colon + 1);
      if (rawPassword !== '') secrets.push(rawPassword);
      const password = decode(rawPassword, 'password');
      if (password.ok && password.value !== '' && password.value !== rawPassword) secrets.push(password.value);
    }
    const decoded = decode(rawUser, 'user name');
    if (!decoded.ok) return decoded;
    user = decoded.value === '' ? undefined : decoded.value;
  }
  const queryPassword = query.get('password');
  if (queryPassword) secrets.push(queryPassword);
  user = user ?? query.get('user') ?? undefined;

  const hp = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport);
  const hostPart = hp?.[1] ?? '';
  const portPart = hp?.[2];
  let port = DEFAULT_PORT;
  const queryPort = query.get('port');
  const portText = portPart ?? queryPort ?? undefined;
  if (portText !== undefined) {
    const n = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(n >= 1 && n <= 65535)) {
      return fail('invalid', `the store URL's port is not a number from 1 to 65535${ESCAPE_HINT}`);
    }
    port = n;
  }
  const hostDecoded = decode(hostPart, 'host');
  if (!hostDecoded.ok) return hostDecoded;
  // A unix-socket directory comes as ?host=/dir (libpq style) when the authority has no host.
  const host = hostDecoded.value || query.get('host') || 'localhost';

  const dbText = path.replace(/^\//, '');
  if (dbText === '') return fail('invalid', 'the store URL names no database: add /<database> after the host');
  if (dbText.includes('/')) return fail('invalid', `the store URL's database name contains a "/"${ESCAPE_HINT}`);
  const database = decode(dbText, 'database name');
  if (!database.ok) return database;

  const redacted = `postgres://${user === undefined ? '' : `${encodeURIComponent(user)}@`}${host}:${port}/${database.value}`;
  return ok({ url: raw.trim(), redacted, host, port, database: database.value, user, secrets });
}

/** `message` with every secret of `loc` replaced by `***`. */
export function scrubPassword(message: string, loc: Pick<PgLocation, 'secrets'>): string {
  let out = message;
  for (const secret of loc.secrets) out = out.split(secret).join('***');
  return out;
}

/** int8 as a JS number; a value past 2^53 would silently lose digits, so it is a loud error instead. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new Error(`a bigint value ${text} is beyond JavaScript's safe integer range (2^53 - 1)`);
  }
  return n;
}

const INT8_OID = 20;

export interface PgPoolOptions {
  /** Connections at most: mcc runs one operation at a time per process, plus the poller's reads. */
  max?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** An idle pooled connection died (a server restart): reported here, never a crash. */
  onConnectionError?: (message: string) => void;
}

/** A small pool for `loc`: mcc's application_name, timeouts set per connection, int8 as number. */
export function createPgPool(loc: PgLocation, opts: PgPoolOptions = {}): pg.Pool {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  const report = (err: Error): void => opts.onConnectionError?.(scrubPassword(err.message, loc));
  const pool = new pg.Pool({
    connectionString: loc.url,
    application_name: 'mcc',
    max: opts.max ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 10_000,
    lock_timeout: opts.lockTimeoutMs ?? 3000,
    // A client that died holding a transaction open must not hold its locks forever.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    types,
  });
  // An idle client's error reaches the pool (which drops the client); without a listener it would kill mcc.
  pool.on('error', report);
  // A checked-out client between queries has no pool listener: a server restart then would be an unhandled
  // 'error' event. Swallowed here (an idle client's error also reaches the pool's listener above): the next
  // query on the client fails with it, and withPgTransaction discards the client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/** What an error means to the caller: try again, a unique clash, the operator's problem, or a bug of ours. */
export type PgErrorClass = 'retry' | 'unique' | 'fault' | 'bug';

// SQLSTATEs a retry of the whole transaction can cure: it was rolled back, and the cause passes.
const RETRY_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout under load)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

// SQLSTATEs no retry fixes: named for the operator, never a stack trace.
const FAULTS: Readonly<Record<string, string>> = {
  '53100': 'the disk holding the database is full',
  '53200': 'the database server is out of memory',
  '25006': 'the database is read-only (a standby, or default_transaction_read_only)',
  '42501': "the database user lacks a privilege mcc needs (mcc's tables need SELECT, INSERT, UPDATE, DELETE)",
  '28000': 'the database refused the login',
  '28P01': 'the database refused the password',
  '3D000': 'the database does not exist',
  '58030': 'the database server had an I/O error',
  XX001: 'the database reports damaged data',
  XX002: 'the database reports a damaged index',
};

const NET_RETRY = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function codeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function isConnectionLoss(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && (NET_RETRY.has(code) || code.startsWith('08'))) return true;
  // Happy-eyeballs connects (localhost as ::1 and 127.0.0.1) fail with an AggregateError of the attempts.
  if (err instanceof AggregateError && err.errors.some(isConnectionLoss)) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i.test(
    message,
  );
}

/** Classify an error from pg (or from the network under it). */
export function classifyPgError(err: unknown): PgErrorClass {
  const code = codeOf(err);
  if (code === '23505') return 'unique';
  if (code !== undefined && RETRY_CODES.has(code)) return 'retry';
  if (code !== undefined && code in FAULTS) return 'fault';
  if (isConnectionLoss(err)) return 'retry';
  return 'bug';
}

/** The operator-facing words for a 'fault' error (undefined for any other class). */
export function pgFaultDescription(err: unknown): string | undefined {
  const code = codeOf(err);
  return code === undefined ? undefined : FAULTS[code];
}

/** The outcome of withPgTransaction; `ok` is the only one where fn's effects are known to be committed. */
export type TxOutcome<T> =
  | { kind: 'ok'; value: T; attempts: number }
  /** Contention (serialization failures, deadlocks, lock timeouts) outlasted the deadline; nothing committed. */
  | { kind: 'busy'; attempts: number; message: string }
  /** The server could not be reached (or kept dropping us) until the deadline; nothing committed. */
  | { kind: 'unavailable'; attempts: number; message: string }
  /** The connection failed during COMMIT: the transaction may or may not have committed. Never retried. */
  | { kind: 'unknown'; attempts: number; message: string }
  /** A unique constraint refused a write (a race the operation's ON CONFLICT did not cover); nothing committed. */
  | { kind: 'unique'; constraint: string | undefined; message: string }
  /** The operator must fix something (disk full, read-only, privileges); nothing committed. */
  | { kind: 'fault'; message: string };

export interface TxOptions {
  isolation: 'serializable' | 'repeatable read';
  readOnly?: boolean;
}

export interface TxRunOptions {
  /** Stop retrying after this long (default 5 s); the outcome is then 'busy' or 'unavailable'. */
  deadlineMs?: number;
  /** Scrubbed from every message (the URL's password). */
  location?: Pick<PgLocation, 'secrets'>;
  /** Called before each retry: for logs and tests. */
  onRetry?: (attempt: number, err: unknown) => void;
}

const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 500;

function sleep(msDelay: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msDelay));
}

function messageOf(err: unknown, opts: TxRunOptions): string {
  const text = err instanceof Error ? err.message || String(codeOf(err) ?? err.name) : String(err);
  return opts.location ? scrubPassword(text, opts.location) : text;
}

/** A COMMIT error the server answered with a plain ERROR: the transaction was rolled back, for certain. */
function definitelyRolledBack(err: unknown): boolean {
  return err instanceof pg.DatabaseError && err.severity === 'ERROR' && !(err.code ?? '').startsWith('08');
}

type Attempt<T> = { done: true; value: T } | { done: false; err: unknown; atCommit: boolean };

async function attemptOnce<T>(
  pool: pg.Pool,
  tx: TxOptions,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<Attempt<T>> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    return { done: false, err, atCommit: false };
  }
  let value: T;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${tx.isolation.toUpperCase()}${tx.readOnly ? ' READ ONLY' : ''}`);
    value = await fn(client);
  } catch (err) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackErr) {
      // The connection is broken: destroy it rather than hand it to the next caller.
      client.release(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
    }
    return { done: false, err, atCommit: false };
  }
  try {
    await client.query('COMMIT');
  } catch (err) {
    client.release(err instanceof Error ? err : new Error(String(err)));
    return { done: false, err, atCommit: true };
  }
  client.release();
  return { done: true, value };
}

/**
 * Run `fn` in one transaction and commit it. A retryable error (serialization failure, deadlock, lost or
 * refused connection) rolls back and retries the whole `fn`, with jittered exponential backoff, until the
 * deadline. An error `fn` throws that is not a database one we classify (a Refusal, a bug) is rethrown after
 * the rollback. A connection lost during COMMIT is 'unknown': it may have committed, so it is never retried.
 */
export async function withPgTransaction<T>(
  pool: pg.Pool,
  tx: TxOptions,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: TxRunOptions = {},
): Promise<TxOutcome<T>> {
  const deadline = Date.now() + (opts.deadlineMs ?? 5000);
  for (let attempt = 1; ; attempt++) {
    const result = await attemptOnce(pool, tx, fn);
    if (result.done) return { kind: 'ok', value: result.value, attempts: attempt };
    const { err } = result;
    if (result.atCommit && !definitelyRolledBack(err)) {
      return {
        kind: 'unknown',
        attempts: attempt,
        message: `the connection failed during COMMIT (${messageOf(err, opts)}); the change may or may not have been saved`,
      };
    }
    const cls = classifyPgError(err);
    switch (cls) {
      case 'unique': {
        const constraint = err instanceof pg.DatabaseError ? err.constraint : undefined;
        return { kind: 'unique', constraint, message: messageOf(err, opts) };
      }
      case 'fault':
        return { kind: 'fault', message: `${pgFaultDescription(err)} (${messageOf(err, opts)})` };
      case 'bug':
        throw err;
      case 'retry':
        break;
      default: {
        const never: never = cls;
        throw new Error(`unhandled error class ${String(never)}`);
      }
    }
    const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
    if (Date.now() + delay >= deadline) {
      const contention = !isConnectionLoss(err) && ['40001', '40P01', '55P03'].includes(codeOf(err) ?? '');
      return {
        kind: contention ? 'busy' : 'unavailable',
        attempts: attempt,
        message: `${contention ? 'the store stayed busy' : 'the database server could not be reached'} through ${attempt} attempts: ${messageOf(err, opts)}`,
      };
    }
    opts.onRetry?.(attempt, err);
    await sleep(delay);
  }
}
