import type {
  AdoptInput,
  ClaimInput,
  ClaimNextInput,
  CloseRuntimeInput,
  RecordSpawnInput,
  SetChecksInput,
  SetTicketStatusInput,
  UpdateRuntimeInput,
  Workspace,
  WorkspaceClaim,
  CreateTicketInput,
} from '../core/store.port.js';
import type { EventInput, Message, RuntimeSession, Ticket, TicketStatus } from '../core/types.js';
import {
  iso,
  toMessage,
  toRuntime,
  toTicket,
  toWorkspace,
  type MessageRow,
  type RuntimeRow,
  type TicketRow,
  type WorkspaceRow,
} from './rows.js';
import {
  casRuntime,
  casTicket,
  holderOf,
  insertEvent,
  mustRuntime,
  mustTicket,
  openRuntimeOf,
  refuseRuntime,
  refuseTicket,
} from './op-common.js';
import { all, get, refuse, run, type Op } from './sql-op.js';

// The ticket/runtime operations of the store port, as sql-op operations (the same code for every dialect).
// Each runs inside the driver's one write transaction: it checks the rows it read, compare-and-sets every
// update, and refuses (rolling back all of it) on the first mismatch.

/** Insert a todo ticket with the next key; keys are never reused, even if a row was deleted by hand. */
export function* createTicket(i: CreateTicketInput): Op<Ticket> {
  const seq = yield* get<{ value: number }>(
    // CASE, not SQLite's scalar max(a, b) (PostgreSQL spells it greatest): the larger of both, plus one.
    `UPDATE sequences SET value = 1 + CASE WHEN value >= (SELECT coalesce(max(seq), 0) FROM tickets) THEN value
       ELSE (SELECT coalesce(max(seq), 0) FROM tickets) END
     WHERE name = 'ticket' RETURNING value`,
  );
  if (seq === undefined) throw new Error("the sequences table lost its 'ticket' row");
  const row = (yield* get<TicketRow>(
    `INSERT INTO tickets (key, seq, title, body, status, profile, attempts, human_input_required, version,
       created_at, updated_at, check_in_seconds, host_label)
     VALUES (@key, @seq, @title, @body, 'todo', @profile, 0, 0, 1, @now, @now, @check_in, @host_label) RETURNING *`,
    {
      key: `MC-${seq.value}`,
      seq: seq.value,
      title: i.title,
      body: i.body,
      profile: i.profile,
      now: iso(i.now),
      check_in: i.checkInSeconds ?? null,
      host_label: i.hostLabel ?? null,
    },
  )) as TicketRow;
  yield* insertEvent(
    {
      ticketKey: row.key,
      runtimeId: null,
      actor: i.actor,
      kind: 'ticket.created',
      status: 'ok',
      summary: `created ${row.key}`,
    },
    i.now,
  );
  return toTicket(row);
}

function* insertRuntime(key: string, fields: Record<string, unknown>, action: string): Op<RuntimeRow> {
  // The partial unique index is the last line against a second open runtime; a clash is a conflict, not a bug,
  // and is asked with ON CONFLICT (a failed statement would abort a PostgreSQL transaction).
  const row = yield* get<RuntimeRow>(
    `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, pane_id, pid, pid_start, boot_id,
       status, created_at, last_seen_at, workdir, branch, version)
     VALUES (@key, @host, @tmux_socket, @tmux_session, @pane_id, @pid, @pid_start, @boot_id,
       @status, @now, @last_seen_at, @workdir, @branch, 1)
     ON CONFLICT (ticket_key) WHERE status <> 'closed' DO NOTHING
     RETURNING *`,
    {
      key,
      pane_id: null,
      pid: null,
      pid_start: null,
      boot_id: null,
      last_seen_at: null,
      workdir: null,
      branch: null,
      ...fields,
    },
  );
  if (row !== undefined) return row;
  const open = yield* openRuntimeOf(key);
  return refuse('conflict', `cannot ${action} ${key}: it already has an open runtime`, open && holderOf(open));
}

