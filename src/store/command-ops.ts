import type { Command, CommandKind, CommandStatus } from '../core/commands.js';
import type {
  CommandFilter,
  EnqueueCommandInput,
  FinishCommandInput,
  RecoverCommandInput,
} from '../core/store.port.js';
import { insertEvent } from './op-common.js';
import { iso, ms } from './rows.js';
import { all, get, refuse, type Op } from './sql-op.js';

// The command queue's store operations (issue 13), written once as generators (sql-op.ts) for SQLite and
// PostgreSQL. A command row moves queued -> running -> done|failed, or queued -> expired; every move is a
// compare-and-set on its status (and, once claimed, on its claimer), with its event in the same transaction.

/**
 * The `commands` table, as migration 5 of the SQLite store creates it. For PostgreSQL: `id` becomes an
 * identity column; the rest is the common subset. A claim takes the oldest queued row of one host, hence the
 * (target_host, status, id) index; `mcc commands --ticket` reads by ticket.
 */

/** The channel PostgreSQL's NOTIFY uses when a command is queued; the payload is the target host. */
export const COMMANDS_CHANNEL = 'mcc_commands';

export interface CommandRow {
  id: number;
  target_host: string;
  kind: string;
  ticket_key: string | null;
  args: string;
  status: string;
  result: string | null;
  actor: string;
  created_at: string;
  expires_at: string;
  claimed_at: string | null;
  claimed_by: string | null;
  finished_at: string | null;
  version: number;
}

/** Map a commands row to core. */
export function toCommand(r: CommandRow): Command {
  return {
    id: r.id,
    targetHost: r.target_host,
    // CHECK constraints guarantee the enumerations.
    kind: r.kind as CommandKind,
    ticketKey: r.ticket_key,
    args: r.args,
    status: r.status as CommandStatus,
    result: r.result,
    actor: r.actor,
    createdAt: ms(r.created_at),
    expiresAt: ms(r.expires_at),
    claimedAt: r.claimed_at === null ? null : ms(r.claimed_at),
    claimedBy: r.claimed_by,
    finishedAt: r.finished_at === null ? null : ms(r.finished_at),
    version: r.version,
  };
}

function* mustCommand(id: number): Op<CommandRow> {
  return (
    (yield* get<CommandRow>('SELECT * FROM commands WHERE id = ?', [id])) ?? refuse('not_found', `no command ${id}`)
  );
}

function stateOf(r: CommandRow): string {
  return r.status === 'queued'
    ? 'queued'
    : `${r.status}${r.claimed_by === null ? '' : ` (claimed by ${r.claimed_by})`}`;
}

/** Queue a command and log it; the enqueue also wakes the target host's daemon in PostgreSQL. */
export function* enqueueCommand(input: EnqueueCommandInput): Op<Command> {
  if (input.ticketKey !== null) {
    const t = yield* get<{ key: string }>('SELECT key FROM tickets WHERE key = ?', [input.ticketKey]);
    if (t === undefined) refuse('not_found', `no ticket ${input.ticketKey}`);
  }
  const row = yield* get<CommandRow>(
    `INSERT INTO commands (target_host, kind, ticket_key, args, status, actor, created_at, expires_at)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?) RETURNING *`,
    [
      input.targetHost,
      input.kind,
      input.ticketKey,
      JSON.stringify(input.args),
      input.actor,
      iso(input.now),
      iso(input.expiresAt),
    ],
  );
  if (row === undefined) throw new Error('INSERT ... RETURNING returned no command row');
  yield* insertEvent(input.event, input.now, { key: input.ticketKey ?? undefined });
  // The PostgreSQL driver un-comments this: NOTIFY is delivered at commit, so a woken daemon sees the row.
  // SQLite ignores the named parameter it does not use; its daemons poll.
  yield* get(`SELECT 1 AS queued /*pg: , pg_notify('${COMMANDS_CHANNEL}', @host) */`, { host: input.targetHost });
  return toCommand(row);
}

/** Claim the oldest queued, unexpired command of a host; null when none waits (or another claimer won it). */
export function* claimCommand(input: { host: string; claimer: string; now: number }): Op<Command | null> {
  const now = iso(input.now);
  const next = yield* get<CommandRow>(
    `SELECT * FROM commands WHERE target_host = ? AND status = 'queued' AND expires_at > ?
     ORDER BY id LIMIT 1 /*pg: FOR UPDATE SKIP LOCKED */`,
    [input.host, now],
  );
  if (next === undefined) return null;
  const row = yield* get<CommandRow>(
    `UPDATE commands SET status = 'running', claimed_at = ?, claimed_by = ?, version = version + 1
     WHERE id = ? AND version = ? AND status = 'queued' RETURNING *`,
    [now, input.claimer, next.id, next.version],
  );
  return row === undefined ? null : toCommand(row);
}

