import { profileNamed, type Config } from './config.js';
import { deliver, newToken, resumeDelivery, type DeliveryDeps } from './delivery.js';
import type { Action, CloseTicketMove, Finding, Snapshot } from './findings.js';
import { bufferName } from './delivery.js';
import { fail, ok, type Result } from './result.js';
import { sanitizeForTerminal } from './sanitize.js';
import type { StorePort } from './store.port.js';
import type { TmuxPort } from './tmux.port.js';
import type { EventInput } from './types.js';

// Carrying out one finding's action. Every write is a compare-and-set through the store port; a lost CAS
// means someone else acted first, so the action is declined for this pass, never forced.

export interface ApplyDeps extends DeliveryDeps {
  store: StorePort;
  tmux: TmuxPort;
  config: Config;
  host: string;
}

export type Outcome = 'applied' | 'declined' | 'failed' | 'skipped';

export interface Applied {
  finding: Finding;
  outcome: Outcome;
  detail: string;
}

const EVIDENCE_LINES = 20;
/** A dead pane keeps its screen height of blank lines under the agent's last words: look further back. */
const EVIDENCE_SCAN = 200;

function ev(deps: ApplyDeps, f: Finding, e: Partial<EventInput> & Pick<EventInput, 'kind' | 'summary'>): EventInput {
  return {
    ticketKey: f.ticketKey,
    runtimeId: f.runtimeId,
    actor: deps.actor,
    status: f.severity === 'info' ? 'ok' : 'warning',
    rootCause: f.drift ? `${f.drift}: ${f.evidence.join('; ') || f.summary}` : null,
    ...e,
  };
}

/** Last lines of a pane, sanitized, as evidence for the activity log. */
async function evidenceOf(tmux: TmuxPort, paneId: string | null): Promise<string[]> {
  if (!paneId) return [];
  const lines = await tmux.capture(paneId, EVIDENCE_SCAN);
  if (!lines.ok) return [];
  return lines.value
    .filter((l) => l.trim() !== '')
    .slice(-EVIDENCE_LINES)
    .map((l) => sanitizeForTerminal(l));
}

