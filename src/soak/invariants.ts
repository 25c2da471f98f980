// The invariants of issue 11, each a named check against ground truth: the store (read-only), our tmux
// socket, /proc, the demo agents' logs, and the journal of what the soak's own actors did. `sample()` runs
// every check once; the monitor calls it about once a second and after every fault. Checks that need time
// (a drift must heal within TTL + one interval) keep per-ticket state between samples; their deadlines run
// from the drift or from the moment the system could heal again (daemon back, disk freed), whichever is later.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Journal } from './journal.js';
import { pidAlive, SOAK_CONFIG, type RuntimeRow, type Snapshot, type World } from './world.js';

export const INVARIANTS = {
  'hidden-live-has-finding': 'no live runtime behind todo/blocked without a finding',
  'in-progress-has-live-runtime': 'no in_progress ticket without a live runtime for longer than TTL + one interval',
  'dead-runtime-closed': 'no open runtime row with a dead agent for longer than TTL + one interval',
  'one-live-runtime-per-ticket': 'never two live runtimes for one ticket',
  'review-done-not-moved-by-system': 'no ticket moved out of in_review/done by the system',
  'attempts-never-decrease': 'attempts never decrease (except an operator unblock or request for changes)',
  'message-exactly-once': 'every message is sent exactly once or still pending (never doubled, never lost)',
  'sessions-named-mc': 'no session on our socket outside the mc- naming',
  'no-destructive-from-unknown': 'no live agent was killed by the system without a known reason',
  'nothing-typed-when-not-ready': "the demo agents' not-ready input log stays empty",
  'not-ready-warned': 'no message pending past readyTimeoutSeconds without its NOT-READY warning',
  'dirty-worktree-kept': 'no worktree holding uncommitted work was deleted',
  'worktree-not-shared': 'no two runtimes ever shared a worktree',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  check: InvariantName;
  at: string;
  ticket: string | null;
  detail: string;
  /** The ticket's last events when it was found: the store's own account, for the bug report. */
  events: string[];
}

interface LogEntry {
  ts: string;
  pid?: number;
  text?: string;
  phase?: string;
  effect?: string;
  bytes?: string;
}

/** How long a dead agent's open row may take to be closed (with its reason) before the death is judged as is. */
const DEATH_GRACE_MS = 30_000;

/** Slack on top of TTL + one interval, beyond two of the slowest pass periods seen meanwhile. */
const PASS_SLACK_MS = 1_000;
const TTL_MS = SOAK_CONFIG.ttlSeconds * 1000;
const INTERVAL_MS = SOAK_CONFIG.intervalSeconds * 1000;
const READY_TIMEOUT_MS = SOAK_CONFIG.readyTimeoutSeconds * 1000;
/** An agent killed this soon after a message was marked sent may have died before reading it. */
const DIED_WITH_AGENT_MS = 3_000;
const MOVING_OPS = ['approve', 'changes', 'block', 'move', 'retire', 'pickup'];

/** The ticket a prompt-log entry answers: an operator text's `soak-mN` token, else the prompt's `MC-N:` head. */
export function tokenOfText(text: string): string | null {
  const m = /soak-m\d+/.exec(text);
  if (m) return m[0];
  const k = /^(MC-\d+):/.exec(text);
  return k ? k[1]! : null;
}

function jsonLines(path: string): LogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogEntry];
      } catch {
        return []; // a line being appended right now
      }
    });
}

export interface MessageTally {
  queued: number;
  delivered: number;
  pending: number;
  cancelled: number;
  lost: number;
  doubled: number;
  /** Sent to an agent the injector killed within a few seconds: it may have died before reading it. */
  diedWithAgent: number;
  /** Accepted again by the ticket's next agent: its first agent was gone before the delivery was confirmed. */
  redelivered: number;
}

interface Episode {
  since: number;
  reported: boolean;
}