/** todo -> in_progress with a spawning runtime and its prompt (an undelivered prompt is rebound, not doubled). */
export function* claim(i: ClaimInput): Op<{ ticket: Ticket; runtime: RuntimeSession; prompt: Message }> {
  const t = yield* mustTicket(i.key);
  if (t.status !== 'todo' || t.version !== i.ticketVersion || (yield* openRuntimeOf(i.key)) !== undefined) {
    yield* refuseTicket(t, i.ticketVersion, 'claim');
  }
  const ticket = yield* casTicket(
    i.key,
    i.ticketVersion,
    "status = 'in_progress', attempts = attempts + 1, worker_pid = NULL, human_input_required = 0, blocked_reason = NULL",
    { now: iso(i.now) },
    'claim',
  );
  if (i.workspace !== undefined) yield* claimWorkspace(i.key, i.workspace, i.now);
  const runtime = yield* insertRuntime(
    i.key,
    {
      host: i.runtime.host,
      tmux_socket: i.runtime.tmuxSocket,
      tmux_session: i.runtime.tmuxSession,
      status: 'spawning',
      now: iso(i.now),
      workdir: i.workspace?.path ?? null,
      branch: i.workspace?.branch ?? null,
    },
    'claim',
  );
  const waiting = yield* get<MessageRow>(
    `SELECT * FROM messages WHERE ticket_key = ? AND kind = 'prompt' AND status IN ('pending', 'delivering')
     ORDER BY id LIMIT 1`,
    [i.key],
  );
  // A prompt that never reached the last runtime is still this ticket's prompt; a second one would be typed twice.
  const prompt =
    waiting !== undefined
      ? ((yield* get<MessageRow>(
          "UPDATE messages SET status = 'pending', runtime_id = ?, delivery_token = NULL WHERE id = ? RETURNING *",
          [runtime.id, waiting.id],
        )) as MessageRow)
      : ((yield* get<MessageRow>(
          `INSERT INTO messages (ticket_key, runtime_id, kind, body, status, attempts, created_at)
         VALUES (?, ?, 'prompt', ?, 'pending', 0, ?) RETURNING *`,
          [i.key, runtime.id, i.promptBody, iso(i.now)],
        )) as MessageRow);
  yield* insertEvent(i.event, i.now, { key: i.key, runtimeId: runtime.id });
  return { ticket: toTicket(ticket), runtime: toRuntime(runtime), prompt: toMessage(prompt) };
}

/**
 * `claim` the first candidate that is still todo at the version it was planned at, has no open runtime, is
 * allowed by the host's labels and is not locked by another host's claim right now. PostgreSQL skips a locked
 * row (`FOR UPDATE SKIP LOCKED`) instead of waiting for it, so hosts claiming at once take different tickets;
 * SQLite's write transactions are serial already. A candidate that moved on since it was planned is passed
 * over (the next pass plans it again). null when no candidate is left.
 */
export function* claimNextTodo(
  i: ClaimNextInput,
): Op<{ ticket: Ticket; runtime: RuntimeSession; prompt: Message } | null> {
  const byKey = new Map(i.candidates.map((c) => [c.key, c]));
  const passed: string[] = [];
  const labels = [...new Set(i.labels)];
  const labelSql =
    labels.length === 0
      ? 'host_label IS NULL'
      : `(host_label IS NULL OR host_label IN (${labels.map(() => '?').join(', ')}))`;
  while (passed.length < byKey.size) {
    const keys = [...byKey.keys()].filter((k) => !passed.includes(k));
    const row = yield* get<{ key: string; version: number }>(
      `SELECT key, version FROM tickets
       WHERE status = 'todo' AND key IN (${keys.map(() => '?').join(', ')}) AND ${labelSql}
         AND NOT EXISTS (SELECT 1 FROM runtime_sessions r WHERE r.ticket_key = tickets.key AND r.status <> 'closed')
       ORDER BY seq LIMIT 1 /*pg: FOR UPDATE SKIP LOCKED */`,
      [...keys, ...labels],
    );
    if (row === undefined) return null;
    const c = byKey.get(row.key);
    if (c !== undefined && c.ticketVersion === row.version) return yield* claim(c);
    passed.push(row.key);
  }
  return null;
}