/** Apply one action; `skipped` for findings that only report (none/wait). */
export async function applyAction(deps: ApplyDeps, f: Finding, snap: Snapshot): Promise<Result<Outcome>> {
  const a: Action = f.action;
  const now = deps.now();
  switch (a.type) {
    case 'none':
    case 'wait':
      return ok('skipped');
    case 'adopt': {
      const res = await deps.store.adopt({
        key: a.key,
        ticketVersion: a.ticketVersion,
        runtimeId: a.runtimeId,
        runtimeVersion: a.runtimeVersion,
        target: { host: deps.host, tmuxSocket: deps.config.socket, tmuxSession: a.session },
        paneId: a.paneId,
        identity: a.identity,
        status: a.status,
        now,
        event: ev(deps, f, {
          kind: 'runtime.adopt',
          summary: `adopted live runtime ${a.session} (pid ${a.identity.pid}); ${a.key} in_progress`,
          safeRetry: 'adoption is idempotent: the next pass finds nothing to do',
          artifacts: [`ticket:${a.key}`, `tmux:${a.session}`, `pid:${a.identity.pid}`],
        }),
      });
      return res.ok ? ok('applied') : res;
    }
    case 'replace': {
      const closed = await deps.store.closeRuntime({
        runtimeId: a.runtimeId,
        runtimeVersion: a.runtimeVersion,
        reason: a.reason,
        exitStatus: null,
        now,
        event: ev(deps, f, {
          kind: 'runtime.close',
          summary: `closed runtime ${a.runtimeId} (${a.reason}); nothing killed`,
        }),
      });
      if (!closed.ok) return closed;
      // Closing may release the ticket's worker_pid (a new version): adopt against what it left.
      const version = closed.value.ticket?.version ?? a.adopt.ticketVersion;
      return applyAction(deps, { ...f, action: { ...a.adopt, ticketVersion: version } }, snap);
    }
    case 'mark_exited': {
      const res = await deps.store.updateRuntime({
        runtimeId: a.runtimeId,
        version: a.runtimeVersion,
        status: 'exited',
        exitStatus: a.exitStatus,
        deadSince: now,
        now,
        event: ev(deps, f, {
          kind: 'runtime.exited',
          summary: f.summary,
          safeRetry: `closed after ${deps.config.ttlSeconds}s unless it comes back; undelivered messages stay queued`,
          stopCondition: `after ${deps.config.retryLimit} attempts the ticket is blocked for the operator`,
        }),
      });
      return res.ok ? ok('applied') : res;
    }
    case 'close': {
      const evidence = await evidenceOf(deps.tmux, a.paneId);
      if (a.killSession) {
        const killed = await deps.tmux.killSession(a.killSession);
        if (!killed.ok && killed.code !== 'not_found') return killed;
      }
      // Text loaded for a delivery this runtime will never finish must not linger in the tmux server.
      for (const m of snap.rows.messages) {
        if (m.runtimeId === a.runtimeId && m.status === 'delivering' && m.deliveryToken) {
          await deps.tmux.deleteBuffer(bufferName(m.id, m.deliveryToken));
        }
      }
      const first = await closeRuntime(deps, f, a, a.runtimeVersion, a.ticket, evidence, now);
      if (first.ok || first.code !== 'conflict' || !a.killSession) return first.ok ? ok('applied') : first;
      // The session is already killed: a lost race on the row (a routine write) must not turn a deliberate
      // close into an unexplained death. Re-read once and close with the fresh versions.
      const fresh = await deps.store.ticketDetail(f.ticketKey ?? '', { eventLimit: 0 });
      const row = fresh?.runtimes.find((r) => r.id === a.runtimeId && r.status !== 'closed');
      if (!fresh || !row) return first;
      const move =
        a.ticket && fresh.ticket.status === 'in_progress' ? { ...a.ticket, version: fresh.ticket.version } : null;
      const second = await closeRuntime(deps, f, a, row.version, move, evidence, now);
      return second.ok ? ok('applied') : second;
    }
    case 'requeue_ticket': {
      if (a.killSession) {
        const killed = await deps.tmux.killSession(a.killSession);
        if (!killed.ok && killed.code !== 'not_found') return killed;
      }
      const res = await deps.store.setTicketStatus({
        key: a.key,
        version: a.version,
        from: ['in_progress'],
        to: a.to,
        blockedReason: a.blockedReason,
        now,
        event: ev(deps, f, { kind: 'ticket.requeue', summary: f.summary, humanInputRequired: a.to === 'blocked' }),
      });
      return res.ok ? ok('applied') : res;
    }
    case 'kill_orphan': {
      const killed = await deps.tmux.killSession(a.session);
      if (!killed.ok && killed.code !== 'not_found') return killed;
      await deps.store.appendEvent(ev(deps, f, { kind: 'runtime.kill_orphan', summary: f.summary }), now);
      return ok('applied');
    }
    case 'observe': {
      const res = await deps.store.updateRuntime({
        runtimeId: a.runtimeId,
        version: a.runtimeVersion,
        ...(a.status ? { status: a.status } : {}),
        lastSeenAt: a.lastSeenAt,
        now,
      });
      if (!res.ok) return res;
      if (a.clearHumanInput) {
        const cleared = await deps.store.setTicketStatus({
          key: a.clearHumanInput.key,
          version: a.clearHumanInput.ticketVersion,
          from: ['in_progress'],
          to: 'in_progress',
          humanInputRequired: false,
          now,
          event: ev(deps, f, {
            kind: 'ticket.answered',
            summary: 'the agent works again after waiting for a human; human input no longer required',
          }),
        });
        if (!cleared.ok) return cleared;
      }
      return ok('applied');
    }
    case 'screen_blocked':
      return applyScreenBlocked(deps, f, a, now);
    case 'warn':
      return applyWarn(deps, f, a, now);
    case 'deliver':
    case 'resume_delivery': {
      const message = snap.rows.messages.find((m) => m.id === a.messageId);
      const profile = profileNamed(deps.config, a.profile);
      if (!message || !profile) return fail('not_found', `message ${a.messageId} or profile ${a.profile} is gone`);
      const target = {
        message,
        body: message.body,
        runtimeId: a.runtimeId,
        paneId: a.paneId,
        profile,
        decidedOn: snap.captures.get(a.paneId) ?? null,
        // Unknown counts as no output since: only a changed screen then shows the agent took the last text.
        activityAt:
          (snap.tmux.kind === 'ok' ? snap.tmux.panes.find((p) => p.paneId === a.paneId)?.windowActivity : 0) ?? 0,
        leaseMs: deps.config.ttlSeconds * 1000,
      };
      const res =
        a.type === 'deliver'
          ? await deliver(deps, target)
          : await resumeDelivery(deps, { ...target, token: message.deliveryToken ?? '', step: a.step });
      return res.ok ? ok('applied') : res;
    }
    case 'marker':
      return applyMarker(deps, f, a, now, snap);
    default: {
      const never: never = a;
      throw new Error(`unhandled action ${JSON.stringify(never)}`);
    }
  }
}

