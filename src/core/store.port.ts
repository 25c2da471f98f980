import type { Command, CommandKind, CommandStatus } from './commands.js';
import type { Host } from './hosts.js';
import type { Result } from './result.js';
import type {
  ChecksState,
  EventInput,
  McEvent,
  Message,
  MessageKind,
  ProcessIdentity,
  RuntimeSession,
  RuntimeStatus,
  Ticket,
  TicketStatus,
} from './types.js';

// The store port: atomic domain operations. Each operation is ONE immediate transaction in which every
// update of a ticket or runtime row is a compare-and-set on its `version` (0 rows changed = `conflict`).
// Each mutating operation appends its event in the same transaction, so the log never disagrees with the
// rows. Async-shaped although the SQLite adapter is synchronous, so a server database can be added later.

export interface RuntimeTarget {
  host: string;
  tmuxSocket: string;
  tmuxSession: string;
}

export interface TicketOverview {
  ticket: Ticket;
  /** The newest open runtime of the ticket, else its newest closed one, else null. */
  runtime: RuntimeSession | null;
  pendingMessages: number;
}

export interface TicketDetail {
  ticket: Ticket;
  runtimes: RuntimeSession[];
  messages: Message[];
  /** Newest first. */
  events: McEvent[];
}

export interface BeginDeliveryInput {
  messageId: number;
  runtimeId: number;
  token: string;
  now: number;
  onto?: { screen: string; activityAt: number };
}

export interface FinishDeliveryInput {
  messageId: number;
  now: number;
  event: EventInput;
  /** Fingerprint of the screen the submit keys were sent onto; absent when nothing was typed now. */
  submittedScreen?: string;
}

/** The rows a reconcile pass needs: never all 50,000 tickets, only those that can drift. */
export interface ActiveRows {
  /** Tickets in_progress or blocked, tickets with an open runtime or an open message, and `extraKeys`. */
  tickets: Ticket[];
  /** Every runtime row that is not closed. */
  runtimes: RuntimeSession[];
  /** Every message that is pending or delivering. */
  messages: Message[];
}

export interface Lease {
  name: string;
  holder: string;
  expiresAt: number;
}

