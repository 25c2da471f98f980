import {
  age,
  finding,
  profileOfTicket,
  quietFor,
  rowStatusOf,
  type Action,
  type Finding,
  type Policy,
  type Snapshot,
  type TicketCtx,
} from './findings.js';
import { isHostOf } from './hosts.js';
import { livenessOf, panesBySession, isOursOrUntagged, type Liveness } from './liveness.js';
import { reviewIdle } from './review.js';
import { routine } from './routine.js';
import { readScreen } from './screen.js';
import type { PaneInfo } from './tmux.port.js';
import {
  keyOfSession,
  sessionName,
  type Message,
  type ProcessIdentity,
  type RuntimeSession,
  type Ticket,
  type TicketStatus,
} from './types.js';

// The reconciler's judgement: diagnose(snapshot) -> Finding[]. Pure: everything it knows is in the
// snapshot, so every drift class is tested exhaustively without tmux or SQLite. Level-triggered: it never
// relies on having seen a transition, only on what the rows and the world say now.

/** The longest wait between automatic attempts at a ticket. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** How long a ticket that went back to todo after `attempts` attempts waits before an automatic pickup. */
export function retryDelayMs(attempts: number, ttlMs: number): number {
  if (attempts <= 0) return 0;
  return Math.min(MAX_RETRY_DELAY_MS, ttlMs * 2 ** (attempts - 1));
}

function requeueTarget(t: Ticket, policy: Policy, why: string): { to: TicketStatus; blockedReason: string | null } {
  if (t.attempts >= policy.retryLimit) {
    return {
      to: 'blocked',
      blockedReason: `retry limit reached (${t.attempts}/${policy.retryLimit}); last runtime: ${why}`,
    };
  }
  return { to: 'todo', blockedReason: null };
}

/** Diagnose every ticket that can drift. Pure; the order of findings is stable. */
export function diagnose(snap: Snapshot): Finding[] {
  const out: Finding[] = [];
  if (snap.tmux.kind === 'unknown') {
    out.push(
      finding({
        ticketKey: null,
        runtimeId: null,
        drift: 'UNKNOWN',
        severity: 'warning',
        summary: `tmux could not be observed: ${snap.tmux.reason}; no runtime action this pass`,
        action: { type: 'none' },
      }),
    );
    return out;
  }
  const panes = panesBySession(snap.tmux);
  const openByTicket = new Map<string, RuntimeSession[]>();
  for (const r of snap.rows.runtimes) {
    if (r.status === 'closed') continue;
    const list = openByTicket.get(r.ticketKey);
    if (list) list.push(r);
    else openByTicket.set(r.ticketKey, [r]);
  }
  const messagesByTicket = new Map<string, Message[]>();
  for (const m of snap.rows.messages) {
    const list = messagesByTicket.get(m.ticketKey);
    if (list) list.push(m);
    else messagesByTicket.set(m.ticketKey, [m]);
  }
  const tickets = new Map(snap.rows.tickets.map((t) => [t.key, t]));
  const keys = [...tickets.keys()].sort(compareKeys);
  for (const key of keys) {
    const t = tickets.get(key)!;
    const rows = openByTicket.get(key) ?? [];
    const ctx: TicketCtx = { snap, t, panes, messages: messagesByTicket.get(key) ?? [] };
    if (rows.length > 0) for (const r of rows) out.push(...diagnoseRuntime(ctx, r));
    else out.push(...diagnoseNoRuntime(ctx));
  }
  // Sessions named mc-<key> whose key is not a ticket of this store: never ours to touch.
  for (const [session, list] of panes) {
    const key = keyOfSession(session);
    const pane = list[0];
    if (!key || !pane || tickets.has(key) || !isOursOrUntagged(pane, snap.where)) continue;
    out.push(
      finding({
        ticketKey: key,
        runtimeId: null,
        drift: 'NEEDS-OPERATOR',
        severity: 'warning',
        summary: `session ${session} has no ticket ${key} in this store; left alone`,
        evidence: [`pane ${pane.paneId} pid ${pane.panePid}`],
        action: { type: 'none' },
      }),
    );
  }
  return out;
}