/** How many of a dead agent's last lines go into the close event's root cause. */
const CAUSE_LINES = 3;

/**
 * Why the runtime ended, in the words an operator needs: the exit status and the agent's own last lines (an
 * agent that dies at start says why on its screen: no network, no credentials, a bad flag).
 */
function closeCause(f: Finding, a: Extract<Action, { type: 'close' }>, evidence: string[]): string {
  const drift = f.drift ? `${f.drift}: ` : '';
  if (a.reason.startsWith('retired') || a.reason === 'ticket done') return `${drift}${a.reason}`;
  const status = a.exitStatus === null ? 'exit status unknown' : `exit status ${a.exitStatus}`;
  const last = evidence.slice(-CAUSE_LINES).join(' | ');
  return `${drift}${a.reason}; ${status}${last ? `; last lines: ${last}` : ''}`;
}

async function closeRuntime(
  deps: ApplyDeps,
  f: Finding,
  a: Extract<Action, { type: 'close' }>,
  runtimeVersion: number,
  move: CloseTicketMove | null,
  evidence: string[],
  now: number,
) {
  const to = move?.to;
  return deps.store.closeRuntime({
    runtimeId: a.runtimeId,
    runtimeVersion,
    reason: a.reason,
    exitStatus: a.exitStatus,
    now,
    ...(move
      ? { ticket: { key: move.key, version: move.version, to: move.to, blockedReason: move.blockedReason } }
      : {}),
    event: ev(deps, f, {
      kind: 'runtime.close',
      status: to === 'blocked' ? 'error' : f.severity === 'info' ? 'ok' : 'warning',
      summary: `closed runtime ${a.runtimeId} (${a.reason})${to ? `; ticket -> ${to}` : ''}`,
      rootCause: closeCause(f, a, evidence),
      safeRetry:
        to === 'todo'
          ? 'the ticket is todo again; a pickup starts a fresh runtime and its queued messages follow'
          : null,
      stopCondition:
        to === 'blocked'
          ? (move?.blockedReason ?? 'retry limit reached')
          : `blocked after ${deps.config.retryLimit} attempts`,
      humanInputRequired: to === 'blocked',
      nextActions: to === 'blocked' ? ['inspect the evidence, then `mcc move KEY todo` to retry'] : [],
      artifacts: [`exit_status:${a.exitStatus ?? 'unknown'}`, ...evidence],
    }),
  });
}

async function applyMarker(
  deps: ApplyDeps,
  f: Finding,
  a: Extract<Action, { type: 'marker' }>,
  now: number,
  snap: Snapshot,
): Promise<Result<Outcome>> {
  const { marker } = a;
  const to = marker.kind === 'REVIEW' ? 'in_review' : marker.kind === 'DONE' ? 'done' : 'in_progress';
  const question = marker.kind === 'QUESTION';
  // The review checks are asked for in the same write as the move: a runner runs them once, outside the pass.
  const ticket = snap.rows.tickets.find((t) => t.key === a.key);
  const profile = ticket ? profileNamed(deps.config, ticket.profile) : undefined;
  const wantsChecks = marker.kind === 'REVIEW' && (profile?.checks.length ?? 0) > 0;
  const moved = await deps.store.setTicketStatus({
    key: a.key,
    version: a.ticketVersion,
    from: ['in_progress'],
    to,
    ...(question ? { humanInputRequired: true } : {}),
    ...(marker.kind === 'REVIEW' ? { reviewChecks: wantsChecks ? ('pending' as const) : null } : {}),
    now,
    event: {
      ticketKey: a.key,
      runtimeId: a.runtimeId,
      actor: 'agent',
      kind: `marker.${marker.kind.toLowerCase()}`,
      status: question ? 'warning' : 'ok',
      summary: `${marker.kind}: ${sanitizeForTerminal(marker.line.slice(marker.kind.length + 1).trim())}`,
      humanInputRequired: question,
      nextActions: question ? ['answer with `mcc send KEY TEXT` or the `s` key'] : [],
      artifacts: [`runtime:${a.runtimeId}`],
    },
  });
  if (!moved.ok) return moved;
  const noted = await deps.store.updateRuntime({
    runtimeId: a.runtimeId,
    version: a.runtimeVersion,
    lastMarker: marker.fingerprint,
    lastSeenAt: now,
    status: question ? 'waiting' : 'idle',
    now,
  });
  return noted.ok ? ok('applied') : noted;
}

