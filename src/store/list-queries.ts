import { LIST_TITLE_HEAD, type ListPage, type TicketListRow, type TicketQuery } from '../core/store.port.js';
import { TICKET_KEY_RE, TICKET_STATUSES, type RuntimeStatus, type TicketStatus } from '../core/types.js';
import { ms } from './rows.js';
import { overviewSql } from './queries.js';
import { all, get, type Op } from './sql-op.js';

// The ticket list at size (`mcc list`): the database filters, orders and limits, and a page reads only the
// columns the text view prints. Every statement here is plain SQL (IN lists, substr, length, count, LIMIT),
// so the PostgreSQL adapter runs the same operations; they go through tickets_status (status, seq) and the
// partial index runtime_sessions_one_open. count(*) is a bigint in PostgreSQL (a string in node-postgres),
// hence the Number() around every count.

/** The states a query admits, in a fixed order; null when it admits every state (no condition needed). */
function statesOf(q: TicketQuery): TicketStatus[] | null {
  if (q.states === undefined && (q.excludeStates === undefined || q.excludeStates.length === 0)) return null;
  const only = q.states === undefined ? null : new Set(q.states);
  const out = new Set(q.excludeStates ?? []);
  const states = TICKET_STATUSES.filter((s) => (only === null || only.has(s)) && !out.has(s));
  return states.length === TICKET_STATUSES.length ? null : states;
}

/** `MC-42` -> 42; the schema's CHECK (key = 'MC-' || seq) makes the key's number its place in ticket order. */
function seqOf(key: string): number {
  if (!TICKET_KEY_RE.test(key)) throw new Error(`store: "${key}" is not a ticket key`);
  return Number(key.slice(3));
}

/** WHERE over `t` for these states (null: any) after this seq (null: from the start). */
function whereOf(states: readonly TicketStatus[] | null, afterSeq: number | null): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  if (states !== null) {
    terms.push(`t.status IN (${states.map(() => '?').join(', ')})`);
    params.push(...states);
  }
  if (afterSeq !== null) {
    terms.push('t.seq > ?');
    params.push(afterSeq);
  }
  return { sql: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params };
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new Error(`store: a list limit must be a whole number >= 1, got ${limit}`);
}

/** Tickets per state, every state present (0 when it has none); a scan of the covering index tickets_status. */
export function* countByState(): Op<Record<TicketStatus, number>> {
  const counts = Object.fromEntries(TICKET_STATUSES.map((s) => [s, 0])) as Record<TicketStatus, number>;
  const rows = yield* all<{ status: TicketStatus; n: number }>(
    'SELECT status, count(*) AS n FROM tickets GROUP BY status',
  );
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

interface ListRowRaw {
  seq: number;
  key: string;
  status: string;
  title: string;
  title_cut: number;
  attempts: number;
  r_id: number | null;
  r_status: string | null;
  r_pid: number | null;
  r_created_at: string | null;
}

function toListRow(r: ListRowRaw): TicketListRow {
  return {
    key: r.key,
    // CHECK constraints guarantee the enumerations, so these casts cannot lie.
    status: r.status as TicketStatus,
    title: r.title,
    titleCut: Boolean(r.title_cut),
    attempts: r.attempts,
    runtime:
      r.r_id === null
        ? null
        : { id: r.r_id, status: r.r_status as RuntimeStatus, pid: r.r_pid, createdAt: ms(r.r_created_at ?? '') },
  };
}

/** The page's statement: the text view's columns (a title's head only) and the open runtime, ordered, limited. */
export function pageSql(where: string): string {
  return `SELECT t.seq, t.key, t.status, substr(t.title, 1, ${LIST_TITLE_HEAD}) AS title,
       CASE WHEN length(t.title) > ${LIST_TITLE_HEAD} THEN 1 ELSE 0 END AS title_cut, t.attempts,
       r.id AS r_id, r.status AS r_status, r.pid AS r_pid, r.created_at AS r_created_at
     FROM tickets t
     LEFT JOIN runtime_sessions r ON r.ticket_key = t.key AND r.status <> 'closed'
     ${where}
     ORDER BY t.seq LIMIT ?`;
}

/** One page of the text view, and the counts of what it leaves out, inside the caller's read transaction. */
export function* listPage(query: TicketQuery & { limit: number }): Op<ListPage> {
  checkLimit(query.limit);
  const byState = yield* countByState();
  const states = statesOf(query);
  let total = 0;
  for (const s of states ?? TICKET_STATUSES) total += byState[s];
  if (states !== null && states.length === 0) return { rows: [], total, remaining: 0, byState };
  const where = whereOf(states, query.after === undefined ? null : seqOf(query.after));
  const raw = yield* all<ListRowRaw>(pageSql(where.sql), [...where.params, query.limit]);
  const last = raw.at(-1);
  let remaining = 0;
  if (last !== undefined && raw.length === query.limit) {
    const rest = whereOf(states, last.seq);
    const counted = yield* get<{ n: number }>(`SELECT count(*) AS n FROM tickets t ${rest.sql}`, rest.params);
    remaining = Number(counted?.n ?? 0);
  }
  return { rows: raw.map(toListRow), total, remaining, byState };
}

/**
 * The statement that walks the overview rows `query` selects (map each row with toOverview), or null when it
 * selects none. Only the statement is shared: each adapter streams it its own way (SQLite with iterate inside
 * a read transaction, a server database with a cursor), one row in memory at a time.
 */
export function overviewWalk(query: TicketQuery): { sql: string; params: unknown[] } | null {
  checkLimit(query.limit);
  const states = statesOf(query);
  if (states !== null && states.length === 0) return null;
  const where = whereOf(states, query.after === undefined ? null : seqOf(query.after));
  const limited = query.limit !== undefined;
  return { sql: overviewSql(where.sql, limited), params: limited ? [...where.params, query.limit] : where.params };
}