function compareKeys(a: string, b: string): number {
  return Number(a.slice(3)) - Number(b.slice(3));
}

function diagnoseRuntime(ctx: TicketCtx, r: RuntimeSession): Finding[] {
  const { snap, t } = ctx;
  const live = livenessOf(r, snap.tmux, ctx.panes, snap.processes, snap.where);
  const base = { ticketKey: t.key, runtimeId: r.id };
  switch (live.kind) {
    case 'unknown':
      if (!isHostOf(r, snap.where)) return remoteRuntime(snap, r, live.why);
      return [
        finding({
          ...base,
          drift: 'UNKNOWN',
          severity: 'warning',
          summary: `cannot confirm runtime ${r.id}: ${live.why}; declined`,
          action: { type: 'none' },
        }),
      ];
    case 'live':
    case 'unrecorded':
      return diagnoseLive(ctx, r, live);
    case 'dead':
      return (live.pane === null && replacedSession(ctx, r, live)) || diagnoseDead(ctx, r, live);
    default: {
      const never: never = live;
      throw new Error(`unhandled liveness ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A runtime of another host is judged there, by that host's daemon, never here: nothing is closed, re-queued
 * or spawned for it. Its host's heartbeat says how it is shown: reachable (its daemon is at work: no warning),
 * UNREACHABLE (unverifiable, never dead: one standing warning), or unknown to the hosts table.
 */
function remoteRuntime(snap: Snapshot, r: RuntimeSession, why: string): Finding[] {
  const base = { ticketKey: r.ticketKey, runtimeId: r.id, action: { type: 'none' } as const };
  const view = snap.hosts?.find((h) => h.host.id === r.host);
  if (view?.reach.kind === 'reachable') {
    return [
      finding({
        ...base,
        drift: null,
        severity: 'info',
        summary: `runtime ${r.id} lives on host ${r.host}, judged by that host's daemon`,
        evidence: [`last heartbeat ${age(view.reach.ageMs)} ago`],
      }),
    ];
  }
  if (view?.reach.kind === 'unreachable') {
    // The age goes in the evidence, not the summary: a standing warning is logged once, not once per pass.
    return [
      finding({
        ...base,
        drift: 'UNREACHABLE',
        severity: 'warning',
        summary:
          `runtime ${r.id} lives on host ${r.host}, which is UNREACHABLE (no heartbeat within hostTtlSeconds); ` +
          'nothing closed, re-queued or spawned elsewhere',
        evidence: [`last heartbeat ${age(view.reach.ageMs)} ago`, why],
      }),
    ];
  }
  return [
    finding({
      ...base,
      drift: 'UNKNOWN',
      severity: 'warning',
      summary: `cannot confirm runtime ${r.id}: ${why}; declined`,
    }),
  ];
}

/**
 * The row's pane is gone but its session name now holds another live process (re-created by hand, or after
 * a reboot). The row is closed (nothing killed or signalled) and the newcomer adopted as a new runtime, in
 * one step, so the pass after finds nothing; the old row's history, and what was delivered to it, stays.
 */
