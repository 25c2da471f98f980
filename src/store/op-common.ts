import type { EventInput, McEvent } from '../core/types.js';
import { eventParams, toEvent, type EventRow, type MessageRow, type RuntimeRow, type TicketRow } from './rows.js';
import { get, refuse, type Op } from './sql-op.js';

// The row look-ups, compare-and-sets and conflict messages every store operation needs, written once as
// operations over sql-op's statements, so the SQLite and the PostgreSQL adapter share them.

type Params = Record<string, unknown>;

/** The tickets row, if any. */
export function* ticketRow(key: string): Op<TicketRow | undefined> {
  return yield* get<TicketRow>('SELECT * FROM tickets WHERE key = ?', [key]);
}

/** The runtime_sessions row, if any. */
export function* runtimeRow(id: number): Op<RuntimeRow | undefined> {
  return yield* get<RuntimeRow>('SELECT * FROM runtime_sessions WHERE id = ?', [id]);
}

/** The messages row, if any. */
export function* messageRow(id: number): Op<MessageRow | undefined> {
  return yield* get<MessageRow>('SELECT * FROM messages WHERE id = ?', [id]);
}

/** The ticket's one non-closed runtime (the unique partial index guarantees at most one). */
export function* openRuntimeOf(key: string): Op<RuntimeRow | undefined> {
  return yield* get<RuntimeRow>("SELECT * FROM runtime_sessions WHERE ticket_key = ? AND status <> 'closed'", [key]);
}

/** The tickets row, or refuse with not_found. */
export function* mustTicket(key: string): Op<TicketRow> {
  return (yield* ticketRow(key)) ?? refuse('not_found', `no ticket ${key}`);
}

/** The runtime_sessions row, or refuse with not_found. */
export function* mustRuntime(id: number): Op<RuntimeRow> {
  return (yield* runtimeRow(id)) ?? refuse('not_found', `no runtime ${id}`);
}

/** The messages row, or refuse with not_found. */
export function* mustMessage(id: number): Op<MessageRow> {
  return (yield* messageRow(id)) ?? refuse('not_found', `no message ${id}`);
}

/** Who holds a ticket, in the words the console shows: "pid 4242 (runtime 7)". */
export function holderOf(r: RuntimeRow): string {
  return r.pid === null ? `runtime ${r.id} (${r.status}, no pid yet)` : `pid ${r.pid} (runtime ${r.id})`;
}

function changedSince(expected: number, found: number): string {
  return expected === found ? '' : `it changed since it was read (version ${expected}, now ${found}); `;
}

/** Refuse a ticket operation with a message naming what changed and who holds the ticket. */
export function* refuseTicket(t: TicketRow, expectedVersion: number, action: string): Op<never> {
  const open = yield* openRuntimeOf(t.key);
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
 * caller has already checked the row inside this same transaction, so 0 rows is a bug in the caller's
 * check; it is still refused rather than ignored. `set` uses only `@name` placeholders.
 */
export function* casTicket(key: string, version: number, set: string, params: Params, action: string): Op<TicketRow> {
  const row = yield* get<TicketRow>(
    `UPDATE tickets SET ${set}, version = version + 1, updated_at = @now WHERE key = @key AND version = @version RETURNING *`,
    { ...params, key, version },
  );
  if (row !== undefined) return row;
  const current = yield* ticketRow(key);
  return current === undefined
    ? refuse('not_found', `no ticket ${key}`)
    : yield* refuseTicket(current, version, action);
}

/** Compare-and-set a runtime row, as casTicket. */
export function* casRuntime(id: number, version: number, set: string, params: Params, action: string): Op<RuntimeRow> {
  const row = yield* get<RuntimeRow>(
    `UPDATE runtime_sessions SET ${set}, version = version + 1 WHERE id = @id AND version = @version RETURNING *`,
    { ...params, id, version },
  );
  if (row !== undefined) return row;
  const current = yield* runtimeRow(id);
  return current === undefined ? refuse('not_found', `no runtime ${id}`) : refuseRuntime(current, version, action);
}

/** Append an event, filling its ticket and runtime from the operation when the caller left them null. */
export function* insertEvent(
  e: EventInput,
  now: number,
  fill: { key?: string; runtimeId?: number | null } = {},
): Op<McEvent> {
  const filled: EventInput = {
    ...e,
    ticketKey: e.ticketKey ?? fill.key ?? null,
    runtimeId: e.runtimeId ?? fill.runtimeId ?? null,
  };
  const row = yield* get<EventRow>(
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
