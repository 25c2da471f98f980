import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { StoreError, type Result } from '../core/result.js';
import type { Host } from '../core/hosts.js';
import type {
  BeginDeliveryInput,
  ForgetHostInput,
  ForgetHostOutcome,
  HeartbeatHostInput,
  FinishDeliveryInput,
  ActiveRows,
  AdoptInput,
  ClaimInput,
  CloseRuntimeInput,
  Lease,
  ListPage,
  RecordSpawnInput,
  SetChecksInput,
  SetTicketStatusInput,
  StorePort,
  TicketDetail,
  TicketFilter,
  TicketOverview,
  TicketQuery,
  UpdateRuntimeInput,
  Workspace,
} from '../core/store.port.js';
import type { EventInput, McEvent, Message, MessageKind, RuntimeSession, Ticket, TicketStatus } from '../core/types.js';
import { prepareStoreFiles, tightenSidecars } from './file-modes.js';
import * as hostOps from './host-ops.js';
import { Refusal as OpRefusal, runSync, type Op, type Stmt } from './sql-op.js';
import { checkStoreFile } from './store-file.js';
import * as list from './list-queries.js';
import * as msg from './message-ops.js';
import { assertNotNewer, assertOursOrEmpty, migrate, SCHEMA_VERSION } from './migrations.js';
import * as q from './queries.js';
import { Ctx, insertEvent, isBusy, refuse, runRead, runWrite, runWriteOrThrow } from './sqlite-common.js';
import * as ops from './ticket-ops.js';

