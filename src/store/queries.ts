import type { ActiveRows, Lease, TicketDetail, TicketFilter, TicketOverview } from '../core/store.port.js';
import type { McEvent, Ticket } from '../core/types.js';
import {
  RUNTIME_COLUMNS,
  toEvent,
  toLease,
  toMessage,
  toRuntime,
  toTicket,
  type EventRow,
  type LeaseRow,
  type MessageRow,
  type RuntimeRow,
  type TicketRow,
} from './rows.js';
import { ticketRow } from './op-common.js';
import { all, get, type Op } from './sql-op.js';

// Read side of the store, as sql-op operations (the same code for every dialect). Each runs inside one read
// transaction (a consistent snapshot), and every query is shaped to use an index, because the console polls
// these against tens of thousands of rows.

// SQLite's default limit on host parameters is 32766 in current builds but 999 in old ones (PostgreSQL's is
// 65535); stay far below.
const KEY_CHUNK = 500;

/** One ticket, or null. */
export function* getTicket(key: string): Op<Ticket | null> {
  const row = yield* ticketRow(key);
  return row === undefined ? null : toTicket(row);
}

/** Tickets in numeric key order (MC-9 before MC-10), optionally of one status. */
export function* listTickets(filter: TicketFilter = {}): Op<Ticket[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  // Only the few whose review checks are due: a per-pass query must not load every ticket in review.
  if (filter.reviewChecksDue) where.push("review_checks IN ('pending', 'running')");
  const sql = `SELECT * FROM tickets${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  return (yield* all<TicketRow>(sql, params)).map(toTicket);
}

/** Events newest first, of one ticket or of all. */
export function* listEvents(filter: { ticketKey?: string; limit: number }): Op<McEvent[]> {
  const limit = Math.max(0, Math.floor(filter.limit));
  const rows =
    filter.ticketKey === undefined
      ? yield* all<EventRow>('SELECT * FROM events ORDER BY id DESC LIMIT ?', [limit])
      : yield* all<EventRow>('SELECT * FROM events WHERE ticket_key = ? ORDER BY id DESC LIMIT ?', [
          filter.ticketKey,
          limit,
        ]);
  return rows.map(toEvent);
}

/** A ticket with every runtime and message it ever had and its newest events; null if missing. */
export function* ticketDetail(key: string, opts: { eventLimit?: number } = {}): Op<TicketDetail | null> {
  const t = yield* ticketRow(key);
  if (t === undefined) return null;
  const runtimes = yield* all<RuntimeRow>('SELECT * FROM runtime_sessions WHERE ticket_key = ? ORDER BY id', [key]);
  const messages = yield* all<MessageRow>('SELECT * FROM messages WHERE ticket_key = ? ORDER BY id', [key]);
  return {
    ticket: toTicket(t),
    runtimes: runtimes.map(toRuntime),
    messages: messages.map(toMessage),
    events: yield* listEvents({ ticketKey: key, limit: opts.eventLimit ?? 200 }),
  };
}

const RUNTIME_ALIASED = RUNTIME_COLUMNS.map((col) => `r.${col} AS r_${col}`).join(', ');

/**
 * The overview's SELECT, with an optional WHERE over `t` and LIMIT. The runtime is found by two index probes
 * per ticket: the partial unique index gives the open one, (ticket_key, id) gives the newest closed one.
 */
export function overviewSql(where = '', limit = false): string {
  return `SELECT t.*,
       (SELECT count(*) FROM messages m
         WHERE m.ticket_key = t.key AND m.status IN ('pending', 'delivering')) AS pending_messages,
       ${RUNTIME_ALIASED}
     FROM tickets t
     LEFT JOIN runtime_sessions r ON r.id = coalesce(
       (SELECT o.id FROM runtime_sessions o WHERE o.ticket_key = t.key AND o.status <> 'closed'),
       (SELECT max(h.id) FROM runtime_sessions h WHERE h.ticket_key = t.key))${where ? `\n     ${where}` : ''}
     ORDER BY t.seq${limit ? ' LIMIT ?' : ''}`;
}

/** Map one row of overviewSql to core. */
export function toOverview(row: TicketRow & Record<string, unknown>): TicketOverview {
  let runtime = null;
  if (row['r_id'] !== null) {
    const r = Object.fromEntries(RUNTIME_COLUMNS.map((col) => [col, row[`r_${col}`]])) as unknown as RuntimeRow;
    runtime = toRuntime(r);
  }
  return { ticket: toTicket(row), runtime, pendingMessages: Number(row['pending_messages']) };
}

/** One query for the whole grid. */
export function* overview(): Op<TicketOverview[]> {
  return (yield* all<TicketRow & Record<string, unknown>>(overviewSql())).map(toOverview);
}

/**
 * key -> version of every ticket (`ticketVersions`). A wide scan the console polls: each adapter reads it its
 * cheapest way (SQLite as raw arrays, 50,000 rows in a few milliseconds), so only its text is shared.
 */
export const TICKET_VERSIONS_SQL = 'SELECT key, version FROM tickets';

/** The tickets with these keys, in numeric order; chunked to stay under the host-parameter limit. */
export function* getTickets(keys: readonly string[]): Op<Ticket[]> {
  const out: TicketRow[] = [];
  const unique = [...new Set(keys)];
  for (let start = 0; start < unique.length; start += KEY_CHUNK) {
    const chunk = unique.slice(start, start + KEY_CHUNK);
    out.push(
      ...(yield* all<TicketRow>(`SELECT * FROM tickets WHERE key IN (${chunk.map(() => '?').join(', ')})`, chunk)),
    );
  }
  return out.sort((a, b) => a.seq - b.seq).map(toTicket);
}

/** The rows a reconcile pass needs; never a scan of every (mostly done) ticket. */
export function* loadActive(extraKeys: readonly string[]): Op<ActiveRows> {
  const tickets = yield* all<TicketRow>(
    `SELECT * FROM tickets WHERE key IN (
       SELECT key FROM tickets WHERE status IN ('in_progress', 'blocked')
       UNION SELECT ticket_key FROM runtime_sessions WHERE status <> 'closed'
       UNION SELECT ticket_key FROM messages WHERE status IN ('pending', 'delivering'))
     ORDER BY seq`,
  );
  const seen = new Set(tickets.map((t) => t.key));
  const missing = [...new Set(extraKeys)].filter((k) => !seen.has(k));
  for (let start = 0; start < missing.length; start += KEY_CHUNK) {
    const chunk = missing.slice(start, start + KEY_CHUNK);
    tickets.push(
      ...(yield* all<TicketRow>(`SELECT * FROM tickets WHERE key IN (${chunk.map(() => '?').join(', ')})`, chunk)),
    );
  }
  if (missing.length > 0) tickets.sort((a, b) => a.seq - b.seq);
  // Spelled as IN rather than <> 'closed' so the planner uses the status index instead of scanning history.
  const runtimes = yield* all<RuntimeRow>(
    "SELECT * FROM runtime_sessions WHERE status IN ('spawning', 'running', 'idle', 'waiting', 'exited') ORDER BY id",
  );
  const messages = yield* all<MessageRow>(
    "SELECT * FROM messages WHERE status IN ('pending', 'delivering') ORDER BY id",
  );
  return { tickets: tickets.map(toTicket), runtimes: runtimes.map(toRuntime), messages: messages.map(toMessage) };
}

/** The lease row, expired or not; callers compare expiresAt with their clock. */
export function* readLease(name: string): Op<Lease | null> {
  const row = yield* get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [name]);
  return row === undefined ? null : toLease(row);
}