function replacedSession(
  ctx: TicketCtx,
  r: RuntimeSession,
  dead: Extract<Liveness, { kind: 'dead' }>,
): Finding[] | null {
  const { snap, t } = ctx;
  const pane = ctx.panes.get(r.tmuxSession)?.[0];
  if (!pane || pane.paneDead || !isOursOrUntagged(pane, snap.where)) return null;
  if (t.status === 'blocked') {
    // Said now, in the words the orphan check will use once the dead row is closed: one standing warning.
    return [blockedButRuns(t, r.tmuxSession, pane), ...diagnoseDead(ctx, r, dead)];
  }
  if (t.status !== 'todo' && t.status !== 'in_progress') return null;
  const base = { ticketKey: t.key, runtimeId: r.id };
  // A recorded agent that still runs outside its pane is not life either (invariant 6): never signalled,
  // never pointed at again.
  const recorded = r.pid === null ? undefined : snap.processes.get(r.pid);
  if (recorded === undefined && r.pid !== null) return null;
  if (recorded?.kind === 'unknown') {
    return [
      finding({
        ...base,
        drift: 'UNKNOWN',
        severity: 'warning',
        summary: `cannot confirm whether agent pid ${r.pid} of ${t.key} lives: ${recorded.reason}; declined`,
        action: { type: 'none' },
      }),
    ];
  }
  const obs = snap.processes.get(pane.panePid);
  if (obs?.kind !== 'alive') return null;
  const adopt = adoptAction(t, null, r.tmuxSession, pane, obs.identity, snap);
  return [
    finding({
      ...base,
      drift: 'ORPHAN',
      severity: 'warning',
      summary: `${r.tmuxSession} was re-created and runs pid ${pane.panePid}; runtime ${r.id}'s agent is no longer in it: close the row, adopt the new one`,
      evidence: [`pane ${pane.paneId} pid ${pane.panePid}`, dead.why],
      action: {
        type: 'replace',
        runtimeId: r.id,
        runtimeVersion: r.version,
        reason: `session re-created: ${dead.why}`,
        adopt,
      },
    }),
  ];
}

function adoptAction(
  t: Ticket,
  r: RuntimeSession | null,
  session: string,
  pane: PaneInfo,
  identity: ProcessIdentity,
  snap: Snapshot,
): Extract<Action, { type: 'adopt' }> {
  const profile = profileOfTicket(t, snap);
  const lines = snap.captures.get(pane.paneId);
  const read = profile && lines ? readScreen(lines, profile, quietFor(snap, pane.paneId)).status : null;
  const status = read ? rowStatusOf(read) : 'running';
  return {
    type: 'adopt',
    key: t.key,
    ticketVersion: t.version,
    runtimeId: r?.id ?? null,
    runtimeVersion: r?.version ?? null,
    session,
    paneId: pane.paneId,
    identity,
    status,
  };
}

function diagnoseLive(
  ctx: TicketCtx,
  r: RuntimeSession,
  live: Extract<Liveness, { kind: 'live' | 'unrecorded' }>,
): Finding[] {
  const { snap, t } = ctx;
  const base = { ticketKey: t.key, runtimeId: r.id };
  const evidence = [
    `session ${r.tmuxSession} pane ${live.pane.paneId} pid ${live.identity.pid} start ${live.identity.start}`,
  ];
  if (live.kind === 'unrecorded' && snap.at - r.createdAt < snap.policy.ttlMs) {
    return [
      finding({
        ...base,
        drift: null,
        severity: 'info',
        summary: `runtime ${r.id} is spawning (${age(snap.at - r.createdAt)})`,
        action: { type: 'wait', until: r.createdAt + snap.policy.ttlMs },
      }),
    ];
  }
  switch (t.status) {
    case 'todo':
      return [
        finding({
          ...base,
          drift: 'HIDDEN-LIVE',
          severity: 'warning',
          summary: `${t.key} is todo while its runtime lives: adopt it`,
          evidence,
          action: adoptAction(t, r, r.tmuxSession, live.pane, live.identity, snap),
        }),
      ];
    case 'in_progress': {
      const disagree: string[] = [];
      if (live.kind === 'unrecorded') disagree.push(`runtime ${r.id} never recorded its agent pid`);
      if (t.workerPid !== live.identity.pid)
        disagree.push(`worker_pid ${t.workerPid ?? 'null'} != live pid ${live.identity.pid}`);
      if (r.status === 'spawning' || r.status === 'exited')
        disagree.push(`runtime status ${r.status} but the agent is live`);
      if (disagree.length > 0) {
        return [
          finding({
            ...base,
            drift: 'DRIFT',
            severity: 'warning',
            summary: `${t.key}: ${disagree.join('; ')}: normalize to the live runtime`,
            evidence: [...evidence, ...disagree],
            action: adoptAction(t, r, r.tmuxSession, live.pane, live.identity, snap),
          }),
        ];
      }
      return routine(ctx, r, live.pane);
    }
    case 'in_review':
      return live.kind === 'live' ? reviewIdle(ctx, r, live) : [];
    case 'done':
      return [
        finding({
          ...base,
          drift: 'DONE-LIVE',
          severity: 'info',
          summary: `${t.key} is done; retire its runtime`,
          evidence,
          action: {
            type: 'close',
            runtimeId: r.id,
            runtimeVersion: r.version,
            reason: 'ticket done',
            exitStatus: null,
            killSession: r.tmuxSession,
            paneId: live.pane.paneId,
            ticket: null,
          },
        }),
      ];
    case 'blocked':
      return [
        finding({
          ...base,
          drift: 'NEEDS-OPERATOR',
          severity: 'warning',
          summary: `${t.key} is blocked but its runtime lives; the operator decides`,
          evidence,
          action: { type: 'none' },
        }),
      ];
    default: {
      const never: never = t.status;
      throw new Error(`unhandled status ${String(never)}`);
    }
  }
}

