import type {
  EventInput,
  McEvent,
  Message,
  MessageKind,
  MessageStatus,
  RuntimeSession,
  RuntimeStatus,
  Ticket,
  TicketStatus,
  EventStatus,
  ChecksState,
} from '../core/types.js';
import type { Lease, Workspace } from '../core/store.port.js';

// Row shapes as SQLite returns them, and their mapping to core types. Times are ISO-8601 UTC text in the
// database (readable with sqlite3) and epoch ms in core; the conversion happens only here.

/** Epoch ms -> ISO-8601 UTC text as stored. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Stored ISO-8601 text -> epoch ms. */
export function ms(text: string): number {
  const value = Date.parse(text);
  // A hand-edited row with a bad time must surface, not become NaN that silently compares false everywhere.
  if (Number.isNaN(value)) throw new Error(`store holds an unparsable time: ${JSON.stringify(text)}`);
  return value;
}

function msOrNull(text: string | null): number | null {
  return text === null ? null : ms(text);
}

export interface TicketRow {
  key: string;
  seq: number;
  title: string;
  body: string;
  status: string;
  profile: string;
  worker_pid: number | null;
  attempts: number;
  human_input_required: number;
  blocked_reason: string | null;
  check_in_seconds: number | null;
  check_in_at: string | null;
  review_checks: string | null;
  review_checks_at: string | null;
  /** Migration 8; absent in rows read by hand-written SELECTs of older columns. */
  host_label?: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface RuntimeRow {
  id: number;
  ticket_key: string;
  host: string;
  tmux_socket: string;
  tmux_session: string;
  pane_id: string | null;
  pid: number | null;
  pid_start: number | null;
  boot_id: string | null;
  status: string;
  exit_status: number | null;
  created_at: string;
  last_seen_at: string | null;
  dead_since: string | null;
  closed_at: string | null;
  closed_reason: string | null;
  last_marker: string | null;
  workdir: string | null;
  branch: string | null;
  submitted_screen: string | null;
  submitted_at: string | null;
  version: number;
}

export interface MessageRow {
  id: number;
  ticket_key: string;
  runtime_id: number | null;
  kind: string;
  body: string;
  status: string;
  attempts: number;
  delivery_token: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface EventRow {
  id: number;
  at: string;
  ticket_key: string | null;
  runtime_id: number | null;
  actor: string;
  kind: string;
  status: string;
  summary: string;
  root_cause: string | null;
  safe_retry: string | null;
  stop_condition: string | null;
  human_input_required: number;
  next_actions: string;
  artifacts: string;
}

export interface WorkspaceRow {
  id: number;
  repo: string;
  path: string;
  mode: string;
  slot: string | null;
  branch: string | null;
  base: string;
  ticket_key: string | null;
  created_at: string;
  updated_at: string;
  removed_at: string | null;
}

export interface LeaseRow {
  name: string;
  holder: string;
  expires_at: string;
}

/** Map a tickets row to core. */
export function toTicket(r: TicketRow): Ticket {
  return {
    key: r.key,
    title: r.title,
    body: r.body,
    // CHECK constraints guarantee the enumerations, so these casts cannot lie.
    status: r.status as TicketStatus,
    profile: r.profile,
    workerPid: r.worker_pid,
    attempts: r.attempts,
    humanInputRequired: r.human_input_required === 1,
    blockedReason: r.blocked_reason,
    checkInSeconds: r.check_in_seconds,
    checkInAt: msOrNull(r.check_in_at),
    reviewChecks: r.review_checks as ChecksState | null,
    reviewChecksAt: msOrNull(r.review_checks_at),
    hostLabel: r.host_label ?? null,
    version: r.version,
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
  };
}

/** Map a runtime_sessions row to core. */
export function toRuntime(r: RuntimeRow): RuntimeSession {
  return {
    id: r.id,
    ticketKey: r.ticket_key,
    host: r.host,
    tmuxSocket: r.tmux_socket,
    tmuxSession: r.tmux_session,
    paneId: r.pane_id,
    pid: r.pid,
    pidStart: r.pid_start,
    bootId: r.boot_id,
    status: r.status as RuntimeStatus,
    exitStatus: r.exit_status,
    createdAt: ms(r.created_at),
    lastSeenAt: msOrNull(r.last_seen_at),
    deadSince: msOrNull(r.dead_since),
    closedAt: msOrNull(r.closed_at),
    closedReason: r.closed_reason,
    lastMarker: r.last_marker,
    workdir: r.workdir,
    branch: r.branch,
    submittedScreen: r.submitted_screen,
    submittedAt: msOrNull(r.submitted_at),
    version: r.version,
  };
}

/** Map a messages row to core. */
export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    ticketKey: r.ticket_key,
    runtimeId: r.runtime_id,
    kind: r.kind as MessageKind,
    body: r.body,
    status: r.status as MessageStatus,
    attempts: r.attempts,
    deliveryToken: r.delivery_token,
    createdAt: ms(r.created_at),
    sentAt: msOrNull(r.sent_at),
  };
}

