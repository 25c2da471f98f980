import type { CheckRun, GitEvidence } from './checks.port.js';
import type { Profile } from './config.js';
import { age, finding, profileOfTicket, type Finding, type Snapshot, type TicketCtx } from './findings.js';
import type { Liveness } from './liveness.js';
import { sanitizeLine } from './sanitize.js';
import type { EventInput, RuntimeSession, Ticket } from './types.js';

// The review gate's judgement, pure: where a runtime's checks run, what their evidence says, when an idle
// review runtime gives its slot back, and when a working ticket is overdue for its check-in.

/** The event kind that records a REVIEW: marker's checks (the evidence the operator approves on). */
export const CHECKS_EVENT = 'review.checks';
/** How many of a check's last output lines are kept as evidence. */
export const CHECK_TAIL_LINES = 15;
/** How many diff-stat and commit lines are kept. */
export const GIT_LINES = 30;
/** A `running` mark older than the checks' time limits plus this was left by a process that stopped. */
const RUNNING_GRACE_MS = 60_000;

/** The directory a runtime works in, where its checks run: its worktree, else the profile's `cwd`, else ours. */
export function workdirOf(runtime: RuntimeSession | null, profile: Pick<Profile, 'cwd'>): string {
  // The agent's own worktree or pool slot when it has one (a workspace profile), else where the profile runs.
  return runtime?.workdir ?? profile.cwd ?? process.cwd();
}

/** How long a whole checks run may take before its `running` mark counts as abandoned. */
export function checksDeadlineMs(profile: Pick<Profile, 'checks' | 'checkTimeoutMs'>): number {
  return profile.checks.length * profile.checkTimeoutMs + RUNNING_GRACE_MS;
}