function diagnoseDead(ctx: TicketCtx, r: RuntimeSession, dead: Extract<Liveness, { kind: 'dead' }>): Finding[] {
  const { snap, t } = ctx;
  const base = { ticketKey: t.key, runtimeId: r.id };
  const evidence = [dead.why];
  const killSession = dead.pane ? r.tmuxSession : null;
  const paneId = dead.pane?.paneId ?? null;
  if (r.status === 'spawning' && !dead.pane) {
    const waited = snap.at - r.createdAt;
    if (waited < snap.policy.ttlMs) {
      return [
        finding({
          ...base,
          drift: null,
          severity: 'info',
          summary: `runtime ${r.id} is spawning (${age(waited)})`,
          action: { type: 'wait', until: r.createdAt + snap.policy.ttlMs },
        }),
      ];
    }
    const move =
      t.status === 'in_progress'
        ? { key: t.key, version: t.version, ...requeueTarget(t, snap.policy, 'spawn failed') }
        : null;
    return [
      finding({
        ...base,
        drift: 'SPAWN-FAILED',
        severity: 'warning',
        summary: `runtime ${r.id} never started within ${age(snap.policy.ttlMs)}: close it${move ? `, ${t.key} -> ${move.to}` : ''}`,
        evidence,
        action: {
          type: 'close',
          runtimeId: r.id,
          runtimeVersion: r.version,
          reason: 'spawn failed',
          exitStatus: null,
          killSession: null,
          paneId: null,
          ticket: move,
        },
      }),
    ];
  }
  if (r.status !== 'exited') {
    return [
      finding({
        ...base,
        drift: 'DYING',
        severity: 'warning',
        summary: `runtime ${r.id} of ${t.key} is dead (${dead.why}); closing after ${age(snap.policy.ttlMs)}`,
        evidence,
        action: { type: 'mark_exited', runtimeId: r.id, runtimeVersion: r.version, exitStatus: dead.exitStatus },
      }),
    ];
  }
  const since = r.deadSince ?? r.lastSeenAt ?? r.createdAt;
  if (snap.at - since < snap.policy.ttlMs) {
    const left = since + snap.policy.ttlMs - snap.at;
    return [
      finding({
        ...base,
        drift: 'DYING',
        severity: 'info',
        summary: `runtime ${r.id} dead ${age(snap.at - since)}, closing in ${age(left)}`,
        evidence,
        action: { type: 'wait', until: since + snap.policy.ttlMs },
      }),
    ];
  }
  const move =
    t.status === 'in_progress' ? { key: t.key, version: t.version, ...requeueTarget(t, snap.policy, dead.why) } : null;
  return [
    finding({
      ...base,
      drift: 'STALE',
      severity: 'warning',
      summary: `runtime ${r.id} dead for ${age(snap.at - since)}: close it${move ? `, ${t.key} -> ${move.to}` : ''}`,
      evidence,
      action: {
        type: 'close',
        runtimeId: r.id,
        runtimeVersion: r.version,
        reason: `dead: ${dead.why}`,
        exitStatus: dead.exitStatus ?? r.exitStatus,
        killSession,
        paneId,
        ticket: move,
      },
    }),
  ];
}