async function applyScreenBlocked(
  deps: ApplyDeps,
  f: Finding,
  a: Extract<Action, { type: 'screen_blocked' }>,
  now: number,
): Promise<Result<Outcome>> {
  const marked = await deps.store.updateRuntime({
    runtimeId: a.runtimeId,
    version: a.runtimeVersion,
    status: 'waiting',
    lastSeenAt: now,
    now,
  });
  if (!marked.ok) return marked;
  const asked = await deps.store.setTicketStatus({
    key: a.key,
    version: a.ticketVersion,
    from: ['in_progress'],
    to: 'in_progress',
    humanInputRequired: true,
    now,
    event: ev(deps, f, {
      kind: 'runtime.blocked_screen',
      status: 'warning',
      summary: f.summary,
      rootCause: f.evidence.join('; '),
      safeRetry: 'nothing was typed; queued messages stay pending until the screen is ready',
      stopCondition: 'a human answers the dialog in the pane (mcc attach)',
      humanInputRequired: true,
      nextActions: [`attach: mcc attach ${a.key}`, `interrupt: mcc interrupt ${a.key}`, `retire: mcc retire ${a.key}`],
      artifacts: [`runtime:${a.runtimeId}`, ...a.screen.map((l) => sanitizeForTerminal(l))],
    }),
  });
  return asked.ok ? ok('applied') : asked;
}

/** How far back a warning's earlier copy is looked for, in the ticket's activity log. */
const WARN_LOOKBACK = 200;

/**
 * One warning per `once` id, across passes and processes: the activity log is the record. Looking it up and
 * writing it happen under a lease of that id, so two passes at once (the daemon and `mcc reconcile`) never
 * both find it missing and both write it.
 */
async function applyWarn(
  deps: ApplyDeps,
  f: Finding,
  a: Extract<Action, { type: 'warn' }>,
  now: number,
): Promise<Result<Outcome>> {
  const tag = `once:${a.once}`;
  const holder = `${deps.actor}:${newToken()}`;
  const lease = await deps.store.acquireLease({ name: tag, holder, ttlMs: deps.config.ttlSeconds * 1000, now });
  if (!lease.ok) return lease.code === 'conflict' ? ok('skipped') : lease;
  try {
    return await warnOnce(deps, f, a, tag, now);
  } finally {
    await deps.store.releaseLease({ name: tag, holder });
  }
}

async function warnOnce(
  deps: ApplyDeps,
  f: Finding,
  a: Extract<Action, { type: 'warn' }>,
  tag: string,
  now: number,
): Promise<Result<Outcome>> {
  const recent = await deps.store.listEvents({
    ...(f.ticketKey ? { ticketKey: f.ticketKey } : {}),
    limit: WARN_LOOKBACK,
  });
  if (recent.some((e) => e.kind === a.kind && e.artifacts.includes(tag))) return ok('skipped');
  await deps.store.appendEvent(
    ev(deps, f, {
      kind: a.kind,
      status: 'warning',
      summary: f.summary,
      rootCause: a.rootCause,
      safeRetry: 'nothing was typed; the message stays queued and is delivered once the screen is ready',
      humanInputRequired: a.humanInputRequired,
      nextActions: a.nextActions,
      artifacts: [tag, ...a.artifacts.map((l) => sanitizeForTerminal(l))],
    }),
    now,
  );
  return ok('applied');
}