/** A worktree or pool slot mcc made, and the ticket that holds it (null: a free pool slot). */
export interface Workspace {
  id: number;
  repo: string;
  path: string;
  mode: 'worktree' | 'pool';
  /** `pool-N` in pool mode, null for a ticket's own worktree. */
  slot: string | null;
  branch: string | null;
  base: string;
  ticketKey: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * The directory a pickup takes, claimed in the claim's transaction: a worktree is refused when another ticket
 * holds its path or branch, a pool slot when its holder still has an open runtime.
 */
export interface WorkspaceClaim {
  repo: string;
  path: string;
  mode: 'worktree' | 'pool';
  slot: string | null;
  branch: string;
  base: string;
}

export interface ClaimInput {
  key: string;
  ticketVersion: number;
  runtime: RuntimeTarget;
  /** The isolated directory the runtime works in; absent for profiles without a workspace. */
  workspace?: WorkspaceClaim;
  /** The prompt queued for the new runtime, unless an undelivered prompt already waits (then it is rebound). */
  promptBody: string;
  now: number;
  event: EventInput;
}

/** The claims a pickup loop prepared for todo tickets, to take the first one no other host is taking. */
export interface ClaimNextInput {
  /** In the order to try them (oldest ticket first); each as `claim` takes it. */
  candidates: readonly ClaimInput[];
  /** The claiming host's labels: a ticket with a host label is taken only when it is one of them. */
  labels: readonly string[];
}

/** A claim made: the ticket now in_progress, its spawning runtime and the prompt queued for it. */
export interface Claimed {
  ticket: Ticket;
  runtime: RuntimeSession;
  prompt: Message;
}

export interface RecordSpawnInput {
  runtimeId: number;
  runtimeVersion: number;
  ticketKey: string;
  ticketVersion: number;
  paneId: string;
  identity: ProcessIdentity;
  now: number;
  event: EventInput;
}

export interface AdoptInput {
  key: string;
  ticketVersion: number;
  /** Existing row to adopt (CAS on runtimeVersion), or null to insert a row for an orphan session. */
  runtimeId: number | null;
  runtimeVersion: number | null;
  target: RuntimeTarget;
  paneId: string;
  identity: ProcessIdentity;
  status: Extract<RuntimeStatus, 'running' | 'idle' | 'waiting'>;
  now: number;
  event: EventInput;
}

export interface CloseRuntimeInput {
  runtimeId: number;
  runtimeVersion: number;
  reason: string;
  exitStatus: number | null;
  now: number;
  /** Move the ticket in the same transaction (CAS on version), or leave it alone when absent. */
  ticket?: { key: string; version: number; to: TicketStatus; blockedReason?: string | null };
  event: EventInput;
}

export interface SetTicketStatusInput {
  key: string;
  version: number;
  /** The move only applies from one of these states (guards against regressing in_review/done). */
  from: readonly TicketStatus[];
  to: TicketStatus;
  humanInputRequired?: boolean;
  blockedReason?: string | null;
  /** Reset attempts (operator unblock). */
  resetAttempts?: boolean;
  /** Set the review checks' state in the same write (a REVIEW: marker asks for them). */
  reviewChecks?: ChecksState | null;
  /** Restart the expected check-in at this time (request changes); null clears it. */
  checkInAt?: number | null;
  now: number;
  event: EventInput;
}

export interface SetChecksInput {
  key: string;
  /** Compare-and-set on the checks' state, not the ticket's version: the operator may move the ticket meanwhile. */
  from: ChecksState;
  to: ChecksState;
  now: number;
  event: EventInput;
}

export interface UpdateRuntimeInput {
  runtimeId: number;
  version: number;
  status?: RuntimeStatus;
  lastSeenAt?: number;
  lastMarker?: string;
  exitStatus?: number | null;
  deadSince?: number | null;
  now: number;
  event?: EventInput;
}

/** Which tickets to list; every given condition must hold. */
export interface TicketFilter {
  status?: TicketStatus;
  /** Only tickets whose review checks are pending or running. */
  reviewChecksDue?: boolean;
}

/** Characters of a title a list row carries: far more than a line shows, far less than a hostile megabyte. */
export const LIST_TITLE_HEAD = 1024;

/** One line of `mcc list`'s text view: only the columns it prints, never the body. */
export interface TicketListRow {
  key: string;
  status: TicketStatus;
  /** The title's first LIST_TITLE_HEAD characters. */
  title: string;
  /** The title goes on past `title`. */
  titleCut: boolean;
  attempts: number;
  /** The ticket's open (not closed) runtime, or null. */
  runtime: { id: number; status: RuntimeStatus; pid: number | null; createdAt: number } | null;
}

/** Which tickets a page or a stream holds, in ticket order (MC-9 before MC-10); every condition must hold. */
export interface TicketQuery {
  /** Only tickets in one of these states (absent: every state). */
  states?: readonly TicketStatus[];
  /** Leave out tickets in these states. */
  excludeStates?: readonly TicketStatus[];
  /** Only tickets after this key in ticket order (keyset paging: the previous page's last key). */
  after?: string;
  /** At most this many tickets, a whole number >= 1 (absent: all of them; a page requires it). */
  limit?: number;
}

/** A page of the ticket list, with the counts that say what it leaves out, all from one snapshot. */
export interface ListPage {
  rows: TicketListRow[];
  /** Tickets the states filter admits, ignoring `after` and `limit`. */
  total: number;
  /** Tickets the states filter admits after the page's last row (0: the page reached the end). */
  remaining: number;
  /** Every ticket of the store by state, whatever the filter. */
  byState: Record<TicketStatus, number>;
}

export interface EnqueueCommandInput {
  targetHost: string;
  kind: CommandKind;
  ticketKey: string | null;
  /** Stored as JSON text. */
  args: Readonly<Record<string, unknown>>;
  actor: string;
  now: number;
  /** Past this time a still-queued command is expired, never claimed. */
  expiresAt: number;
  event: EventInput;
}

export interface FinishCommandInput {
  id: number;
  /** Only the claimer finishes its command (compare-and-set on status running and claimed_by). */
  claimer: string;
  status: 'done' | 'failed';
  /** Stored as JSON text. */
  result: unknown;
  now: number;
  event: EventInput;
}

export interface RecoverCommandInput {
  id: number;
  /** The claimer proved gone; the command changes only while it is still running under this claimer. */
  deadClaimer: string;
  /** Run it again under a new claimer (claimed now), or fail it with `result`. */
  to: { rerunBy: string } | { failed: unknown };
  now: number;
  event: EventInput;
}

/** Which commands to list, newest first; every given condition must hold. */
export interface CommandFilter {
  ticketKey?: string;
  host?: string;
  statuses?: readonly CommandStatus[];
  limit: number;
}

export interface HeartbeatHostInput {
  id: string;
  bootId: string | null;
  version: string;
  tmuxSocket: string;
  /** Replaces the stored labels when given; kept otherwise. */
  labels?: readonly string[];
  /** Replaces the stored ssh target when given (null clears it); kept otherwise. */
  sshTarget?: string | null;
  /** The epoch this daemon registered with: refused (`conflict`, "fenced") when the stored one is newer. */
  epoch: number;
  /**
   * A legacy name of this host (the plain hostname rows carried before hosts had ids): its open runtime rows
   * are renamed to `id` in the same transaction (version + 1), so they stay this host's.
   */
  adoptLegacyHost?: string;
  now: number;
}

export interface ForgetHostInput {
  id: string;
  now: number;
  actor: string;
  /** The host event; one event per closed runtime is written beside it. */
  event: EventInput;
}

export interface ForgetHostOutcome {
  host: Host;
  /** The runtime rows closed `host_lost`, and their tickets where they moved back to todo. */
  closed: { runtime: RuntimeSession; ticket: Ticket | null }[];
}

export interface CreateTicketInput {
  title: string;
  body: string;
  profile: string;
  now: number;
  actor: string;
  checkInSeconds?: number | null;
  /** Only a host carrying this label picks the ticket up (null or absent: any host). */
  hostLabel?: string | null;
}

export interface TakeOverLeaseInput {
  name: string;
  from: string;
  holder: string;
  ttlMs: number;
  now: number;
  event: EventInput;
}

export interface StorePort {
  /** Where the store lives, for the console header and `mcc doctor`. */
  readonly location: string;
  /** A random id made when the store was created; tags our tmux sessions so two stores sharing a socket never touch each other's. */
  readonly storeId: string;