export class Invariants {
  readonly runs = new Map<InvariantName, number>();
  readonly violations: Violation[] = [];
  /**
   * Agents that died with no fault injected and no operator command, whose runtime mcc closed as found dead
   * (`dead: ...`): mcc saw them gone before it acted, so no action of mcc killed them. Reported, never hidden.
   */
  readonly foundDead: string[] = [];
  /** Agent pid -> when this soak last saw it alive in /proc (about once a second). */
  private readonly lastAliveAt = new Map<number, number>();
  /** Longest time a drift stayed unhealed beyond its TTL, ms, and what it was. */
  worstDrift = { ms: 0, what: '' };
  private readonly seenViolation = new Set<string>();
  private prev: Snapshot | null = null;
  private readonly liveInProgress = new Map<string, Episode>();
  private readonly deadOpen = new Map<number, Episode>();
  private readonly hiddenLive = new Map<string, Episode>();
  private readonly doubleLive = new Map<string, number>();
  /** pid -> ticket, of every agent seen alive, to judge a death later. */
  private readonly aliveAgents = new Map<
    number,
    { key: string; runtimeId: number; seen: number; deadSince?: number }
  >();
  private readonly notReadyWarned = new Set<number>();
  /** When each daemon pass was seen to begin (its lease renewed): a loaded machine's passes run late. */
  private readonly passStarts: number[] = [];
  private lastExpiry: string | null = null;
  /** Longest gap between two daemon passes seen, ms, outside the windows the daemon was killed. */
  longestPassGapMs = 0;
  private lastEventId = 0;
  /** Worktree files the operators left uncommitted: they must stay. */
  readonly dirtyFiles: { key: string; path: string }[] = [];

  constructor(
    private readonly world: World,
    private readonly journal: Journal,
  ) {
    for (const name of Object.keys(INVARIANTS) as InvariantName[]) this.runs.set(name, 0);
  }

  private ran(name: InvariantName): void {
    this.runs.set(name, (this.runs.get(name) ?? 0) + 1);
  }

  private violate(check: InvariantName, ticket: string | null, detail: string, dedupe = detail): void {
    const id = `${check}|${ticket ?? ''}|${dedupe}`;
    if (this.seenViolation.has(id)) return;
    this.seenViolation.add(id);
    const events =
      ticket === null
        ? []
        : this.world
            .events(0)
            .filter((e) => e.ticket_key === ticket)
            .slice(-8)
            .map((e) => `${e.at} ${e.actor} ${e.kind} ${e.status}: ${e.summary}`)
            .concat(
              (this.world.snapshot()?.messages ?? [])
                .filter((m) => m.ticket_key === ticket)
                .map(
                  (m) =>
                    `message ${m.id} ${m.kind} ${m.status} runtime ${m.runtime_id ?? '-'} attempts ${m.attempts} created ${m.created_at} sent ${m.sent_at ?? '-'}`,
                ),
            );
    this.violations.push({ check, at: new Date().toISOString(), ticket, detail, events });
  }

  private noteDrift(what: string, since: number, healedAt: number): void {
    const over = healedAt - since - TTL_MS;
    if (over > this.worstDrift.ms) this.worstDrift = { ms: over, what };
  }

  /** When a drift that began at `since` may first be held against the system. */
  private deadlineStart(since: number): number {
    return Math.max(since, this.journal.healingSince);
  }