/**
 * Take a worktree or pool slot for `key`. Its own row is taken again (a retry reuses its worktree); another
 * ticket's worktree never, and another ticket's pool slot only once that ticket has no open runtime. A branch
 * another live workspace has is refused by asking first (a unique violation would abort a PostgreSQL
 * transaction); ON CONFLICT turns whatever a concurrent writer slips past the unique indexes into a refusal.
 */
function* claimWorkspace(key: string, w: WorkspaceClaim, now: number): Op<void> {
  const row = yield* get<WorkspaceRow>('SELECT * FROM workspaces WHERE path = ? AND removed_at IS NULL', [w.path]);
  if (row !== undefined && row.ticket_key !== null && row.ticket_key !== key) {
    const open = yield* openRuntimeOf(row.ticket_key);
    if (w.mode === 'worktree' || row.mode !== 'pool' || open !== undefined) {
      const holder = open ? `${row.ticket_key} (${holderOf(open)})` : row.ticket_key;
      refuse(
        'conflict',
        `cannot claim ${w.path} for ${key}: ${row.slot ?? 'the worktree'} is held by ${holder}`,
        holder,
      );
    }
  }
  // A pool slot this ticket held before is given up: the ticket works in the one it takes now.
  if (w.mode === 'pool')
    yield* run(
      `UPDATE workspaces SET ticket_key = NULL, branch = NULL, updated_at = ? WHERE ticket_key = ? AND repo = ?
       AND mode = 'pool' AND path <> ? AND removed_at IS NULL`,
      [iso(now), key, w.repo, w.path],
    );
  const taken = yield* get<WorkspaceRow>(
    'SELECT * FROM workspaces WHERE repo = ? AND branch = ? AND removed_at IS NULL AND id <> ?',
    [w.repo, w.branch, row?.id ?? 0],
  );
  if (taken !== undefined)
    refuse('conflict', `cannot claim ${w.path} for ${key}: branch ${w.branch} is taken by ${taken.path}`);
  const params = { ...w, key, now: iso(now) };
  if (row === undefined) {
    const made = yield* get<{ id: number }>(
      `INSERT INTO workspaces (repo, path, mode, slot, branch, base, ticket_key, created_at, updated_at)
       VALUES (@repo, @path, @mode, @slot, @branch, @base, @key, @now, @now)
       ON CONFLICT DO NOTHING RETURNING id`,
      params,
    );
    if (made === undefined)
      refuse(
        'conflict',
        `cannot claim ${w.path} for ${key}: the path or branch ${w.branch} is taken by another workspace`,
      );
  } else {
    yield* run(
      'UPDATE workspaces SET ticket_key = @key, branch = @branch, base = @base, updated_at = @now WHERE id = @id',
      {
        ...params,
        id: row.id,
      },
    );
  }
}

/** The workspaces mcc made and did not remove, oldest first. */
export function* listWorkspaces(): Op<Workspace[]> {
  return (yield* all<WorkspaceRow>('SELECT * FROM workspaces WHERE removed_at IS NULL ORDER BY id')).map(toWorkspace);
}

/** A workspace's directory is gone: the row stays as history, its path and branch are free. */
export function* markWorkspaceRemoved(i: { id: number; now: number; event: EventInput }): Op<Workspace> {
  const row = yield* get<WorkspaceRow>(
    'UPDATE workspaces SET removed_at = ?, updated_at = ? WHERE id = ? AND removed_at IS NULL RETURNING *',
    [iso(i.now), iso(i.now), i.id],
  );
  if (row === undefined) refuse('not_found', `no workspace ${i.id} (already removed?)`);
  yield* insertEvent(i.event, i.now, row.ticket_key === null ? {} : { key: row.ticket_key });
  return toWorkspace(row);
}

