import { profileNamed, type Profile } from './config.js';
import type { DriftClass } from './drift-classes.js';
import type { HostView } from './hosts.js';
import type { Where } from './liveness.js';
import type { ProcessObservation } from './process.port.js';
import type { Marker, ScreenStatus } from './screen.js';
import type { ActiveRows } from './store.port.js';
import type { PaneInfo, TmuxObservation } from './tmux.port.js';
import type { Message, ProcessIdentity, RuntimeStatus, Ticket, TicketStatus } from './types.js';

// What the reconciler's judgement speaks in: a snapshot of the world goes in, findings with one action
// each come out. The judgement itself is in diagnose.ts (drift) and routine.ts (healthy runtimes).

export interface CloseTicketMove {
  key: string;
  version: number;
  to: TicketStatus;
  blockedReason: string | null;
}

export type Action =
  | { type: 'none' }
  | { type: 'wait'; until: number | null }
  | {
      type: 'adopt';
      key: string;
      ticketVersion: number;
      runtimeId: number | null;
      runtimeVersion: number | null;
      session: string;
      paneId: string;
      identity: ProcessIdentity;
      status: AgentRowStatus;
    }
  | { type: 'mark_exited'; runtimeId: number; runtimeVersion: number; exitStatus: number | null }
  /** Close a dead runtime row (nothing killed) and adopt the new process its session name now holds, as a new row. */
  | {
      type: 'replace';
      runtimeId: number;
      runtimeVersion: number;
      reason: string;
      adopt: Extract<Action, { type: 'adopt' }>;
    }
  | {
      type: 'close';
      runtimeId: number;
      runtimeVersion: number;
      reason: string;
      exitStatus: number | null;
      /** Kill this session (ours, still present) after capturing its last lines as evidence. */
      killSession: string | null;
      paneId: string | null;
      ticket: CloseTicketMove | null;
    }
  | {
      type: 'requeue_ticket';
      key: string;
      version: number;
      to: TicketStatus;
      blockedReason: string | null;
      killSession: string | null;
    }
  | { type: 'kill_orphan'; session: string; key: string }
  | {
      type: 'observe';
      runtimeId: number;
      runtimeVersion: number;
      status: AgentRowStatus | null;
      lastSeenAt: number;
      /** The agent works again after waiting for a human: someone answered, so the flag is cleared. */
      clearHumanInput: { key: string; ticketVersion: number } | null;
    }
  /** A blocking screen (sign-in, trust dialog, permission prompt): runtime `waiting`, the ticket asks a human. */
  | {
      type: 'screen_blocked';
      key: string;
      ticketVersion: number;
      runtimeId: number;
      runtimeVersion: number;
      screen: string[];
    }
  /**
   * Type a pending message. `paneId`'s screen in the snapshot is what the decision was made on: the pane is
   * captured again just before the paste, and a screen that changed meanwhile waits for the next pass.
   */
  | { type: 'deliver'; messageId: number; runtimeId: number; paneId: string; key: string; profile: string }
  | {
      type: 'resume_delivery';
      messageId: number;
      runtimeId: number;
      paneId: string;
      key: string;
      profile: string;
      /**
       * `paste`: the buffer is still loaded (never pasted). `submit`: pasted, and the draft shows on the input
       * lines. `mark_sent`: pasted and the agent works on it: the submit went through before the crash.
       */
      step: 'paste' | 'submit' | 'mark_sent';
    }
  /** One warning event in the terminal-state shape, written once per `once` id (kept in the event's artifacts). */
  | {
      type: 'warn';
      kind: string;
      once: string;
      rootCause: string;
      humanInputRequired: boolean;
      nextActions: string[];
      artifacts: string[];
    }
  | { type: 'marker'; key: string; ticketVersion: number; runtimeId: number; runtimeVersion: number; marker: Marker };

export interface Finding {
  ticketKey: string | null;
  runtimeId: number | null;
  /** The badge; null for routine work (delivery, markers, status bookkeeping) that is not drift. */
  drift: DriftClass | null;
  severity: 'info' | 'warning' | 'error';
  summary: string;
  evidence: string[];
  action: Action;
}

export interface Policy {
  ttlMs: number;
  retryLimit: number;
}

export interface Snapshot {
  at: number;
  where: Where;
  /** The hosts sharing the store, as of this pass (absent: not read, e.g. hand-built snapshots). */
  hosts?: readonly HostView[];
  policy: Policy;
  rows: ActiveRows;
  tmux: TmuxObservation;
  processes: ReadonlyMap<number, ProcessObservation>;
  /** Raw pane lines captured this pass, by pane id. A pane not captured keeps its stored status. */
  captures: ReadonlyMap<string, readonly string[]>;
  /**
   * When each captured screen last changed, by pane id (epoch ms; no later than its last window activity).
   * Missing: not known, and a busy line on that screen counts as current.
   */
  screenChangedAt?: ReadonlyMap<string, number>;
  /** tmux buffer names, or null when not listed this pass. */
  buffers: ReadonlySet<string> | null;
  profiles: Readonly<Record<string, Profile>>;
  defaultProfile: string;
}

/** What diagnose and routine know while judging one ticket. */
export interface TicketCtx {
  snap: Snapshot;
  t: Ticket;
  panes: Map<string, PaneInfo[]>;
  messages: Message[];
}

/** A finding with no evidence unless given. */
export function finding(f: Omit<Finding, 'evidence'> & { evidence?: string[] }): Finding {
  return { evidence: [], ...f };
}

/** Whole seconds, for summaries. */
export function age(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

/** The ticket's own profile, never a stand-in: a profile gone from the config judges nothing. */
export function profileOfTicket(t: Pick<Ticket, 'profile'>, snap: Pick<Snapshot, 'profiles'>): Profile | undefined {
  return profileNamed(snap, t.profile);
}

/** How long a pane's screen has been still, from what the snapshot knows; null when not known. */
export function quietFor(snap: Pick<Snapshot, 'at' | 'screenChangedAt'>, paneId: string): number | null {
  const changed = snap.screenChangedAt?.get(paneId);
  return changed === undefined ? null : Math.max(0, snap.at - changed);
}

/** Runtime row statuses a screen can show. */
export type AgentRowStatus = Extract<RuntimeStatus, 'running' | 'idle' | 'waiting'>;

/** The runtime row's status for what a screen shows (a blocking dialog waits for a human, like a question). */
export function rowStatusOf(s: ScreenStatus): AgentRowStatus {
  return s === 'blocked' ? 'waiting' : s;
}