export { SCHEMA_VERSION } from './migrations.js';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** The SQLite adapter of the store port: one connection, every mutation one immediate transaction. */
export class SqliteStore implements StorePort {
  private readonly c: Ctx;
  readonly storeId: string;
  private sidecarsPrivate = false;
  private lastDataVersion = -1;
  private token = 0;

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    /** Permission problems found on open and left alone (shared directory, foreign owner), for `mcc doctor`. */
    readonly permissionNotes: readonly string[] = [],
  ) {
    this.c = new Ctx(db);
    const id = this.c.get<{ value: string }>("SELECT value FROM meta WHERE key = 'store_id'");
    if (id === undefined) throw new Error(`the store at ${location} has no store_id in its meta table`);
    this.storeId = id.value;
    this.sidecarsPrivate = tightenSidecars(location);
  }

  // data_version only moves for other connections' commits, so our own commits bump the token here.
  private readonly committed = (): void => {
    this.token++;
    if (!this.sidecarsPrivate) this.sidecarsPrivate = tightenSidecars(this.location);
  };

  private write<T>(fn: (c: Ctx) => T): Promise<Result<T>> {
    return runWrite(this.db, () => fn(this.c), this.committed);
  }

  private writeOrThrow<T>(fn: (c: Ctx) => T): Promise<T> {
    return runWriteOrThrow(this.db, () => fn(this.c), this.committed);
  }

  private read<T>(fn: (c: Ctx) => T): Promise<T> {
    return runRead(this.db, () => fn(this.c));
  }

  /** Run one statement an sql-op operation yields, on this connection. */
  private readonly exec = (stmt: Stmt): unknown => {
    const params = stmt.params as Record<string, unknown> | unknown[];
    if (stmt.kind === 'get') return this.c.get(stmt.sql, params);
    if (stmt.kind === 'all') return this.c.all(stmt.sql, params);
    return { changes: this.c.run(stmt.sql, params).changes };
  };

  /** Drive an sql-op operation in this adapter's transaction; its refusals become this adapter's. */
  private drive<T>(op: Op<T>): T {
    try {
      return runSync(op, this.exec);
    } catch (err) {
      if (err instanceof OpRefusal) refuse(err.failure.code, err.failure.message, err.failure.holder);
      throw err;
    }
  }

  async heartbeatHost(input: HeartbeatHostInput): Promise<Result<Host>> {
    return this.write(() => this.drive(hostOps.heartbeatHost(input)));
  }

  async listHosts(): Promise<Host[]> {
    return this.read(() => this.drive(hostOps.listHosts()));
  }

  async forgetHost(input: ForgetHostInput): Promise<Result<ForgetHostOutcome>> {
    // closeRuntime is still a Ctx function here; it runs inside the same immediate transaction. Once it is an
    // sql-op generator, pass it straight through (`ops.closeRuntime`).
    const close: hostOps.CloseRuntimeOp = (i) => lift(() => ops.closeRuntime(this.c, i));
    return this.write(() => this.drive(hostOps.forgetHost(input, close)));
  }

  async hostLostRuntimes(input: { host: string; limit: number }): Promise<RuntimeSession[]> {
    return this.read(() => this.drive(hostOps.hostLostRuntimes(input)));
  }

  async createTicket(input: {
    title: string;
    body: string;
    profile: string;
    now: number;
    actor: string;
    checkInSeconds?: number | null;
  }): Promise<Ticket> {
    return this.writeOrThrow((c) => ops.createTicket(c, input));
  }

  async getTicket(key: string): Promise<Ticket | null> {
    return this.read((c) => q.getTicket(c, key));
  }

  async listTickets(filter?: TicketFilter): Promise<Ticket[]> {
    return this.read((c) => q.listTickets(c, filter));
  }

  async ticketDetail(key: string, opts?: { eventLimit?: number }): Promise<TicketDetail | null> {
    return this.read((c) => q.ticketDetail(c, key, opts));
  }

  async overview(): Promise<TicketOverview[]> {
    return this.read((c) => q.overview(c));
  }

  async listPage(query: TicketQuery & { limit: number }): Promise<ListPage> {
    return this.read((c) => list.listPage(c, query));
  }

  async countByState(): Promise<Record<TicketStatus, number>> {
    return this.read((c) => list.countByState(c));
  }

  async eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<number> {
    // One statement walked inside one read transaction: a consistent snapshot, one row in memory at a time.
    // A busy WAL index is met on the first step, before any row; a retry after rows went out would repeat them.
    let visited = 0;
    return this.read((c) => {
      if (visited > 0)
        throw new StoreError(`store ${this.location}: a walk of the tickets broke off after ${visited} rows`);
      return list.eachOverview(c, query, (row) => {
        visited++;
        visit(row);
      });
    });
  }

  async ticketVersions(): Promise<Map<string, number>> {
    return this.read((c) => q.ticketVersions(c));
  }

  async getTickets(keys: readonly string[]): Promise<Ticket[]> {
    return this.read((c) => q.getTickets(c, keys));
  }

  async loadActive(extraKeys: readonly string[]): Promise<ActiveRows> {
    return this.read((c) => q.loadActive(c, extraKeys));
  }

  async changeToken(): Promise<number> {
    const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    if (dataVersion !== this.lastDataVersion) {
      this.lastDataVersion = dataVersion;
      this.token++;
    }
    return this.token;
  }

  async claim(input: ClaimInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession; prompt: Message }>> {
    return this.write((c) => ops.claim(c, input));
  }

  async recordSpawn(input: RecordSpawnInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>> {
    return this.write((c) => ops.recordSpawn(c, input));
  }

  async adopt(input: AdoptInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>> {
    return this.write((c) => ops.adopt(c, input));
  }

  async closeRuntime(input: CloseRuntimeInput): Promise<Result<{ runtime: RuntimeSession; ticket: Ticket | null }>> {
    return this.write((c) => ops.closeRuntime(c, input));
  }

  async setTicketStatus(input: SetTicketStatusInput): Promise<Result<Ticket>> {
    return this.write((c) => ops.setTicketStatus(c, input));
  }

  async setChecks(input: SetChecksInput): Promise<Result<Ticket>> {
    return this.write((c) => ops.setChecks(c, input));
  }

  async updateRuntime(input: UpdateRuntimeInput): Promise<Result<RuntimeSession>> {
    return this.write((c) => ops.updateRuntime(c, input));
  }

  async queueMessage(input: {
    key: string;
    body: string;
    kind: MessageKind;
    now: number;
    event: EventInput;
  }): Promise<Result<Message>> {
    return this.write((c) => msg.queueMessage(c, input));
  }

  async beginDelivery(input: BeginDeliveryInput): Promise<Result<Message>> {
    return this.write((c) => msg.beginDelivery(c, input));
  }

  async finishDelivery(input: FinishDeliveryInput): Promise<Result<Message>> {
    return this.write((c) => msg.finishDelivery(c, input));
  }

  async revertDelivery(input: { messageId: number; now: number; event?: EventInput }): Promise<Result<Message>> {
    return this.write((c) => msg.revertDelivery(c, input));
  }

  async cancelMessage(input: { messageId: number; now: number; event: EventInput }): Promise<Result<Message>> {
    return this.write((c) => msg.cancelMessage(c, input));
  }

  async appendEvent(event: EventInput, now: number): Promise<McEvent> {
    return this.writeOrThrow((c) => insertEvent(c, event, now));
  }

  async listEvents(filter: { ticketKey?: string; limit: number }): Promise<McEvent[]> {
    return this.read((c) => q.listEvents(c, filter));
  }

  async acquireLease(input: { name: string; holder: string; ttlMs: number; now: number }): Promise<Result<Lease>> {
    return this.write((c) => msg.acquireLease(c, input));
  }

  async takeOverLease(input: {
    name: string;
    from: string;
    holder: string;
    ttlMs: number;
    now: number;
    event: EventInput;
  }): Promise<Result<Lease>> {
    return this.write((c) => msg.takeOverLease(c, input));
  }

  async releaseLease(input: { name: string; holder: string }): Promise<void> {
    await this.writeOrThrow((c) => msg.releaseLease(c, input));
  }

  async readLease(name: string): Promise<Lease | null> {
    return this.read((c) => q.readLease(c, name));
  }

  async listWorkspaces(): Promise<Workspace[]> {
    return this.read((c) => ops.listWorkspaces(c));
  }

  async markWorkspaceRemoved(input: { id: number; now: number; event: EventInput }): Promise<Result<Workspace>> {
    return this.write((c) => ops.markWorkspaceRemoved(c, input));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** A synchronous step on this adapter's connection, as an operation that yields no statement. */
function* lift<T>(fn: () => T): Op<T> {
  yield* [];
  return fn();
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