/** spawning -> running with the pane and the agent's identity; the ticket records the worker pid. */
export function* recordSpawn(i: RecordSpawnInput): Op<{ ticket: Ticket; runtime: RuntimeSession }> {
  const r = yield* mustRuntime(i.runtimeId);
  if (r.ticket_key !== i.ticketKey) refuse('invalid', `runtime ${r.id} belongs to ${r.ticket_key}, not ${i.ticketKey}`);
  if (r.status !== 'spawning' || r.version !== i.runtimeVersion)
    refuseRuntime(r, i.runtimeVersion, 'record the spawn of');
  const t = yield* mustTicket(i.ticketKey);
  if (t.status !== 'in_progress' || t.version !== i.ticketVersion)
    yield* refuseTicket(t, i.ticketVersion, 'record the spawn of');
  const now = iso(i.now);
  const runtime = yield* casRuntime(
    r.id,
    i.runtimeVersion,
    `status = 'running', pane_id = @pane_id, pid = @pid, pid_start = @pid_start, boot_id = @boot_id,
     last_seen_at = @now, dead_since = NULL`,
    { pane_id: i.paneId, pid: i.identity.pid, pid_start: i.identity.start, boot_id: i.identity.bootId, now },
    'record the spawn of',
  );
  const ticket = yield* casTicket(
    t.key,
    i.ticketVersion,
    'worker_pid = @pid',
    { pid: i.identity.pid, now },
    'record the spawn of',
  );
  yield* insertEvent(i.event, i.now, { key: t.key, runtimeId: r.id });
  return { ticket: toTicket(ticket), runtime: toRuntime(runtime) };
}

/** Point a todo/in_progress ticket at a live, verified runtime; in_review, done and blocked are never moved. */
export function* adopt(i: AdoptInput): Op<{ ticket: Ticket; runtime: RuntimeSession }> {
  const t = yield* mustTicket(i.key);
  if ((t.status !== 'todo' && t.status !== 'in_progress') || t.version !== i.ticketVersion) {
    yield* refuseTicket(t, i.ticketVersion, 'adopt a runtime for');
  }
  const now = iso(i.now);
  const fields = {
    host: i.target.host,
    tmux_socket: i.target.tmuxSocket,
    tmux_session: i.target.tmuxSession,
    pane_id: i.paneId,
    pid: i.identity.pid,
    pid_start: i.identity.start,
    boot_id: i.identity.bootId,
    status: i.status,
    now,
  };
  let runtime: RuntimeRow;
  if (i.runtimeId !== null) {
    if (i.runtimeVersion === null) refuse('invalid', `adopting runtime ${i.runtimeId} needs its version`);
    const r = yield* mustRuntime(i.runtimeId);
    if (r.ticket_key !== i.key) refuse('invalid', `runtime ${r.id} belongs to ${r.ticket_key}, not ${i.key}`);
    if (r.status === 'closed' || r.version !== i.runtimeVersion) refuseRuntime(r, i.runtimeVersion, 'adopt');
    runtime = yield* casRuntime(
      r.id,
      i.runtimeVersion,
      `status = @status, host = @host, tmux_socket = @tmux_socket, tmux_session = @tmux_session, pane_id = @pane_id,
       pid = @pid, pid_start = @pid_start, boot_id = @boot_id, last_seen_at = @now, dead_since = NULL`,
      fields,
      'adopt',
    );
  } else {
    const open = yield* openRuntimeOf(i.key);
    if (open !== undefined) {
      const holder = holderOf(open);
      refuse(
        'conflict',
        `cannot adopt a session for ${i.key}: it already has open runtime ${open.id}, held by ${holder}`,
        holder,
      );
    }
    // Fencing: the very agent of a runtime `mcc host forget` closed (host_lost) is never adopted again, whatever
    // pass asks (one that was paused across the forget acts on old authority): its host's daemon retires it.
    const fenced = yield* get<{ id: number }>(
      `SELECT id FROM runtime_sessions
        WHERE ticket_key = ? AND status = 'closed' AND closed_reason = 'host_lost' AND host = ?
          AND pid = ? AND pid_start = ? AND boot_id = ?
        ORDER BY id DESC LIMIT 1`,
      [i.key, i.target.host, i.identity.pid, i.identity.start, i.identity.bootId],
    );
    if (fenced !== undefined) {
      refuse(
        'conflict',
        `cannot adopt ${i.target.tmuxSession} for ${i.key}: its agent (pid ${i.identity.pid}) belonged to runtime ` +
          `${fenced.id}, closed host_lost when host ${i.target.host} was forgotten; its daemon retires it instead`,
      );
    }
    runtime = yield* insertRuntime(i.key, { ...fields, last_seen_at: now }, 'adopt a session for');
  }
  const ticket = yield* casTicket(
    t.key,
    i.ticketVersion,
    "status = 'in_progress', worker_pid = @pid, blocked_reason = NULL",
    { pid: i.identity.pid, now },
    'adopt a runtime for',
  );
  yield* insertEvent(i.event, i.now, { key: t.key, runtimeId: runtime.id });
  return { ticket: toTicket(ticket), runtime: toRuntime(runtime) };
}

