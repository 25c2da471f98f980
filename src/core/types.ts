// Domain types shared by every layer. Times are epoch milliseconds in core; the store converts them to
// ISO-8601 text for operators who query the database with sqlite3.

export const TICKET_STATUSES = ['todo', 'in_progress', 'in_review', 'done', 'blocked'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const RUNTIME_STATUSES = ['spawning', 'running', 'idle', 'waiting', 'exited', 'closed'] as const;
export type RuntimeStatus = (typeof RUNTIME_STATUSES)[number];

export const MESSAGE_STATUSES = ['pending', 'delivering', 'sent', 'cancelled'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** `prompt` is the ticket's own text queued at claim; `operator` is text sent with `mcc send`. */
export type MessageKind = 'prompt' | 'operator';

export const EVENT_STATUSES = ['ok', 'warning', 'error'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Where a ticket's review checks are: wanted after a REVIEW: marker, running, or finished ok/failed. */
export const CHECKS_STATES = ['pending', 'running', 'ok', 'failed'] as const;
export type ChecksState = (typeof CHECKS_STATES)[number];

export const TICKET_KEY_RE = /^MC-[1-9][0-9]{0,8}$/;
export const SESSION_PREFIX = 'mc-';

/** Why `key` was refused, quoting at most its first 40 characters (a hostile key can be megabytes long). */
export function notAKey(key: string): string {
  const shown = key.length > 40 ? `${key.slice(0, 40)}... (${key.length} characters)` : key;
  return `"${shown}" is not a ticket key (MC-<number>)`;
}

/** Session name for a ticket: `mc-MC-12`. Keys are validated, so no ticket text ever reaches tmux. */
export function sessionName(key: string): string {
  return `${SESSION_PREFIX}${key}`;
}

/** Ticket key of one of our sessions, or null when the name is not exactly `mc-MC-<n>`. */
export function keyOfSession(name: string): string | null {
  if (!name.startsWith(SESSION_PREFIX)) return null;
  const key = name.slice(SESSION_PREFIX.length);
  return TICKET_KEY_RE.test(key) ? key : null;
}

export interface Ticket {
  key: string;
  title: string;
  body: string;
  status: TicketStatus;
  profile: string;
  workerPid: number | null;
  attempts: number;
  /** Set by a QUESTION: marker, cleared when the operator sends a message. */
  humanInputRequired: boolean;
  /** Why the ticket is blocked (retry limit, operator), shown in the console. */
  blockedReason: string | null;
  /** Expected check-in: how long an agent may work without a marker (null: the profile's default). */
  checkInSeconds: number | null;
  /** A check-in deadline restarted by the operator (request changes); the runtime's start counts otherwise. */
  checkInAt: number | null;
  /** The review checks of the last REVIEW: marker; null when none were wanted. */
  reviewChecks: ChecksState | null;
  /** When the review checks last changed state (a `running` one that is too old was cut by a restart). */
  reviewChecksAt: number | null;
  /** Only a host carrying this label picks the ticket up (`mcc add --host-label`); absent or null: any host. */
  hostLabel?: string | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Identity of a process that survives PID reuse: pid + start time (clock ticks since boot) + boot id. */
export interface ProcessIdentity {
  pid: number;
  start: number;
  bootId: string;
}

export interface RuntimeSession {
  id: number;
  ticketKey: string;
  host: string;
  tmuxSocket: string;
  tmuxSession: string;
  paneId: string | null;
  pid: number | null;
  pidStart: number | null;
  bootId: string | null;
  status: RuntimeStatus;
  exitStatus: number | null;
  createdAt: number;
  /** Last time the agent was observed alive. */
  lastSeenAt: number | null;
  /** First time the agent was observed dead (status `exited`); the TTL to closing counts from here. */
  deadSince: number | null;
  closedAt: number | null;
  closedReason: string | null;
  /** Fingerprint of the last DONE:/REVIEW:/QUESTION: line acted on, so each marker acts once. */
  lastMarker: string | null;
  /** The directory the agent runs in (a worktree or pool slot), when its profile isolates work. */
  workdir: string | null;
  /** The git branch the agent works on in `workdir`. */
  branch: string | null;
  /**
   * Fingerprint of the screen the last submit was typed onto, and when (see `screenFingerprint`). Until the
   * agent's screen differs from it, or the pane printed after `submittedAt`, the agent has not taken that
   * text (a frozen or slow agent shows the same ready prompt), and nothing more is typed into it.
   */
  submittedScreen: string | null;
  submittedAt: number | null;
  version: number;
}

export interface Message {
  id: number;
  ticketKey: string;
  runtimeId: number | null;
  kind: MessageKind;
  body: string;
  status: MessageStatus;
  attempts: number;
  /** Names the tmux buffer of the delivery in flight, so crash recovery never pastes twice. */
  deliveryToken: string | null;
  createdAt: number;
  sentAt: number | null;
}

/** The activity log entry, in the shape of the seed's terminal-state contract. */
export interface EventInput {
  ticketKey: string | null;
  runtimeId: number | null;
  actor: string;
  kind: string;
  status: EventStatus;
  summary: string;
  rootCause?: string | null;
  safeRetry?: string | null;
  stopCondition?: string | null;
  humanInputRequired?: boolean;
  nextActions?: string[];
  artifacts?: string[];
}

export interface McEvent extends Required<Omit<EventInput, 'rootCause' | 'safeRetry' | 'stopCondition'>> {
  id: number;
  at: number;
  rootCause: string | null;
  safeRetry: string | null;
  stopCondition: string | null;
}