function blockedButRuns(t: Ticket, session: string, pane: PaneInfo): Finding {
  return finding({
    ticketKey: t.key,
    runtimeId: null,
    drift: 'NEEDS-OPERATOR',
    severity: 'warning',
    summary: `${t.key} is blocked but ${session} runs; the operator decides`,
    evidence: [`session ${session} pane ${pane.paneId} pid ${pane.panePid}`],
    action: { type: 'none' },
  });
}

function diagnoseNoRuntime(ctx: TicketCtx): Finding[] {
  const { snap, t } = ctx;
  const session = sessionName(t.key);
  const first = ctx.panes.get(session)?.[0];
  // Another store's session under the same name is not ours to adopt, kill or wait for: as if absent.
  const pane = first && isOursOrUntagged(first, snap.where) ? first : undefined;
  const base = { ticketKey: t.key, runtimeId: null };
  if (pane && !pane.paneDead) {
    const obs = snap.processes.get(pane.panePid);
    if (!obs || obs.kind === 'unknown') {
      return [
        finding({
          ...base,
          drift: 'UNKNOWN',
          severity: 'warning',
          summary: `session ${session} exists but pid ${pane.panePid} cannot be checked; declined`,
          action: { type: 'none' },
        }),
      ];
    }
    if (obs.kind === 'alive') {
      const evidence = [`orphan session ${session} pane ${pane.paneId} pid ${pane.panePid}`];
      switch (t.status) {
        case 'todo':
        case 'in_progress': {
          // No open runtime row holds the ticket, so no verified worker can be stolen from: a foreign
          // worker (another host or socket) always has a row, and an unobservable row declines above.
          return [
            finding({
              ...base,
              drift: 'ORPHAN',
              severity: 'warning',
              summary: `${session} runs with no runtime row: adopt it`,
              evidence,
              action: adoptAction(t, null, session, pane, obs.identity, snap),
            }),
          ];
        }
        case 'done':
          if (pane.storeTag !== snap.where.storeId) break;
          return [
            finding({
              ...base,
              drift: 'DONE-LIVE',
              severity: 'info',
              summary: `${t.key} is done; retire orphan ${session}`,
              evidence,
              action: { type: 'kill_orphan', session, key: t.key },
            }),
          ];
        case 'blocked':
          return [blockedButRuns(t, session, pane)];
        case 'in_review':
          return [];
        default: {
          const never: never = t.status;
          throw new Error(`unhandled status ${String(never)}`);
        }
      }
    }
  }
  // No live runtime at all: the ticket must not stay in_progress.
  if (t.status !== 'in_progress') {
    if (pane && pane.paneDead && pane.storeTag === snap.where.storeId) {
      return [
        finding({
          ...base,
          drift: 'STALE',
          severity: 'info',
          summary: `leftover dead session ${session}: kill it`,
          evidence: [`pane ${pane.paneId} dead`],
          action: { type: 'kill_orphan', session, key: t.key },
        }),
      ];
    }
    return [];
  }
  const waited = snap.at - t.updatedAt;
  if (waited < snap.policy.ttlMs) {
    return [
      finding({
        ...base,
        drift: 'DYING',
        severity: 'info',
        summary: `${t.key} is in_progress with no live runtime (${age(waited)}); requeue after ${age(snap.policy.ttlMs)}`,
        action: { type: 'wait', until: t.updatedAt + snap.policy.ttlMs },
      }),
    ];
  }
  const target = requeueTarget(t, snap.policy, 'no runtime');
  const kill = pane && pane.storeTag === snap.where.storeId ? session : null;
  return [
    finding({
      ...base,
      drift: 'STALE',
      severity: 'warning',
      summary: `${t.key} is in_progress with no live runtime: -> ${target.to}`,
      evidence: [pane ? `session ${session} pane dead` : 'no runtime row, no session'],
      action: { type: 'requeue_ticket', key: t.key, version: t.version, ...target, killSession: kill },
    }),
  ];
}