/** Leaving `blocked` clears the reason unless one is given; entering or staying keeps the old one by default. */
function blockedReasonFor(to: TicketStatus, given: string | null | undefined, current: string | null): string | null {
  if (given !== undefined) return given;
  return to === 'blocked' ? current : null;
}

/** Close a runtime; its pending and delivering messages go back to the ticket's queue; optionally move the ticket. */
export function* closeRuntime(i: CloseRuntimeInput): Op<{ runtime: RuntimeSession; ticket: Ticket | null }> {
  const r = yield* mustRuntime(i.runtimeId);
  if (r.status === 'closed' || r.version !== i.runtimeVersion) refuseRuntime(r, i.runtimeVersion, 'close');
  const now = iso(i.now);
  const runtime = yield* casRuntime(
    r.id,
    i.runtimeVersion,
    "status = 'closed', closed_at = @now, closed_reason = @reason, exit_status = coalesce(@exit_status, exit_status)",
    { now, reason: i.reason, exit_status: i.exitStatus },
    'close',
  );
  // Text that was never confirmed typed belongs to the ticket, not to a dead pane: the next runtime sends it.
  yield* run("UPDATE messages SET runtime_id = NULL WHERE runtime_id = ? AND status = 'pending'", [r.id]);
  yield* run(
    "UPDATE messages SET status = 'pending', runtime_id = NULL, delivery_token = NULL WHERE runtime_id = ? AND status = 'delivering'",
    [r.id],
  );
  let ticket: TicketRow | null = null;
  if (i.ticket !== undefined) {
    const move = i.ticket;
    if (move.key !== r.ticket_key) refuse('invalid', `runtime ${r.id} belongs to ${r.ticket_key}, not ${move.key}`);
    const t = yield* mustTicket(move.key);
    if (t.version !== move.version) yield* refuseTicket(t, move.version, `move to ${move.to}`);
    ticket = yield* casTicket(
      t.key,
      move.version,
      `status = @to, blocked_reason = @blocked_reason, worker_pid = ${move.to === 'in_progress' ? 'worker_pid' : 'NULL'}`,
      { to: move.to, blocked_reason: blockedReasonFor(move.to, move.blockedReason, t.blocked_reason), now },
      `move to ${move.to}`,
    );
  } else if (r.pid !== null) {
    // A ticket left where it is (in_review, done, blocked) must not keep pointing at a dead worker.
    const t = yield* mustTicket(r.ticket_key);
    if (t.worker_pid === r.pid)
      ticket = yield* casTicket(t.key, t.version, 'worker_pid = NULL', { now }, 'release worker');
  }
  yield* insertEvent(i.event, i.now, { key: r.ticket_key, runtimeId: r.id });
  return { runtime: toRuntime(runtime), ticket: ticket === null ? null : toTicket(ticket) };
}