  createTicket(input: CreateTicketInput): Promise<Ticket>;
  getTicket(key: string): Promise<Ticket | null>;
  listTickets(filter?: TicketFilter): Promise<Ticket[]>;
  ticketDetail(key: string, opts?: { eventLimit?: number }): Promise<TicketDetail | null>;
  /** Every ticket with its current runtime and pending count (`mcc list`). */
  overview(): Promise<TicketOverview[]>;
  /** A page of `mcc list`'s text view: narrow rows, filtered, ordered and limited by the store. */
  listPage(query: TicketQuery & { limit: number }): Promise<ListPage>;
  /** How many tickets are in each state. */
  countByState(): Promise<Record<TicketStatus, number>>;
  /**
   * The overview rows `query` selects, handed to `visit` one at a time in ticket order from one snapshot, so
   * 50,000 full rows never sit in memory at once; resolves to how many were visited. `visit` must not call
   * the store (the adapter may hold its connection for the whole walk).
   */
  eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<number>;
  /** Every ticket's key and version: lets the console reload only the tickets that changed. */
  ticketVersions(): Promise<Map<string, number>>;
  /** The tickets with these keys (missing ones are left out). */
  getTickets(keys: readonly string[]): Promise<Ticket[]>;
  loadActive(extraKeys: readonly string[]): Promise<ActiveRows>;
  /** Changes whenever any process committed to the store; lets pollers skip unchanged reloads. */
  changeToken(): Promise<number>;