function stringArray(json: string): string[] {
  // Operators may hand-edit the log; a malformed array must not make the whole activity view unreadable.
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.map((x) => String(x)) : [];
  } catch {
    return [];
  }
}

/** Map an events row to core. */
export function toEvent(r: EventRow): McEvent {
  return {
    id: r.id,
    at: ms(r.at),
    ticketKey: r.ticket_key,
    runtimeId: r.runtime_id,
    actor: r.actor,
    kind: r.kind,
    status: r.status as EventStatus,
    summary: r.summary,
    rootCause: r.root_cause,
    safeRetry: r.safe_retry,
    stopCondition: r.stop_condition,
    humanInputRequired: r.human_input_required === 1,
    nextActions: stringArray(r.next_actions),
    artifacts: stringArray(r.artifacts),
  };
}

/** Map a workspaces row to core. */
export function toWorkspace(r: WorkspaceRow): Workspace {
  return {
    id: r.id,
    repo: r.repo,
    path: r.path,
    mode: r.mode as Workspace['mode'],
    slot: r.slot,
    branch: r.branch,
    base: r.base,
    ticketKey: r.ticket_key,
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
  };
}

/** Map a leases row to core. */
export function toLease(r: LeaseRow): Lease {
  return { name: r.name, holder: r.holder, expiresAt: ms(r.expires_at) };
}

/** Named parameters for inserting an event row. */
export function eventParams(e: EventInput, now: number): Record<string, string | number | null> {
  return {
    at: iso(now),
    ticket_key: e.ticketKey,
    runtime_id: e.runtimeId,
    actor: e.actor,
    kind: e.kind,
    status: e.status,
    summary: e.summary,
    root_cause: e.rootCause ?? null,
    safe_retry: e.safeRetry ?? null,
    stop_condition: e.stopCondition ?? null,
    human_input_required: e.humanInputRequired === true ? 1 : 0,
    next_actions: JSON.stringify(e.nextActions ?? []),
    artifacts: JSON.stringify(e.artifacts ?? []),
  };
}

/** Columns of runtime_sessions, for joins that alias them with a prefix. */
export const RUNTIME_COLUMNS = [
  'id',
  'ticket_key',
  'host',
  'tmux_socket',
  'tmux_session',
  'pane_id',
  'pid',
  'pid_start',
  'boot_id',
  'status',
  'exit_status',
  'created_at',
  'last_seen_at',
  'dead_since',
  'closed_at',
  'closed_reason',
  'last_marker',
  'version',
  'workdir',
  'branch',
  'submitted_screen',
  'submitted_at',
] as const satisfies readonly (keyof RuntimeRow)[];

/** Compile-time: a column added to RuntimeRow but not to RUNTIME_COLUMNS would be read as undefined by joins. */
export const RUNTIME_COLUMNS_COMPLETE: [Exclude<keyof RuntimeRow, (typeof RUNTIME_COLUMNS)[number]>] extends [never]
  ? true
  : never = true;