/** Move a ticket from one of `from` to `to`, compare-and-set on its version. */
export function* setTicketStatus(i: SetTicketStatusInput): Op<Ticket> {
  const t = yield* mustTicket(i.key);
  const action = `move to ${i.to}`;
  if (!i.from.includes(t.status as TicketStatus) || t.version !== i.version) yield* refuseTicket(t, i.version, action);
  const releasesWorker = i.to === 'todo' || i.to === 'blocked' || i.to === 'done';
  const sets = [
    'status = @to',
    'blocked_reason = @blocked_reason',
    i.humanInputRequired === undefined ? null : 'human_input_required = @hir',
    i.resetAttempts === true ? 'attempts = 0' : null,
    releasesWorker ? 'worker_pid = NULL' : null,
    i.reviewChecks === undefined ? null : 'review_checks = @review_checks, review_checks_at = @now',
    i.checkInAt === undefined ? null : 'check_in_at = @check_in_at',
  ].filter((s): s is string => s !== null);
  const ticket = yield* casTicket(
    t.key,
    i.version,
    sets.join(', '),
    {
      to: i.to,
      blocked_reason: blockedReasonFor(i.to, i.blockedReason, t.blocked_reason),
      hir: i.humanInputRequired === true ? 1 : 0,
      review_checks: i.reviewChecks ?? null,
      check_in_at: i.checkInAt == null ? null : iso(i.checkInAt),
      now: iso(i.now),
    },
    action,
  );
  yield* insertEvent(i.event, i.now, { key: t.key });
  return toTicket(ticket);
}

/** Move a ticket's review checks from one state to the next; the claim of a run is this compare-and-set. */
export function* setChecks(i: SetChecksInput): Op<Ticket> {
  const t = yield* mustTicket(i.key);
  if (t.review_checks !== i.from)
    refuse('conflict', `the review checks of ${t.key} are ${t.review_checks ?? 'not wanted'}, not ${i.from}`);
  const ticket = yield* casTicket(
    t.key,
    t.version,
    'review_checks = @to, review_checks_at = @now',
    { to: i.to, now: iso(i.now) },
    `mark its checks ${i.to}`,
  );
  yield* insertEvent(i.event, i.now, { key: t.key });
  return toTicket(ticket);
}

/** Change only the given fields of an open runtime; closing goes through closeRuntime (messages must move). */
export function* updateRuntime(i: UpdateRuntimeInput): Op<RuntimeSession> {
  if (i.status === 'closed')
    refuse('invalid', `runtime ${i.runtimeId}: close it with closeRuntime, which also requeues its messages`);
  const r = yield* mustRuntime(i.runtimeId);
  if (r.status === 'closed' || r.version !== i.version) refuseRuntime(r, i.version, 'update');
  const sets: string[] = [];
  const params: Record<string, unknown> = {};
  const set = (column: string, value: unknown): void => {
    sets.push(`${column} = @${column}`);
    params[column] = value;
  };
  if (i.status !== undefined) set('status', i.status);
  if (i.lastSeenAt !== undefined) set('last_seen_at', iso(i.lastSeenAt));
  if (i.lastMarker !== undefined) set('last_marker', i.lastMarker);
  if (i.exitStatus !== undefined) set('exit_status', i.exitStatus);
  if (i.deadSince !== undefined) set('dead_since', i.deadSince === null ? null : iso(i.deadSince));
  // With nothing to change the CAS still bumps the version, which is what a caller asserting freshness wants.
  const runtime = yield* casRuntime(r.id, i.version, sets.length === 0 ? 'id = id' : sets.join(', '), params, 'update');
  if (i.event !== undefined) yield* insertEvent(i.event, i.now, { key: r.ticket_key, runtimeId: r.id });
  return toRuntime(runtime);
}