  /** todo -> in_progress, attempts+1, runtime row `spawning`, prompt pending. Conflict if not todo or version moved. */
  claim(input: ClaimInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession; prompt: Message }>>;
  /**
   * `claim` of the first candidate still todo, unchanged, without an open runtime, allowed by `labels` and not
   * being claimed by another host right now (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so hosts claiming at once
   * take different tickets instead of fighting over one); null when none is left.
   */
  claimNextTodo(input: ClaimNextInput): Promise<Result<Claimed | null>>;
  /** spawning -> running with pane and agent identity; ticket.worker_pid = pid. */
  recordSpawn(input: RecordSpawnInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>>;
  /** Point a todo/in_progress ticket and its runtime row at a live, verified runtime. */
  adopt(input: AdoptInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>>;
  /** Close a runtime; its undelivered messages return to the ticket's queue; optionally move the ticket. */
  closeRuntime(input: CloseRuntimeInput): Promise<Result<{ runtime: RuntimeSession; ticket: Ticket | null }>>;
  setTicketStatus(input: SetTicketStatusInput): Promise<Result<Ticket>>;
  /** Move the review checks from one state to the next (claims a run: pending -> running); `conflict` otherwise. */
  setChecks(input: SetChecksInput): Promise<Result<Ticket>>;
  updateRuntime(input: UpdateRuntimeInput): Promise<Result<RuntimeSession>>;

  queueMessage(input: {
    key: string;
    body: string;
    kind: MessageKind;
    now: number;
    event: EventInput;
  }): Promise<Result<Message>>;
  /**
   * pending -> delivering (attempts+1, bound to the runtime, delivery_token set), before any text is typed.
   * With `onto`: refused (`conflict`) while the runtime has not reacted to its last submit, i.e. `onto.screen`
   * is the fingerprint recorded by that submit and the pane printed nothing after it (`onto.activityAt`).
   */
  beginDelivery(input: BeginDeliveryInput): Promise<Result<Message>>;
  /** delivering -> sent; with `submittedScreen`, records on the runtime the screen the submit was typed onto. */
  finishDelivery(input: FinishDeliveryInput): Promise<Result<Message>>;
  /** delivering -> pending (nothing was typed). */
  revertDelivery(input: { messageId: number; now: number; event?: EventInput }): Promise<Result<Message>>;
  /** pending|delivering -> cancelled. */
  cancelMessage(input: { messageId: number; now: number; event: EventInput }): Promise<Result<Message>>;

  appendEvent(event: EventInput, now: number): Promise<McEvent>;
  listEvents(filter: { ticketKey?: string; limit: number }): Promise<McEvent[]>;

  /** Take or renew a named lease; `conflict` naming the holder while someone else's lease is unexpired. */
  acquireLease(input: { name: string; holder: string; ttlMs: number; now: number }): Promise<Result<Lease>>;
  /** Replace exactly holder `from` (proved dead) by `holder`, whatever the expiry, and log `event`; else `conflict`. */
  takeOverLease(input: TakeOverLeaseInput): Promise<Result<Lease>>;
  releaseLease(input: { name: string; holder: string }): Promise<void>;
  readLease(name: string): Promise<Lease | null>;

  /** Every workspace mcc made that was not removed, oldest first. */
  listWorkspaces(): Promise<Workspace[]>;
  /** Record that a workspace's directory was removed (`mcc worktrees prune`); its path and branch are free again. */
  markWorkspaceRemoved(input: { id: number; now: number; event: EventInput }): Promise<Result<Workspace>>;

  /** Queue an action for a host's daemon, with its event; `not_found` for a ticket that does not exist. */
  enqueueCommand(input: EnqueueCommandInput): Promise<Result<Command>>;
  /** The oldest queued, unexpired command of `host`, now running under `claimer`; null when none waits. */
  claimCommand(input: { host: string; claimer: string; now: number }): Promise<Result<Command | null>>;
  /** running -> done|failed with its result and event, by its claimer only; `conflict` otherwise. */
  finishCommand(input: FinishCommandInput): Promise<Result<Command>>;
  /** A running command whose claimer is gone: claimed again by a live claimer, or failed; `conflict` otherwise. */
  recoverCommand(input: RecoverCommandInput): Promise<Result<Command>>;
  /** Every queued command past its expiry -> expired, one event each; the commands expired. */
  expireCommands(input: { now: number; actor: string }): Promise<Command[]>;
  listCommands(filter: CommandFilter): Promise<Command[]>;
  getCommand(id: number): Promise<Command | null>;
  /**
   * Register or renew a host's heartbeat (insert or update its row; a forgotten host is remembered again).
   * `conflict` when the stored epoch is newer than `epoch`: the host was forgotten (fenced) meanwhile, and its
   * daemon must retire what it left behind before it registers again with the new epoch.
   */
  heartbeatHost(input: HeartbeatHostInput): Promise<Result<Host>>;
  /** Every host row, forgotten ones included, by id. */
  listHosts(): Promise<Host[]>;
  /**
   * Fence a host, in one transaction: epoch + 1, forgotten_at set, each open runtime of it closed `host_lost`
   * (undelivered messages back in the queue, as closeRuntime), its in_progress/blocked tickets back to todo,
   * one event per runtime and `event` for the host. `not_found` naming the known hosts.
   */
  forgetHost(input: ForgetHostInput): Promise<Result<ForgetHostOutcome>>;
  /** Runtime rows of `host` closed `host_lost`, newest first (at most `limit`): what its daemon must retire. */
  hostLostRuntimes(input: { host: string; limit: number }): Promise<RuntimeSession[]>;

  close(): void;
}