function argvText(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** A check's one-line verdict: `npm test: exit 1 in 2.3s`, `... timed out after 5s`. */
export function checkVerdict(r: CheckRun): string {
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  const how = r.timedOut
    ? `timed out after ${secs} (killed)`
    : r.exitCode === null
      ? `did not run to an exit (${r.error ?? 'unknown'}) after ${secs}`
      : `exit ${r.exitCode} in ${secs}`;
  return `${sanitizeLine(argvText(r.argv))}: ${how}`;
}

/** Passed: every check exited 0 by itself. */
export function checkPassed(r: CheckRun): boolean {
  return r.exitCode === 0 && !r.timedOut;
}

/** The `review.checks` event: terminal-state shape, every check's verdict and tail, the branch's evidence. */
export function checksEvent(
  t: Pick<Ticket, 'key'>,
  runtimeId: number | null,
  workdir: string,
  runs: readonly CheckRun[],
  git: GitEvidence | null,
  actor: string,
): EventInput {
  const failed = runs.filter((r) => !checkPassed(r));
  const artifacts: string[] = [`workdir: ${sanitizeLine(workdir)}`];
  for (const r of runs) {
    artifacts.push(`check ${checkPassed(r) ? 'ok' : 'FAILED'}: ${checkVerdict(r)}`);
    for (const l of r.tail) artifacts.push(`  | ${sanitizeLine(l)}`);
  }
  if (git) {
    artifacts.push(`git: branch ${sanitizeLine(git.branch)} against ${sanitizeLine(git.base)}`);
    for (const l of git.diffStat) artifacts.push(`  diff: ${sanitizeLine(l)}`);
    for (const l of git.commits) artifacts.push(`  commit: ${sanitizeLine(l)}`);
  } else {
    artifacts.push('git: the workdir is not a git work tree');
  }
  const summary =
    failed.length === 0
      ? `review checks passed (${runs.length}/${runs.length})`
      : `review checks failed (${failed.length} of ${runs.length}): ${failed.map(checkVerdict).join('; ')}`;
  const first = failed[0];
  return {
    ticketKey: t.key,
    runtimeId,
    actor,
    kind: CHECKS_EVENT,
    status: failed.length === 0 ? 'ok' : 'error',
    summary,
    rootCause: first
      ? `${checkVerdict(first)}${first.tail.length ? `; last line: ${sanitizeLine(first.tail.at(-1) ?? '')}` : ''}`
      : null,
    safeRetry: 'the checks ran once for this REVIEW: marker; they run again on the next one',
    stopCondition: null,
    humanInputRequired: true,
    nextActions: [
      `approve: mcc approve ${t.key}${failed.length ? ' --override' : ''}`,
      `request changes: mcc changes ${t.key} TEXT`,
      `block: mcc block ${t.key} REASON`,
    ],
    artifacts,
  };
}

/** Whether a ticket's review checks are still to run or running (the grid shows `checks`). */
export function checksBusy(t: Pick<Ticket, 'reviewChecks'>): boolean {
  return t.reviewChecks === 'pending' || t.reviewChecks === 'running';
}

/** An in_review ticket's idle runtime is a finished agent: it holds no slot of `--max-runtimes`. */
export function holdsSlot(r: RuntimeSession, t: Pick<Ticket, 'status'> | undefined): boolean {
  return !(t?.status === 'in_review' && r.status === 'idle');
}

/** Open runtimes that count toward `--max-runtimes`. */
export function runtimesHoldingSlots(snap: Pick<Snapshot, 'rows'>): number {
  const tickets = new Map(snap.rows.tickets.map((t) => [t.key, t]));
  return snap.rows.runtimes.filter((r) => r.status !== 'closed' && holdsSlot(r, tickets.get(r.ticketKey))).length;
}

/**
 * An in_review ticket's live runtime: once idle for the profile's reviewIdleSeconds (and its checks done) it
 * is retired; the ticket stays in_review and nothing on disk is deleted. Request changes starts a fresh one.
 */
export function reviewIdle(ctx: TicketCtx, r: RuntimeSession, live: Extract<Liveness, { kind: 'live' }>): Finding[] {
  const { snap, t } = ctx;
  const profile = profileOfTicket(t, snap);
  if (!profile || r.status !== 'idle' || checksBusy(t)) return [];
  const since = Math.max(r.lastSeenAt ?? r.createdAt, t.reviewChecksAt ?? 0);
  const idle = snap.at - since;
  const base = { ticketKey: t.key, runtimeId: r.id, drift: null, severity: 'info' as const };
  if (idle < profile.reviewIdleMs) return [];
  return [
    finding({
      ...base,
      summary: `${t.key} in review, runtime ${r.id} idle ${age(idle)}: retire it (files kept)`,
      evidence: [`idle since ${new Date(since).toISOString()}`],
      action: {
        type: 'close',
        runtimeId: r.id,
        runtimeVersion: r.version,
        reason: `retired: idle in review for ${age(idle)}; its files are kept`,
        exitStatus: null,
        killSession: r.tmuxSession,
        paneId: live.pane.paneId,
        ticket: null,
      },
    }),
  ];
}

/** When a working ticket is due to check in (a marker), or null when none is expected. */
export function checkInDue(t: Ticket, r: RuntimeSession, profile: Pick<Profile, 'checkInMs'>): number | null {
  const ms = t.checkInSeconds !== null ? t.checkInSeconds * 1000 : profile.checkInMs;
  if (ms === null) return null;
  return Math.max(t.checkInAt ?? 0, r.createdAt + ms);
}

/** OVERDUE: in_progress past its check-in with no marker; one warning per deadline, the badge until a marker. */
export function overdue(ctx: TicketCtx, r: RuntimeSession): Finding | null {
  const { snap, t } = ctx;
  const profile = profileOfTicket(t, snap);
  if (!profile || t.status !== 'in_progress' || t.humanInputRequired) return null;
  const due = checkInDue(t, r, profile);
  if (due === null || snap.at < due) return null;
  return finding({
    ticketKey: t.key,
    runtimeId: r.id,
    drift: 'OVERDUE',
    severity: 'warning',
    summary: `${t.key} is ${age(snap.at - due)} past its expected check-in with no REVIEW:/DONE:/QUESTION: marker`,
    evidence: [`check-in was due ${new Date(due).toISOString()}`],
    action: {
      type: 'warn',
      kind: 'ticket.overdue',
      once: `overdue:${t.key}:${due}`,
      rootCause: `no marker since the check-in was due (${new Date(due).toISOString()})`,
      humanInputRequired: true,
      nextActions: [`look: mcc attach ${t.key}`, `nudge: mcc send ${t.key} TEXT`, `retire: mcc retire ${t.key}`],
      artifacts: [`runtime:${r.id}`],
    },
  });
}
