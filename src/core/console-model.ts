import type { Finding, Snapshot } from './findings.js';
import { isHostOf, type HostView } from './hosts.js';
import { livenessOf, panesBySession } from './liveness.js';
import type { Lease, TicketOverview } from './store.port.js';
import type { PaneInfo } from './tmux.port.js';
import { TICKET_STATUSES, type ChecksState, type RuntimeStatus, type TicketStatus } from './types.js';

// What the console shows, computed from core snapshots only: the UI renders it and holds no domain logic.

export interface GridRow {
  key: string;
  /** Raw; the UI sanitizes every untrusted string before it reaches the terminal. */
  title: string;
  state: TicketStatus;
  /** `?` when the observation could not confirm it: never a guessed status. */
  runtime: RuntimeStatus | 'none' | '?' | 'checks';
  /** The review checks of its last REVIEW: marker (null: none wanted). */
  checks: ChecksState | null;
  live: boolean;
  pid: number | null;
  /** The open runtime's id (null: none): an action confirmed on this row acts on this runtime or not at all. */
  runtimeId?: number | null;
  /** The host the open runtime lives on (null: no open runtime). */
  host?: string | null;
  runtimeCreatedAt: number | null;
  attempts: number;
  pending: number;
  humanInput: boolean;
  /** Drift badge text that stands without colour, e.g. `HIDDEN-LIVE`, `DYING 12s`. */
  badge: string | null;
  rank: number;
  findings: Finding[];
}

export type ObservationState = { state: 'ok' | 'unknown' | 'stale'; reason: string | null; lastOkAt: number | null };

export interface ConsoleState {
  at: number;
  rows: GridRow[];
  counts: Record<TicketStatus, number>;
  driftCount: number;
  liveRuntimes: number;
  openRuntimes: number;
  observation: ObservationState;
  lease: Lease | null;
  /** The hosts sharing the store as of the last pass (empty before a pass or on a store with no daemon yet). */
  hosts?: readonly HostView[];
  /** When `hosts` was read (their ages are as of then; the clock moves them on). */
  hostsAt?: number;
}

const RANK: Record<TicketStatus, number> = { blocked: 1, in_progress: 2, todo: 3, in_review: 4, done: 5 };

function badgeOf(
  findings: Finding[],
  now: number,
  ttlMs: number,
  heartbeatAge: (host: string) => number | null,
  runtimeHost: string | null,
): string | null {
  const drift = findings.find((f) => f.drift !== null);
  if (!drift || !drift.drift) return null;
  if (drift.drift === 'UNREACHABLE') {
    const ageMs = runtimeHost === null ? null : heartbeatAge(runtimeHost);
    return ageMs === null ? 'UNREACHABLE' : `UNREACHABLE ${Math.round(ageMs / 1000)}s`;
  }
  if (drift.drift === 'DYING') {
    const until = drift.action.type === 'wait' && drift.action.until !== null ? drift.action.until : now + ttlMs;
    return `DYING ${Math.max(0, Math.ceil((until - now) / 1000))}s`;
  }
  return drift.drift;
}

/** Build the grid: one row per ticket, sorted by attention (drift and human input first). */
export function buildConsoleState(
  overview: readonly TicketOverview[],
  snapshot: Snapshot | null,
  findings: readonly Finding[],
  observation: ObservationState,
  lease: Lease | null,
  now: number,
): ConsoleState {
  const byTicket = new Map<string, Finding[]>();
  for (const f of findings) {
    if (!f.ticketKey) continue;
    const list = byTicket.get(f.ticketKey);
    if (list) list.push(f);
    else byTicket.set(f.ticketKey, [f]);
  }
  const panes = snapshot ? panesBySession(snapshot.tmux) : new Map<string, PaneInfo[]>();
  const counts = Object.fromEntries(TICKET_STATUSES.map((s) => [s, 0])) as Record<TicketStatus, number>;
  let driftCount = 0;
  let liveRuntimes = 0;
  let openRuntimes = 0;
  const ttlMs = snapshot?.policy.ttlMs ?? 30_000;
  const hosts = snapshot?.hosts ?? [];
  const byHost = new Map(hosts.map((h) => [h.host.id, h]));
  // The heartbeat's age now: the pass saw it `ageMs` old at `snapshot.at`, and the clock moved on since.
  const heartbeatAge = (host: string): number | null => {
    const v = byHost.get(host);
    if (!v || v.reach.kind === 'forgotten' || !snapshot) return null;
    return v.reach.ageMs + Math.max(0, now - snapshot.at);
  };
  const rows: GridRow[] = overview.map(({ ticket, runtime, pendingMessages }) => {
    counts[ticket.status]++;
    const fs = byTicket.get(ticket.key) ?? [];
    const openRow = runtime !== null && runtime.status !== 'closed' ? runtime : null;
    const badge = badgeOf(fs, now, ttlMs, heartbeatAge, openRow?.host ?? null);
    if (badge) driftCount++;
    const open = openRow !== null;
    if (open) openRuntimes++;
    let live = false;
    let status: GridRow['runtime'] = openRow ? openRow.status : 'none';
    if (openRow) {
      if (!snapshot || observation.state !== 'ok') status = '?';
      else {
        const l = livenessOf(openRow, snapshot.tmux, panes, snapshot.processes, snapshot.where);
        live = l.kind === 'live';
        // Another host's runtime is judged by that host's daemon: its row stands while that host beats.
        const remote = !isHostOf(openRow, snapshot.where);
        if (l.kind === 'unknown' && !(remote && byHost.get(openRow.host)?.reach.kind === 'reachable')) status = '?';
      }
    }
    if (live) liveRuntimes++;
    // While review checks run the row says so; they run beside the agent, not in it.
    if (ticket.reviewChecks === 'pending' || ticket.reviewChecks === 'running') status = 'checks';
    const rank = badge || ticket.humanInputRequired ? 0 : RANK[ticket.status];
    return {
      key: ticket.key,
      title: ticket.title,
      state: ticket.status,
      runtime: status,
      live,
      pid: openRow?.pid ?? null,
      runtimeId: openRow?.id ?? null,
      host: openRow?.host ?? null,
      runtimeCreatedAt: openRow?.createdAt ?? null,
      attempts: ticket.attempts,
      pending: pendingMessages,
      humanInput: ticket.humanInputRequired,
      checks: ticket.reviewChecks,
      badge,
      rank,
      findings: fs,
    };
  });
  // Orphan sessions whose ticket is unknown to this store have no row; they count as drift in the header.
  driftCount += findings.filter(
    (f) => f.drift && f.ticketKey && !overview.some((o) => o.ticket.key === f.ticketKey),
  ).length;
  rows.sort((a, b) => a.rank - b.rank || Number(a.key.slice(3)) - Number(b.key.slice(3)));
  return {
    at: now,
    rows,
    counts,
    driftCount,
    liveRuntimes,
    openRuntimes,
    observation,
    lease,
    hosts,
    hostsAt: snapshot?.at ?? now,
  };
}