  /** Polls the daemon lease (cheap) to time its passes, until `stopped()`. */
  async watchPasses(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const lease = this.world.lease();
      const now = Date.now();
      if (lease && lease.expires_at !== this.lastExpiry) {
        this.lastExpiry = lease.expires_at;
        const prev = this.passStarts[this.passStarts.length - 1];
        if (prev !== undefined && !this.journal.daemonDownDuring(prev, now))
          this.longestPassGapMs = Math.max(this.longestPassGapMs, now - prev);
        this.passStarts.push(now);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** How long a drift that began at `since` may last: TTL-like `base`, one interval, two of the slowest pass periods since. */
  private allowance(base: number, since: number, now: number): number {
    let gap = 0;
    let prev = since;
    for (const t of this.passStarts) {
      if (t < since) continue;
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    gap = Math.max(gap, now - prev);
    return base + INTERVAL_MS + 2 * gap + PASS_SLACK_MS;
  }

  private canHealNow(now: number): boolean {
    return !this.journal.diskFullDuring(now - INTERVAL_MS, now) && !this.journal.daemonDownDuring(now, now);
  }

  /** One pass over every check. `final` adds the end-of-run accounting of messages. */
  async sample(): Promise<void> {
    // The agents' prompt log is read before the store, so the store is never older than the log.
    const prompts = jsonLines(this.world.promptLog);
    const inputs = jsonLines(this.world.inputLog);
    const agents = this.world.agents();
    const panes = await this.world.panes();
    const snap = this.world.snapshot();
    if (!snap) return; // not created yet, or unreadable this instant (a full disk still reads)
    const now = snap.at;
    this.readEvents();

    const open = snap.runtimes.filter((r) => r.status !== 'closed');
    const keyOfPath = new Map(snap.workspaces.map((w) => [w.path, w.ticket_key ?? basename(w.path)]));
    const keyOfCwd = (cwd: string | null): string | null => {
      if (cwd === null) return null;
      const known = keyOfPath.get(cwd);
      if (known) return known;
      return dirname(cwd).endsWith('.mcc-worktrees') && /^MC-\d+$/.test(basename(cwd)) ? basename(cwd) : null;
    };
    const liveAgentsOf = new Map<string, number[]>();
    for (const a of agents) {
      const key = keyOfCwd(a.cwd);
      if (key) liveAgentsOf.set(key, [...(liveAgentsOf.get(key) ?? []), a.pid]);
    }
    const liveRow = (r: RuntimeRow): boolean => r.pid !== null && pidAlive(r.pid);

    this.checkSessions(panes);
    this.checkInputLog(inputs);
    this.checkOneLive(snap, open, liveAgentsOf, now);
    this.checkMoves(snap, now);
    this.checkInProgress(snap, open, liveRow, now);
    this.checkDeadOpen(open, liveRow, snap, now);
    await this.checkHiddenLive(snap, open, liveRow, liveAgentsOf, now);
    this.checkDeaths(snap, open, now);
    this.checkNotReady(snap, open, liveRow, now);
    this.checkDoubled(snap, prompts);
    this.checkWorktrees(open);
    this.prev = snap;
  }

  private readEvents(): void {
    for (const e of this.world.events(this.lastEventId)) {
      this.lastEventId = e.id;
      if (e.kind !== 'message.not_ready') continue;
      for (const a of JSON.parse(e.artifacts) as string[]) {
        const m = /^message:(\d+)$/.exec(a);
        if (m) this.notReadyWarned.add(Number(m[1]));
      }
    }
  }

  private checkSessions(panes: Map<string, { pid: number; dead: boolean }> | null): void {
    if (panes === null) return;
    this.ran('sessions-named-mc');
    for (const name of panes.keys())
      if (!/^mc-MC-\d+$/.test(name)) this.violate('sessions-named-mc', null, `session "${name}" on our socket`);
  }

  private checkInputLog(inputs: LogEntry[]): void {
    this.ran('nothing-typed-when-not-ready');
    for (const e of inputs)
      this.violate(
        'nothing-typed-when-not-ready',
        null,
        `at ${e.ts} an agent in phase ${e.phase ?? '?'} received ${JSON.stringify(e.bytes ?? '')} (${e.effect ?? '?'})`,
      );
  }

  private checkOneLive(snap: Snapshot, open: RuntimeRow[], liveAgentsOf: Map<string, number[]>, now: number): void {
    this.ran('one-live-runtime-per-ticket');
    const perTicket = new Map<string, number>();
    for (const r of open) perTicket.set(r.ticket_key, (perTicket.get(r.ticket_key) ?? 0) + 1);
    for (const [key, n] of perTicket)
      if (n > 1) this.violate('one-live-runtime-per-ticket', key, `${n} open runtime rows`);
    for (const t of snap.tickets) {
      const pids = liveAgentsOf.get(t.key) ?? [];
      if (pids.length <= 1) {
        this.doubleLive.delete(t.key);
        continue;
      }
      // An agent whose session was just killed takes a moment to exit: two samples in a row, same pids.
      const id = pids.sort().join(',');
      const first = this.doubleLive.get(`${t.key}|${id}`);
      if (first === undefined) this.doubleLive.set(`${t.key}|${id}`, now);
      else if (now - first > 1500)
        this.violate('one-live-runtime-per-ticket', t.key, `live agents ${id} all work in ${t.key}'s worktree`);
    }
  }

  private checkMoves(snap: Snapshot, now: number): void {
    const prev = this.prev;
    this.ran('review-done-not-moved-by-system');
    this.ran('attempts-never-decrease');
    if (!prev) return;
    const before = new Map(prev.tickets.map((t) => [t.key, t]));
    for (const t of snap.tickets) {
      const p = before.get(t.key);
      if (!p) continue;
      if ((p.status === 'in_review' || p.status === 'done') && t.status !== p.status) {
        if (this.journal.opsDuring(t.key, prev.at, now, MOVING_OPS).length === 0)
          this.violate(
            'review-done-not-moved-by-system',
            t.key,
            `${p.status} -> ${t.status} with no operator command on it between ${new Date(prev.at).toISOString()} and ${new Date(now).toISOString()}`,
          );
      }
      if (t.attempts < p.attempts && this.journal.opsDuring(t.key, prev.at, now, ['move', 'changes']).length === 0)
        this.violate('attempts-never-decrease', t.key, `attempts ${p.attempts} -> ${t.attempts}`);
    }
  }

  /**
   * Since when a non-live open runtime has been dead at the latest: a spawning row since it was made; a row
   * with an agent since that agent was last known alive (the injector's kill, mcc's last sighting, the soak's own
   * last sighting in /proc, its start). mcc records a sighting only when something changed, so its own can be old.
   */
  private deadSince(r: RuntimeRow): number {
    const created = Date.parse(r.created_at);
    if (r.pid === null) return created;
    const seen = r.last_seen_at === null ? 0 : Date.parse(r.last_seen_at);
    return Math.max(created, seen, this.journal.killedAgents.get(r.pid) ?? 0, this.lastAliveAt.get(r.pid) ?? 0);
  }

  private overdue(ep: Episode, now: number): number | null {
    const start = this.deadlineStart(ep.since);
    const waited = now - start;
    return !ep.reported && waited > this.allowance(TTL_MS, start, now) ? waited : null;
  }

  private checkInProgress(snap: Snapshot, open: RuntimeRow[], liveRow: (r: RuntimeRow) => boolean, now: number): void {
    this.ran('in-progress-has-live-runtime');
    const canHeal = this.canHealNow(now);
    const current = new Set<string>();
    for (const t of snap.tickets) {
      if (t.status !== 'in_progress') continue;
      const rows = open.filter((r) => r.ticket_key === t.key);
      if (rows.some(liveRow)) continue;
      const row = rows[0];
      const id = `${t.key}:${row?.id ?? '-'}`;
      current.add(id);
      let ep = this.liveInProgress.get(id);
      if (!ep) {
        ep = { since: row ? this.deadSince(row) : Date.parse(t.updated_at), reported: false };
        this.liveInProgress.set(id, ep);
      }
      const waited = canHeal ? this.overdue(ep, now) : null;
      if (waited === null) continue;
      ep.reported = true;
      this.violate(
        'in-progress-has-live-runtime',
        t.key,
        `in_progress without a live runtime for ${Math.round(waited / 100) / 10}s (open rows: ${rows.map((r) => `#${r.id} ${r.status} pid ${r.pid ?? '-'}`).join(', ') || 'none'})`,
      );
    }
    for (const [id, ep] of this.liveInProgress)
      if (!current.has(id)) {
        this.noteDrift(
          `${id.split(':')[0] ?? ''} in_progress without a live runtime`,
          this.deadlineStart(ep.since),
          now,
        );
        this.liveInProgress.delete(id);
      }
  }

  private checkDeadOpen(open: RuntimeRow[], liveRow: (r: RuntimeRow) => boolean, snap: Snapshot, now: number): void {
    this.ran('dead-runtime-closed');
    const canHeal = this.canHealNow(now);
    const ids = new Set<number>();
    const status = new Map(snap.tickets.map((t) => [t.key, t.status]));
    for (const r of open) {
      // A spawning row has no pid yet; a pickup that died there is the SPAWN-FAILED drift, same TTL.
      if (liveRow(r)) continue;
      ids.add(r.id);
      let ep = this.deadOpen.get(r.id);
      if (!ep) {
        ep = { since: this.deadSince(r), reported: false };
        this.deadOpen.set(r.id, ep);
      }
      const waited = canHeal ? this.overdue(ep, now) : null;
      if (waited === null) continue;
      ep.reported = true;
      this.violate(
        'dead-runtime-closed',
        r.ticket_key,
        `runtime #${r.id} (${r.status}, pid ${r.pid ?? '-'}) of a ${status.get(r.ticket_key) ?? '?'} ticket still open ${Math.round(waited / 100) / 10}s after its agent was last known alive`,
      );
    }
    for (const [id, ep] of this.deadOpen)
      if (!ids.has(id)) {
        this.noteDrift(`runtime #${id} open with a dead agent`, this.deadlineStart(ep.since), now);
        this.deadOpen.delete(id);
      }
  }

  private async checkHiddenLive(
    snap: Snapshot,
    open: RuntimeRow[],
    liveRow: (r: RuntimeRow) => boolean,
    liveAgentsOf: Map<string, number[]>,
    now: number,
  ): Promise<void> {
    this.ran('hidden-live-has-finding');
    for (const t of snap.tickets) {
      const hidden =
        (t.status === 'todo' || t.status === 'blocked') &&
        (open.some((r) => r.ticket_key === t.key && liveRow(r)) || (liveAgentsOf.get(t.key) ?? []).length > 0);
      const ep = this.hiddenLive.get(t.key);
      if (!hidden) {
        this.hiddenLive.delete(t.key);
        continue;
      }
      if (!ep) {
        this.hiddenLive.set(t.key, { since: now, reported: false });
        continue;
      }
      // A retire kills the session and then moves the ticket: only a hiding that outlasts a pass is drift.
      if (ep.reported || now - ep.since < INTERVAL_MS * 2) continue;
      const dry = await this.world.mcc(['reconcile', '--dry-run', '--json'], 30_000);
      if (dry.exitCode !== 0) continue;
      let findings: { ticketKey: string | null; drift: string | null }[] = [];
      try {
        findings = (JSON.parse(dry.stdout) as { findings: typeof findings }).findings;
      } catch {
        continue;
      }
      const still = this.world.snapshot()?.tickets.find((x) => x.key === t.key);
      if (still?.status !== t.status) continue;
      ep.reported = true;
      if (!findings.some((f) => f.ticketKey === t.key && f.drift !== null))
        this.violate(
          'hidden-live-has-finding',
          t.key,
          `${t.status} with a live agent (${(liveAgentsOf.get(t.key) ?? []).join(',')}) and no finding in reconcile --dry-run`,
        );
    }
  }

  /** A live agent that died: the injector, an operator, a done ticket or an idle review explain it; else the system killed it. */
  private checkDeaths(snap: Snapshot, open: RuntimeRow[], now: number): void {
    this.ran('no-destructive-from-unknown');
    for (const r of open)
      if (r.pid !== null && pidAlive(r.pid)) {
        this.aliveAgents.set(r.pid, { key: r.ticket_key, runtimeId: r.id, seen: now });
        this.lastAliveAt.set(r.pid, now);
      }
    const tickets = new Map(snap.tickets.map((t) => [t.key, t]));
    const rows = new Map(snap.runtimes.map((r) => [r.id, r]));
    for (const [pid, a] of this.aliveAgents) {
      if (a.deadSince === undefined && pidAlive(pid)) continue;
      a.deadSince ??= now;
      if (this.journal.killedAgents.has(pid)) {
        this.aliveAgents.delete(pid);
        continue;
      }
      if (
        this.journal.opsDuring(a.key, a.seen - 1000, now, ['retire', 'pickup', 'approve', 'changes', 'move', 'block'])
          .length > 0
      ) {
        this.aliveAgents.delete(pid);
        continue;
      }
      // The rows were read before /proc: a close the system made in between (it kills, then closes the row)
      // is seen by reading the row again.
      const fresh = this.world.snapshot();
      const t = fresh?.tickets.find((x) => x.key === a.key) ?? tickets.get(a.key);
      const row = fresh?.runtimes.find((x) => x.id === a.runtimeId) ?? rows.get(a.runtimeId);
      const reason = row?.closed_reason ?? '';
      // The system kills a session before it closes the row: judge the death once the row says why, or after
      // a grace period in which it did not.
      if (row?.status !== 'closed' && now - a.deadSince < DEATH_GRACE_MS) continue;
      this.aliveAgents.delete(pid);
      if (t?.status === 'done' || /idle in review|ticket done/.test(reason)) continue;
      if (row?.status === 'closed' && reason.startsWith('dead: ')) {
        this.foundDead.push(
          `${new Date(a.deadSince).toISOString()} ${a.key} agent pid ${pid} of runtime #${a.runtimeId}: closed as "${reason}"`,
        );
        continue;
      }
      this.violate(
        'no-destructive-from-unknown',
        a.key,
        `agent pid ${pid} of runtime #${a.runtimeId} (ticket ${t?.status ?? '?'}) died with no fault, operator or done ticket to explain it; runtime ${row?.status ?? '?'} "${reason}"`,
      );
    }
  }

  private checkNotReady(snap: Snapshot, open: RuntimeRow[], liveRow: (r: RuntimeRow) => boolean, now: number): void {
    this.ran('not-ready-warned');
    const canHeal = this.canHealNow(now);
    // One warning per waiting runtime: the message at the head of its queue carries it, the rest wait behind.
    const pending = snap.messages.filter((m) => m.status === 'pending');
    for (const m of pending) {
      const r = open.find((x) => x.ticket_key === m.ticket_key);
      if (!r || !liveRow(r)) continue;
      // A blocked ticket's live runtime is NEEDS-OPERATOR: nothing is delivered, that finding is its warning.
      if (snap.tickets.find((t) => t.key === m.ticket_key)?.status === 'blocked') continue;
      // Waiting counts from when it reached the head of the queue: a message sent after it was queued was ahead.
      const created = Date.parse(m.created_at);
      const ahead = snap.messages
        .filter((x) => x.ticket_key === m.ticket_key && x.sent_at !== null && Date.parse(x.sent_at) > created)
        .map((x) => Date.parse(x.sent_at!));
      const since = Math.max(created, Date.parse(r.created_at), ...ahead);
      const start = this.deadlineStart(since);
      const waited = now - start;
      if (!canHeal || waited <= this.allowance(READY_TIMEOUT_MS, start, now)) continue;
      if (!pending.some((x) => x.ticket_key === m.ticket_key && this.notReadyWarned.has(x.id)))
        this.violate(
          'not-ready-warned',
          m.ticket_key,
          `${m.kind} message ${m.id} pending ${Math.round(waited / 100) / 10}s on live runtime #${r.id} (pid ${r.pid ?? '-'}, ${r.status}) and no pending message of ${m.ticket_key} has a message.not_ready event`,
          String(m.id),
        );
    }
  }

  /** Token -> how many times the agents accepted it, and how many messages the store holds as sent/delivering. */
  private tallies(snap: Snapshot, prompts: LogEntry[]) {
    // Token -> the pids of the agents that accepted it, in order.
    const logged = new Map<string, number[]>();
    for (const p of prompts) {
      const tok = tokenOfText(p.text ?? '');
      if (tok) logged.set(tok, [...(logged.get(tok) ?? []), p.pid ?? -1]);
    }
    const stored = new Map<string, { sent: number; delivering: number }>();
    for (const m of snap.messages) {
      const tok = m.kind === 'prompt' ? m.ticket_key : tokenOfText(m.body);
      if (!tok) continue;
      const s = stored.get(tok) ?? { sent: 0, delivering: 0 };
      if (m.status === 'sent') s.sent++;
      if (m.status === 'delivering') s.delivering++;
      stored.set(tok, s);
    }
    return { logged, stored };
  }

  private checkDoubled(snap: Snapshot, prompts: LogEntry[]): void {
    this.ran('message-exactly-once');
    const { logged } = this.tallies(snap, prompts);
    for (const [tok, pids] of logged) {
      const d = doublings(pids);
      if (d.sameAgent.length > 0)
        this.violate(
          'message-exactly-once',
          tok.startsWith('MC-') ? tok : null,
          `${tok}: agent pid ${d.sameAgent.join(', ')} accepted it more than once`,
          `${tok}:same:${d.sameAgent.join(',')}`,
        );
      if (d.stillAlive.length > 0)
        this.violate(
          'message-exactly-once',
          tok.startsWith('MC-') ? tok : null,
          `${tok}: accepted by agents ${[...new Set(pids)].join(', ')} while pid ${d.stillAlive.join(', ')} still lives`,
          `${tok}:live:${d.stillAlive.join(',')}`,
        );
    }
  }

  private checkWorktrees(open: RuntimeRow[]): void {
    this.ran('worktree-not-shared');
    const byDir = new Map<string, number[]>();
    for (const r of open) if (r.workdir) byDir.set(r.workdir, [...(byDir.get(r.workdir) ?? []), r.id]);
    for (const [dir, ids] of byDir)
      if (ids.length > 1) this.violate('worktree-not-shared', null, `runtimes ${ids.join(', ')} share ${dir}`);
    this.ran('dirty-worktree-kept');
    for (const f of this.dirtyFiles)
      if (!existsSync(f.path))
        this.violate('dirty-worktree-kept', f.key, `uncommitted file ${f.path} is gone (its worktree was removed)`);
  }

  /** End-of-run accounting of every message against what the agents accepted. */
  tallyMessages(): MessageTally {
    const prompts = jsonLines(this.world.promptLog);
    const snap = this.world.snapshot();
    const tally: MessageTally = {
      queued: 0,
      delivered: 0,
      pending: 0,
      cancelled: 0,
      lost: 0,
      doubled: 0,
      diedWithAgent: 0,
      redelivered: 0,
    };
    if (!snap) return tally;
    const { logged, stored } = this.tallies(snap, prompts);
    const runtimes = new Map(snap.runtimes.map((r) => [r.id, r]));
    tally.queued = snap.messages.length;
    for (const m of snap.messages) {
      if (m.status === 'pending' || m.status === 'delivering') tally.pending++;
      if (m.status === 'cancelled') tally.cancelled++;
    }
    for (const [tok, s] of stored) {
      const pids = logged.get(tok) ?? [];
      const d = doublings(pids);
      // Distinct agents that took it: one typed twice into the same agent is a doubling, never a delivery.
      const n = new Set(pids).size;
      tally.delivered += Math.min(n, s.sent);
      tally.doubled += d.sameAgent.length + d.stillAlive.length;
      tally.redelivered += Math.max(0, n - 1 - d.stillAlive.length);
      if (n >= s.sent) continue;
      // Sent messages the agents never accepted: excused only when their agent was killed right after.
      const missing = s.sent - n;
      const sent = snap.messages.filter(
        (m) => m.status === 'sent' && (m.kind === 'prompt' ? m.ticket_key : tokenOfText(m.body)) === tok,
      );
      const excusable = sent.filter((m) => {
        const r = m.runtime_id === null ? undefined : runtimes.get(m.runtime_id);
        const killed = r?.pid ? this.journal.killedAgents.get(r.pid) : undefined;
        return killed !== undefined && m.sent_at !== null && killed - Date.parse(m.sent_at) < DIED_WITH_AGENT_MS;
      }).length;
      const died = Math.min(missing, excusable);
      tally.diedWithAgent += died;
      tally.lost += missing - died;
      if (missing - died > 0)
        this.violate(
          'message-exactly-once',
          tok.startsWith('MC-') ? tok : null,
          `${tok}: ${s.sent} sent in the store, the agents accepted ${n} (${died} died with a killed agent)`,
          `lost:${tok}`,
        );
    }
    return tally;
  }
}

/**
 * How a text's acceptances double up. The same agent taking it twice is always a doubling. Another agent taking
 * it is a redelivery when every earlier one is gone: a message whose agent died (or was retired) before its
 * delivery was confirmed goes back to the ticket's queue, and the ticket's next agent, which never saw it, gets
 * it. An earlier agent still alive means two live agents got it: a doubling.
 */
function doublings(pids: readonly number[]): { sameAgent: number[]; stillAlive: number[] } {
  const seen = new Set<number>();
  const sameAgent = new Set<number>();
  for (const pid of pids) {
    if (seen.has(pid)) sameAgent.add(pid);
    seen.add(pid);
  }
  const distinct = [...seen];
  const stillAlive = distinct.slice(0, -1).filter((pid) => pid > 0 && existsSync(`/proc/${pid}`));
  return { sameAgent: [...sameAgent], stillAlive };
}