/** running -> done|failed, by the command's claimer only. */
export function* finishCommand(input: FinishCommandInput): Op<Command> {
  const cur = yield* mustCommand(input.id);
  if (cur.status !== 'running' || cur.claimed_by !== input.claimer)
    refuse('conflict', `cannot finish command ${cur.id} as ${input.claimer}: it is ${stateOf(cur)}`);
  const row = yield* get<CommandRow>(
    `UPDATE commands SET status = ?, result = ?, finished_at = ?, version = version + 1
     WHERE id = ? AND version = ? AND status = 'running' AND claimed_by = ? RETURNING *`,
    [input.status, JSON.stringify(input.result), iso(input.now), cur.id, cur.version, input.claimer],
  );
  if (row === undefined) refuse('conflict', `cannot finish command ${cur.id}: it changed meanwhile`);
  yield* insertEvent(input.event, input.now, { key: cur.ticket_key ?? undefined });
  return toCommand(row);
}

/** A running command of a dead claimer: claimed again by `rerunBy`, or failed with its result. */
export function* recoverCommand(input: RecoverCommandInput): Op<Command> {
  const cur = yield* mustCommand(input.id);
  if (cur.status !== 'running' || cur.claimed_by !== input.deadClaimer)
    refuse('conflict', `cannot recover command ${cur.id} from ${input.deadClaimer}: it is ${stateOf(cur)}`);
  const now = iso(input.now);
  const row =
    'rerunBy' in input.to
      ? yield* get<CommandRow>(
          `UPDATE commands SET claimed_at = ?, claimed_by = ?, version = version + 1
           WHERE id = ? AND version = ? AND status = 'running' AND claimed_by = ? RETURNING *`,
          [now, input.to.rerunBy, cur.id, cur.version, input.deadClaimer],
        )
      : yield* get<CommandRow>(
          `UPDATE commands SET status = 'failed', result = ?, finished_at = ?, version = version + 1
           WHERE id = ? AND version = ? AND status = 'running' AND claimed_by = ? RETURNING *`,
          [JSON.stringify(input.to.failed), now, cur.id, cur.version, input.deadClaimer],
        );
  if (row === undefined) refuse('conflict', `cannot recover command ${cur.id}: it changed meanwhile`);
  yield* insertEvent(input.event, input.now, { key: cur.ticket_key ?? undefined });
  return toCommand(row);
}

/** Every queued command past its expiry -> expired, one event each. Any host may expire any host's commands. */
export function* expireCommands(input: { now: number; actor: string }): Op<Command[]> {
  const now = iso(input.now);
  const rows = yield* all<CommandRow>(
    `UPDATE commands SET status = 'expired', result = ?, finished_at = ?, version = version + 1
     WHERE status = 'queued' AND expires_at <= ? RETURNING *`,
    [
      JSON.stringify({ ok: false, code: 'expired', message: 'no daemon of its host claimed it before it expired' }),
      now,
      now,
    ],
  );
  rows.sort((a, b) => a.id - b.id);
  for (const r of rows) {
    yield* insertEvent(
      {
        ticketKey: r.ticket_key,
        runtimeId: null,
        actor: input.actor,
        kind: 'command.expired',
        status: 'warning',
        summary: `${r.kind} ${r.ticket_key ?? '-'} on ${r.target_host} (command ${r.id}) expired: no daemon of ${r.target_host} claimed it since ${r.created_at}`,
        safeRetry: 'nothing was done; ask again once the host is back',
      },
      input.now,
    );
  }
  return rows.map(toCommand);
}

/** Commands newest first, filtered. */
export function* listCommands(filter: CommandFilter): Op<Command[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.ticketKey !== undefined) {
    where.push('ticket_key = ?');
    params.push(filter.ticketKey);
  }
  if (filter.host !== undefined) {
    where.push('target_host = ?');
    params.push(filter.host);
  }
  if (filter.statuses !== undefined) {
    if (filter.statuses.length === 0) return [];
    where.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
    params.push(...filter.statuses);
  }
  const rows = yield* all<CommandRow>(
    `SELECT * FROM commands ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    [...params, Math.max(0, Math.floor(filter.limit))],
  );
  return rows.map(toCommand);
}

/** One command, or null. */
export function* getCommand(id: number): Op<Command | null> {
  const row = yield* get<CommandRow>('SELECT * FROM commands WHERE id = ?', [id]);
  return row === undefined ? null : toCommand(row);
}
