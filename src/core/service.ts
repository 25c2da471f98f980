import { applyAction, type Applied, type ApplyDeps, type Outcome } from './apply.js';
import type { ChecksPort } from './checks.port.js';
import { CommandDesk } from './command-desk.js';
import { pinMismatch, type RuntimePin } from './runtime-pin.js';
import { CommandWorker } from './command-worker.js';
import { registryDirectory } from './host-directory.js';
import type { Clock } from './clock.port.js';
import { profileNamed, type Config, type Profile } from './config.js';
import { diagnose, retryDelayMs } from './diagnose.js';
import { quietFor, type Finding, type Snapshot } from './findings.js';
import { noFailpoints, type Failpoints } from './failpoints.js';
import { holderLabel, judgeHolder, parseHolder, processHolder, type HolderVerdict } from './lease-holder.js';
import { HostService } from './host-service.js';
import { HOST_LABEL_RE, HOST_LABEL_RULE, isHostOf } from './hosts.js';
import { livenessOf, panesBySession } from './liveness.js';
import { CaptureCache, observe } from './observe.js';
import type { GitPort } from './git.port.js';
import type { ProcessPort } from './process.port.js';
import { fail, ok, type Failure, type Result } from './result.js';
import { CHECK_TAIL_LINES, checksDeadlineMs, checksEvent, GIT_LINES, workdirOf } from './review.js';
import { readingEvidence } from './routine.js';
import { readScreen, type ScreenStatus } from './screen.js';
import { sanitizeLine } from './sanitize.js';
import { checkTicketQuery } from './ticket-query.js';
import type {
  ActiveRows,
  ClaimInput,
  Claimed,
  Lease,
  ListPage,
  StorePort,
  TicketDetail,
  TicketOverview,
  TicketQuery,
  Workspace,
  WorkspaceClaim,
} from './store.port.js';
import type { TmuxObservation, TmuxPort } from './tmux.port.js';
import {
  judgeWorkspace,
  leftWorktreeFindings,
  planWorkspace,
  prepareWorkspace,
  samePath,
  workspaceFacts,
  type Verdict,
  type WorkspaceFacts,
  type WorkspacePlan,
} from './workspace.js';
import {
  sessionName,
  notAKey,
  TICKET_KEY_RE,
  type EventInput,
  type McEvent,
  type RuntimeSession,
  type Ticket,
  type TicketStatus,
} from './types.js';

// The one core service. The CLI, the console's keys and `mcc --auto` all call these functions; each
// operation observes, decides with the same pure diagnosis as the automatic pass, and writes through
// compare-and-set store operations, so a key press can never do what the reconciler would undo.

export interface ServiceDeps {
  store: StorePort;
  tmux: TmuxPort;
  processes: ProcessPort;
  clock: Clock;
  config: Config;
  /** This host's id (runtime rows, lease holders, the hosts table). */
  host: string;
  /** Legacy names of this host that older runtime rows carry (the plain hostname when the id was defaulted). */
  hostAliases?: readonly string[];
  /** Who acts, for the activity log: `operator:<user>`, `auto`, `console:<user>`. */
  actor: string;
  failpoints?: Failpoints;
  /** Needed only by profiles with a `workspace` (worktree or pool). */
  git?: GitPort;
  /** Runs the review checks; without it a REVIEW: marker's checks wait for a process that has one. */
  checks?: ChecksPort;
}

/** What a pass applies: everything (`auto`), only routine work that is not drift (`routine`), or nothing. */
export type PassMode = 'auto' | 'routine' | 'dry-run';

export interface PassReport {
  snapshot: Snapshot;
  findings: Finding[];
  applied: Applied[];
}

export interface PaneTailView {
  lines: string[];
  status: ScreenStatus | null;
  /** Which pattern matched on which line, and how long the screen has been still. */
  explain: string[];
}

export interface PickupOutcome {
  ticket: Ticket;
  runtime: RuntimeSession;
  how: 'spawned' | 'adopted';
  prompt: 'sent' | 'pending';
}

/** One step of a host's auto pickup (`pickupNext`). */
export interface PickupNext {
  /** The ticket started (spawned, or adopted when its session lived); null when nothing was started. */
  outcome: PickupOutcome | null;
  /** Candidates passed over, and a claimed ticket whose start failed, each with why. */
  declined: { key: string; failure: Failure }[];
}

/** Batches one `pickupNext` plans at most before it leaves the rest to the next pass. */
const MAX_PICKUP_ROUNDS = 20;

/** A claimed ticket's start, as planned before the claim. */
interface Launch {
  ticket: Ticket;
  profile: Profile;
  plan: WorkspacePlan | null;
  workspace: WorkspaceClaim | undefined;
}

/** True when an open runtime of this host and socket was seen alive (spawned, adopted) after `began` in a pane
 * the tmux observation does not have: the rows are newer than the observation. */
function recordedDuring(snap: Snapshot, began: number): boolean {
  if (snap.tmux.kind !== 'ok') return false;
  const panes = new Set(snap.tmux.panes.map((p) => p.paneId));
  return snap.rows.runtimes.some(
    (r) =>
      r.status !== 'closed' &&
      r.paneId !== null &&
      isHostOf(r, snap.where) &&
      r.tmuxSocket === snap.where.socket &&
      r.lastSeenAt !== null &&
      r.lastSeenAt >= began &&
      !panes.has(r.paneId),
  );
}

/** A lease granted; `takenOver` names the dead holder it was taken from (as people know it) and how we know. */
export interface LeaseGrant extends Lease {
  takenOver?: { from: string; why: string };
}

export class MissionControl {
  private readonly cache = new CaptureCache();
  private readonly failpoints: Failpoints;
  /** Warnings already logged in this streak, so a standing condition logs once, not once per pass. */
  private readonly warned = new Set<string>();

  /** The host registry: heartbeats, fencing, `mcc hosts`, `mcc host forget`. */
  readonly hosts: HostService;

  constructor(private readonly deps: ServiceDeps) {
    this.failpoints = deps.failpoints ?? noFailpoints;
    this.hosts = new HostService(deps, this);
  }

  private now = (): number => this.deps.clock.now();

  private applyDeps(actor = this.deps.actor): ApplyDeps {
    const { store, tmux, config, host } = this.deps;
    return { store, tmux, config, host, failpoints: this.failpoints, now: this.now, actor };
  }

  /** The ticket's own profile; one gone from the config is an error, never silently replaced by another. */
  profileFor(t: Pick<Ticket, 'key' | 'profile'>): Result<Profile> {
    const p = profileNamed(this.deps.config, t.profile);
    if (p) return ok(p);
    const known = Object.keys(this.deps.config.profiles).join(', ');
    return fail('invalid', `profile "${t.profile}" of ${t.key} is not in the config (known: ${known})`);
  }

  /** Observe the world once (one tmux call, one batch of identities); twice if rows were recorded meanwhile. */
  async snapshot(): Promise<Snapshot> {
    const { store, tmux, processes, config, host, hostAliases } = this.deps;
    const deps = { store, tmux, processes, config, host, hostAliases: hostAliases ?? [] };
    const began = this.now();
    const first = await observe(deps, this.cache, this.now);
    // tmux is observed before the rows are read: a spawn recorded in between names a pane this observation
    // cannot show, and its agent would be judged gone (and `retire` would close its row, killing nothing).
    // Looking once more shows that pane; a row recorded during the second look too is the next pass's.
    return recordedDuring(first, began) ? observe(deps, this.cache, this.now) : first;
  }

  /** One reconcile pass: observe, diagnose, then apply what the mode allows. */
  async reconcile(mode: PassMode): Promise<PassReport> {
    const snapshot = await this.snapshot();
    const findings = diagnose(snapshot);
    const applied: Applied[] = [];
    const lost = new Set<string>();
    for (const f of findings) {
      const key = f.ticketKey ?? '';
      // A console without a daemon still records warnings (NOT-READY): they hide nothing and move nothing.
      const wanted = mode === 'auto' || (mode === 'routine' && (f.drift === null || f.action.type === 'warn'));
      if (!wanted || f.action.type === 'none' || f.action.type === 'wait' || lost.has(key)) {
        if (mode !== 'dry-run' && f.action.type === 'none' && f.severity !== 'info') await this.warnOnce(f);
        applied.push({
          finding: f,
          outcome: 'skipped',
          detail: lost.has(key) ? 'declined: rows changed this pass' : '',
        });
        continue;
      }
      const res = await this.applyOne(f, snapshot);
      if (res.outcome === 'declined' || res.outcome === 'failed') lost.add(key);
      applied.push(res);
    }
    const left = await this.leftWorktrees();
    for (const f of left) {
      if (mode !== 'dry-run') await this.warnOnce(f);
      applied.push({ finding: f, outcome: 'skipped', detail: 'the next pickup reuses it' });
    }
    findings.push(...left);
    this.forgetResolvedWarnings(findings);
    return { snapshot, findings, applied };
  }

  private async applyOne(f: Finding, snapshot: Snapshot): Promise<Applied> {
    let res: Result<Outcome>;
    try {
      res = await applyAction(this.applyDeps(), f, snapshot);
    } catch (e) {
      res = fail('tmux_failed', (e as Error).message);
    }
    if (!res.ok) {
      const paneId = 'paneId' in f.action ? f.action.paneId : null;
      if (paneId) this.cache.invalidate(paneId);
      return { finding: f, outcome: res.code === 'conflict' ? 'declined' : 'failed', detail: res.message };
    }
    return { finding: f, outcome: res.value, detail: '' };
  }

  private async warnOnce(f: Finding): Promise<void> {
    const id = `${f.ticketKey ?? '-'}|${f.drift}|${f.summary}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    const last = await this.deps.store.listEvents({ ...(f.ticketKey ? { ticketKey: f.ticketKey } : {}), limit: 1 });
    if (last[0]?.kind === 'reconcile.warning' && last[0].summary === f.summary) return;
    await this.deps.store.appendEvent(
      {
        ticketKey: f.ticketKey,
        runtimeId: f.runtimeId,
        actor: this.deps.actor,
        kind: 'reconcile.warning',
        status: 'warning',
        summary: f.summary,
        rootCause: f.evidence.join('; ') || null,
        safeRetry: f.drift === 'UNKNOWN' ? 'nothing destructive was done; the next pass looks again' : null,
        humanInputRequired: f.drift === 'NEEDS-OPERATOR',
        nextActions: f.drift === 'NEEDS-OPERATOR' ? ['decide with adopt, retire or move'] : [],
      },
      this.now(),
    );
  }

  private forgetResolvedWarnings(findings: Finding[]): void {
    const current = new Set(findings.map((f) => `${f.ticketKey ?? '-'}|${f.drift}|${f.summary}`));
    for (const id of this.warned) if (!current.has(id)) this.warned.delete(id);
  }

  private async ticketOr404(key: string): Promise<Result<Ticket>> {
    if (!TICKET_KEY_RE.test(key)) return fail('invalid', notAKey(key));
    const t = await this.deps.store.getTicket(key);
    return t ? ok(t) : fail('not_found', `no ticket ${key}`);
  }

  /** Findings of one ticket from a fresh observation. */
  private async findingsFor(key: string): Promise<{ snapshot: Snapshot; findings: Finding[] }> {
    const snapshot = await this.snapshot();
    return { snapshot, findings: diagnose(snapshot).filter((f) => f.ticketKey === key) };
  }

  /** Start work on a todo ticket, or adopt its runtime if one already lives. Never spawns twice. */
  async pickup(key: string): Promise<Result<PickupOutcome>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const { snapshot, findings } = await this.findingsFor(key);
    if (snapshot.tmux.kind === 'unknown')
      return fail('probe_unknown', `cannot see tmux (${snapshot.tmux.reason}); nothing was started`);
    const adopt = findings.find((f) => f.action.type === 'adopt');
    if (adopt) {
      const res = await this.applyOne(adopt, snapshot);
      if (res.outcome !== 'applied')
        return fail('conflict', `${key}: adopting the live runtime lost a race (${res.detail})`);
      return this.outcomeAfter(key, 'adopted');
    }
    const ticket = snapshot.rows.tickets.find((t) => t.key === key) ?? found.value;
    const open = snapshot.rows.runtimes.find((r) => r.ticketKey === key && r.status !== 'closed');
    if (ticket.status !== 'todo' || open)
      return fail('conflict', holderText(ticket, open), { holder: holderOf(ticket, open) });
    const panes = panesBySession(snapshot.tmux);
    if (panes.has(sessionName(key))) {
      return fail(
        'conflict',
        `${key}: session ${sessionName(key)} already exists and is not adoptable (${findings.map((f) => f.summary).join('; ') || 'dead or foreign'})`,
      );
    }
    return this.spawn(ticket);
  }

  private async spawn(ticket: Ticket): Promise<Result<PickupOutcome>> {
    const { store } = this.deps;
    const found = this.profileFor(ticket);
    // Refused before the claim: nothing is written for a ticket whose agent cannot be started or judged.
    if (!found.ok) return found;
    const profile = found.value;
    const refused = await this.labelRefusal(ticket);
    if (refused) return refused;
    const plan = await this.planWorkspaceOf(ticket, profile);
    if (!plan.ok) return plan;
    // One claim per candidate directory: a pool slot another pickup took first is refused, and the next is tried.
    let claimed: Awaited<ReturnType<StorePort['claim']>> | null = null;
    let workspace: WorkspaceClaim | undefined;
    for (const candidate of plan.value?.claims ?? [undefined]) {
      workspace = candidate;
      claimed = await store.claim(this.claimInput(ticket, candidate));
      if (claimed.ok || claimed.code !== 'conflict' || !candidate || candidate.mode !== 'pool') break;
      const now = await store.getTicket(ticket.key);
      if (now?.status !== 'todo' || now.version !== ticket.version) break;
    }
    if (!claimed) return fail('invalid', `${ticket.key}: nothing to claim`);
    if (!claimed.ok) return claimed;
    return this.launch({ ticket, profile, plan: plan.value, workspace }, claimed.value);
  }

  /** What `store.claim` takes to claim `ticket` here (in `workspace`, when its profile has one). */
  private claimInput(ticket: Ticket, workspace: WorkspaceClaim | undefined): ClaimInput {
    const { host, config } = this.deps;
    const session = sessionName(ticket.key);
    const where = workspace ? ` in ${workspace.path} on ${workspace.branch}` : '';
    return {
      key: ticket.key,
      ticketVersion: ticket.version,
      runtime: { host, tmuxSocket: config.socket, tmuxSession: session },
      ...(workspace ? { workspace } : {}),
      promptBody: promptOf(ticket),
      now: this.now(),
      event: this.event(
        ticket.key,
        null,
        'pickup.claim',
        'ok',
        `claimed ${ticket.key} (attempt ${ticket.attempts + 1}); spawning ${session}${where}`,
        { stopCondition: `blocked after ${config.retryLimit} attempts` },
      ),
    };
  }

  /**
   * The next todo ticket this host may start, claimed and spawned: the auto pickup of one host among several.
   * The candidates are planned here (profile, workspace, retry delay, host label) and the store claims the
   * first one no other host is claiming (claimNextTodo), so hosts racing over one queue take different
   * tickets. A candidate whose session already lives goes the way of `pickup` (adopted or refused).
   * `declined` says why candidates were passed over; `outcome` null when nothing was left to start.
   */
  async pickupNext(opts: {
    labels: readonly string[];
    /** Tickets passed over already in this round (declined before). */
    exclude?: ReadonlySet<string>;
    /** At most this many candidates planned per claim (default 8). */
    batch?: number;
  }): Promise<Result<PickupNext>> {
    const declined: PickupNext['declined'] = [];
    // Candidates other hosts took (or are taking) while this call planned them: the next batch is planned.
    const passed = new Set<string>();
    const open = (t: Ticket) =>
      !opts.exclude?.has(t.key) && !passed.has(t.key) && !declined.some((d) => d.key === t.key);
    let panes: Map<string, unknown> | null = null;
    for (let round = 0; round < MAX_PICKUP_ROUNDS; round++) {
      const todo = (await this.pickupCandidates()).filter((t) => open(t) && this.labelAllows(t, opts.labels));
      if (todo.length === 0) return ok({ outcome: null, declined });
      if (panes === null) {
        const snapshot = await this.snapshot();
        if (snapshot.tmux.kind === 'unknown')
          return fail('probe_unknown', `cannot see tmux (${snapshot.tmux.reason}); nothing was started`);
        panes = panesBySession(snapshot.tmux);
      }
      const step = await this.claimFrom(todo, panes, opts.labels, opts.batch ?? 8, declined);
      if (!('passed' in step)) return step;
      for (const key of step.passed) passed.add(key);
    }
    return ok({ outcome: null, declined });
  }

  /** One batch of `pickupNext`: plan, claim the first free one, start it; `passed`: others took them all. */
  private async claimFrom(
    todo: readonly Ticket[],
    panes: ReadonlyMap<string, unknown>,
    labels: readonly string[],
    batch: number,
    declined: PickupNext['declined'],
  ): Promise<Result<PickupNext> | { passed: string[] }> {
    const prepared = new Map<string, Launch>();
    const claims: ClaimInput[] = [];
    for (const ticket of todo) {
      if (claims.length >= batch) break;
      if (panes.has(sessionName(ticket.key))) {
        const res = await this.pickup(ticket.key);
        if (res.ok) return ok({ outcome: res.value, declined });
        declined.push({ key: ticket.key, failure: res });
        continue;
      }
      const found = this.profileFor(ticket);
      if (!found.ok) {
        declined.push({ key: ticket.key, failure: found });
        continue;
      }
      const plan = await this.planWorkspaceOf(ticket, found.value);
      if (!plan.ok) {
        declined.push({ key: ticket.key, failure: plan });
        continue;
      }
      const workspace = plan.value?.claims[0];
      prepared.set(ticket.key, { ticket, profile: found.value, plan: plan.value, workspace });
      claims.push(this.claimInput(ticket, workspace));
    }
    if (claims.length === 0) return ok({ outcome: null, declined });
    const claimed = await this.deps.store.claimNextTodo({ candidates: claims, labels });
    if (!claimed.ok) return claimed;
    if (claimed.value === null) return { passed: [...prepared.keys()] };
    const launch = prepared.get(claimed.value.ticket.key);
    if (launch === undefined) throw new Error(`claimNextTodo claimed ${claimed.value.ticket.key}, not a candidate`);
    const outcome = await this.launch(launch, claimed.value);
    if (!outcome.ok) declined.push({ key: launch.ticket.key, failure: outcome });
    return ok({ outcome: outcome.ok ? outcome.value : null, declined });
  }

  /** Whether this host (carrying `labels`) may start `ticket`: it needs no host label, or one of them. */
  private labelAllows(ticket: Ticket, labels: readonly string[]): boolean {
    const label = this.labelNeeded(ticket);
    return label === null || labels.includes(label);
  }

  /**
   * The host label `ticket` needs: its own, else its profile's (as this host's config has it); null: any host.
   * A ticket whose profile is missing needs none here: its pickup is refused for the missing profile instead.
   */
  private labelNeeded(ticket: Ticket): string | null {
    if (ticket.hostLabel != null) return ticket.hostLabel;
    const profile = this.profileFor(ticket);
    return profile.ok ? profile.value.hostLabel : null;
  }

  /**
   * An operator's pickup on this host of a ticket that needs a label this host does not carry: `invalid`, before
   * anything is written. This host's labels are the ones its daemon registered (`mcc --auto --label`).
   */
  private async labelRefusal(ticket: Ticket): Promise<Result<never> | null> {
    const need = this.labelNeeded(ticket);
    if (need === null) return null;
    const { host, store } = this.deps;
    const mine = (await store.listHosts()).find((h) => h.id === host)?.labels ?? [];
    if (mine.includes(need)) return null;
    const whose = ticket.hostLabel != null ? 'it' : `its profile ${ticket.profile}`;
    const carries = mine.length === 0 ? 'no label' : `only ${mine.join(', ')}`;
    return fail(
      'invalid',
      `${ticket.key} runs only on a host labelled ${need} (${whose} says so); this host (${host}) carries ${carries}` +
        `; nothing was started: pick it up there (mcc pickup ${ticket.key} --on HOST), or run this host's daemon with --label ${need}`,
    );
  }

  /** After the claim: prepare the workspace, start the session, record the agent, deliver the prompt if ready. */
  private async launch(l: Launch, claimed: Claimed): Promise<Result<PickupOutcome>> {
    const { store, tmux, processes } = this.deps;
    const { ticket, profile, plan, workspace } = l;
    const session = sessionName(ticket.key);
    this.failpoints.hit('pickup.after_claim');
    this.failpoints.hit('pickup.after_runtime_row');
    const { runtime } = claimed;
    if (plan && plan.skipped.length > 0) await this.reportSkippedSlots(ticket.key, plan);
    const cwd = workspace ? await this.prepareClaimed(ticket.key, runtime.id, workspace) : ok(profile.cwd);
    if (!cwd.ok) return cwd;
    this.failpoints.hit('pickup.after_worktree');
    const spawned = await tmux.newSession({
      session,
      argv: profile.command,
      ...(cwd.value ? { cwd: cwd.value } : {}),
      env: { ...profile.env, MCC_TICKET: ticket.key },
      storeTag: store.storeId,
    });
    if (!spawned.ok) {
      const why =
        spawned.code === 'conflict'
          ? `session ${session} appeared meanwhile (another process spawned it)`
          : spawned.message;
      await store.appendEvent(
        this.event(ticket.key, runtime.id, 'pickup.spawn', 'error', `could not start ${session}: ${why}`, {
          rootCause: spawned.message,
          safeRetry:
            'the runtime row stays `spawning`; the next pass adopts a live session or closes the row after the TTL',
        }),
        this.now(),
      );
      return fail(spawned.code === 'conflict' ? 'conflict' : 'tmux_failed', `${ticket.key}: ${why}`);
    }
    this.failpoints.hit('pickup.after_new_session');
    const { paneId, panePid } = spawned.value;
    const ids = await processes.inspect([panePid]);
    const obs = ids.get(panePid);
    if (obs?.kind === 'alive') {
      const recorded = await store.recordSpawn({
        runtimeId: runtime.id,
        runtimeVersion: runtime.version,
        ticketKey: ticket.key,
        ticketVersion: claimed.ticket.version,
        paneId,
        identity: obs.identity,
        now: this.now(),
        event: this.event(ticket.key, runtime.id, 'pickup.spawn', 'ok', `${session} running, agent pid ${panePid}`, {
          artifacts: [`tmux:${session}`, `pane:${paneId}`, `pid:${panePid}`],
        }),
      });
      if (!recorded.ok) return recorded;
      this.failpoints.hit('pickup.after_record_pid');
    }
    const sent = await this.tryDeliverNow(ticket.key);
    const outcome = await this.outcomeAfter(ticket.key, 'spawned');
    if (outcome.ok && sent) outcome.value.prompt = 'sent';
    return outcome;
  }

  /** Deliver the next queued message now if the runtime is live and ready; false when it must wait. */
  private async tryDeliverNow(key: string): Promise<boolean> {
    const { snapshot, findings } = await this.findingsFor(key);
    const f = findings.find((x) => x.action.type === 'deliver' || x.action.type === 'resume_delivery');
    if (!f) return false;
    const res = await this.applyOne(f, snapshot);
    return res.outcome === 'applied';
  }

  private async outcomeAfter(key: string, how: 'spawned' | 'adopted'): Promise<Result<PickupOutcome>> {
    const detail = await this.deps.store.ticketDetail(key, { eventLimit: 1 });
    const runtime = detail?.runtimes.find((r) => r.status !== 'closed');
    if (!detail || !runtime) return fail('conflict', `${key}: the runtime was closed meanwhile`);
    const pending = detail.messages.some(
      (m) => m.kind === 'prompt' && (m.status === 'pending' || m.status === 'delivering'),
    );
    return ok({ ticket: detail.ticket, runtime, how, prompt: pending ? 'pending' : 'sent' });
  }

  /** Point the ticket at its live runtime (the operator's `a`); says why when there is none. */
  async adopt(key: string): Promise<Result<string>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const { snapshot, findings } = await this.findingsFor(key);
    if (snapshot.tmux.kind === 'unknown')
      return fail('probe_unknown', `adopt: cannot see tmux (${snapshot.tmux.reason})`);
    let f = findings.find((x) => x.action.type === 'adopt');
    if (!f) {
      const t = snapshot.rows.tickets.find((x) => x.key === key) ?? found.value;
      const live = this.liveRuntime(snapshot, key);
      if (t.status === 'blocked' && live) {
        // The operator's decision on NEEDS-OPERATOR: unblock into todo, then the same adoption as the pass.
        const moved = await this.deps.store.setTicketStatus({
          key,
          version: t.version,
          from: ['blocked'],
          to: 'todo',
          blockedReason: null,
          now: this.now(),
          event: this.event(key, live.id, 'ticket.move', 'ok', 'blocked -> todo: the operator adopts its live runtime'),
        });
        if (!moved.ok) return moved;
        f = (await this.findingsFor(key)).findings.find((x) => x.action.type === 'adopt');
      } else if (live && t.status === 'in_progress') {
        return ok(`${key} already runs in ${live.tmuxSession} (pid ${live.pid}); nothing to adopt`);
      } else {
        const why = findings.find((x) => x.drift)?.summary;
        return fail('not_found', `adopt: no live runtime for ${key}${why ? ` (${why})` : ''}`);
      }
    }
    if (!f) return fail('conflict', `adopt: ${key} changed meanwhile`);
    const res = await this.applyOne(f, snapshot);
    if (res.outcome !== 'applied')
      return fail('conflict', `adopt: ${key} changed meanwhile (${res.detail}); refreshed`);
    return ok(f.summary);
  }

  private liveRuntime(snapshot: Snapshot, key: string): RuntimeSession | null {
    const panes = panesBySession(snapshot.tmux);
    for (const r of snapshot.rows.runtimes) {
      if (r.ticketKey !== key || r.status === 'closed') continue;
      const l = livenessOf(r, snapshot.tmux, panes, snapshot.processes, snapshot.where);
      if (l.kind === 'live') return r;
    }
    return null;
  }

  /** Send the profile's interrupt keys to a live, verified runtime. */
  async interrupt(key: string, pin: RuntimePin = {}): Promise<Result<string>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const snapshot = await this.snapshot();
    const live = this.liveRuntime(snapshot, key);
    if (!live || !live.paneId) return fail('not_found', `interrupt: no live runtime for ${key}`);
    const moved = pinMismatch('interrupt', key, live.id, pin, 'nothing was interrupted');
    if (moved) return moved;
    const chosen = this.profileFor(found.value);
    if (!chosen.ok) return chosen;
    const profile = chosen.value;
    const sent = await this.deps.tmux.sendKeys(live.paneId, profile.interrupt);
    if (!sent.ok) return sent;
    await this.deps.store.appendEvent(
      this.event(key, live.id, 'runtime.interrupt', 'ok', `sent ${profile.interrupt.join(' ')} to ${live.tmuxSession}`),
      this.now(),
    );
    return ok(`interrupted ${key} (${profile.interrupt.join(' ')})`);
  }

  /**
   * Stop a ticket's runtime: kill its session, close the row, an in_progress ticket goes back to todo. With
   * `pin.runtimeId` only that runtime: a ticket that moved on to another runtime since the caller looked is a
   * conflict, and the close is a CAS on the runtime's version, so nothing newer is ever killed in its place.
   */
  async retire(key: string, pin: RuntimePin = {}): Promise<Result<string>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const snapshot = await this.snapshot();
    if (snapshot.tmux.kind === 'unknown')
      return fail('probe_unknown', `retire: cannot see tmux (${snapshot.tmux.reason}); nothing was killed`);
    const t = snapshot.rows.tickets.find((x) => x.key === key) ?? found.value;
    const r = snapshot.rows.runtimes.find((x) => x.ticketKey === key && x.status !== 'closed');
    if (!r) return fail('not_found', `retire: ${key} has no open runtime`);
    const moved = pinMismatch('retire', key, r.id, pin, 'nothing was killed');
    if (moved) return moved;
    const panes = panesBySession(snapshot.tmux);
    const live = livenessOf(r, snapshot.tmux, panes, snapshot.processes, snapshot.where);
    if (live.kind === 'unknown') return fail('probe_unknown', `retire: ${live.why}; nothing was killed`);
    const pane = live.pane;
    const f: Finding = {
      ticketKey: key,
      runtimeId: r.id,
      drift: null,
      severity: 'info',
      summary: `operator retires runtime ${r.id} of ${key}`,
      evidence: [],
      action: {
        type: 'close',
        runtimeId: r.id,
        runtimeVersion: r.version,
        reason: 'retired by operator',
        exitStatus: live.kind === 'dead' ? live.exitStatus : null,
        killSession: pane ? r.tmuxSession : null,
        paneId: pane?.paneId ?? null,
        ticket: t.status === 'in_progress' ? { key, version: t.version, to: 'todo', blockedReason: null } : null,
      },
    };
    const res = await this.applyOne(f, snapshot);
    if (res.outcome !== 'applied')
      return fail(res.outcome === 'declined' ? 'conflict' : 'tmux_failed', `retire: ${res.detail}`);
    return ok(`retired ${r.tmuxSession}${t.status === 'in_progress' ? `; ${key} -> todo` : ''}`);
  }

  /** Queue text for a ticket's runtime; delivered now if it is ready, else by the next pass. */
  async send(key: string, text: string): Promise<Result<'sent' | 'queued'>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    if (text.trim() === '') return fail('invalid', 'send: empty message');
    const t = found.value;
    if (t.status === 'done') return fail('conflict', `send: ${key} is done`);
    const queued = await this.deps.store.queueMessage({
      key,
      body: text,
      kind: 'operator',
      now: this.now(),
      event: this.event(key, null, 'message.queue', 'ok', `message queued (${text.length} chars)`),
    });
    if (!queued.ok) return queued;
    // human_input_required stays set until the answer is delivered (the store clears it then): a queued answer
    // that cannot reach the agent keeps the ticket in the operator's sight.
    return ok((await this.tryDeliverNow(key)) ? 'sent' : 'queued');
  }

  /** Operator move of a ticket's state (review, done, todo, blocked). The system itself never does this. */
  async move(
    key: string,
    to: TicketStatus,
    opts: { resetAttempts?: boolean; reason?: string } = {},
  ): Promise<Result<Ticket>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const t = found.value;
    if (t.status === to) return ok(t);
    if (to === 'todo') {
      // A todo ticket with a runtime is the seed's drift: the operator retires the runtime instead.
      const detail = await this.deps.store.ticketDetail(key, { eventLimit: 0 });
      const open = detail?.runtimes.find((r) => r.status !== 'closed');
      if (open)
        return fail(
          'conflict',
          `move: ${key} still has runtime ${open.id} (${open.tmuxSession}, ${open.status}); retire it first`,
        );
    }
    return this.deps.store.setTicketStatus({
      key,
      version: t.version,
      from: [t.status],
      to,
      humanInputRequired: false,
      blockedReason: to === 'blocked' ? (opts.reason ?? 'blocked by operator') : null,
      resetAttempts: opts.resetAttempts ?? (t.status === 'blocked' && to === 'todo'),
      now: this.now(),
      event: this.event(
        key,
        null,
        'ticket.move',
        'ok',
        `${t.status} -> ${to}${opts.reason ? ` (${opts.reason})` : ''}`,
      ),
    });
  }

  /**
   * A live runtime's pane from a fresh capture, for the detail view and `mcc show`: its status by the readiness
   * contract and where that came from (which pattern matched on which line, how long the screen was still).
   */
  async paneTail(key: string, lines: number): Promise<Result<PaneTailView>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const detail = await this.deps.store.ticketDetail(key, { eventLimit: 0 });
    const r = detail?.runtimes.find((x) => x.status !== 'closed' && x.paneId);
    if (!r?.paneId) return ok({ lines: [], status: null, explain: [] });
    const cap = await this.deps.tmux.capture(r.paneId, lines);
    if (!cap.ok) return cap;
    const profile = this.profileFor(found.value);
    if (!profile.ok) return ok({ lines: cap.value, status: null, explain: [profile.message] });
    const changedAt = this.cache.changedAt(r.paneId);
    const quiet = changedAt === undefined ? null : Math.max(0, this.now() - changedAt);
    const reading = readScreen(cap.value, profile.value, quiet);
    return ok({ lines: cap.value, status: reading.status, explain: readingEvidence(reading) });
  }

  // Reads for the views and the edges' own bookkeeping. The CLI, the console and the daemon reach the store
  // and tmux only through these named calls; the service's dependencies are private.

  /** Create a todo ticket (default profile unless named); `invalid` naming the problem, and nothing written. */
  async createTicket(input: {
    title: string;
    body?: string;
    profile?: string;
    checkInSeconds?: number;
    /** Only a host carrying this label (`mcc --auto --label`) picks the ticket up. */
    hostLabel?: string;
  }): Promise<Result<Ticket>> {
    const { store, config, actor } = this.deps;
    const title = input.title.trim();
    if (title === '') return fail('invalid', 'the title is empty');
    const profile = input.profile ?? config.defaultProfile;
    if (!profileNamed(config, profile))
      return fail(
        'invalid',
        `no profile named "${profile}" (have: ${Object.keys(config.profiles).join(', ') || 'none'})`,
      );
    const checkInSeconds = input.checkInSeconds ?? null;
    if (checkInSeconds !== null && (!Number.isInteger(checkInSeconds) || checkInSeconds <= 0))
      return fail('invalid', `the check-in must be a whole number of seconds > 0, got ${checkInSeconds}`);
    const hostLabel = input.hostLabel ?? null;
    if (hostLabel !== null && !HOST_LABEL_RE.test(hostLabel))
      return fail('invalid', `host label "${sanitizeLine(hostLabel.slice(0, 40))}": ${HOST_LABEL_RULE}`);
    return ok(
      await store.createTicket({
        title,
        body: input.body ?? '',
        profile,
        now: this.now(),
        actor,
        checkInSeconds,
        hostLabel,
      }),
    );
  }

  /** One ticket with its runtimes, messages and newest events; `invalid` for a bad key, `not_found` if absent. */
  async ticketDetail(key: string, opts: { eventLimit?: number } = {}): Promise<Result<TicketDetail>> {
    if (!TICKET_KEY_RE.test(key)) return fail('invalid', notAKey(key));
    const detail = await this.deps.store.ticketDetail(key, opts);
    return detail ? ok(detail) : fail('not_found', `no ticket ${key}`);
  }

  /** Every ticket with its current runtime and pending count, optionally only those in one state. */
  async overview(filter: { status?: TicketStatus } = {}): Promise<TicketOverview[]> {
    const rows = await this.deps.store.overview();
    return filter.status ? rows.filter((o) => o.ticket.status === filter.status) : rows;
  }

  /** A page of `mcc list`'s text view with the counts of what it leaves out; `invalid` for a bad query. */
  async listPage(query: TicketQuery & { limit: number }): Promise<Result<ListPage>> {
    const q = checkTicketQuery(query);
    return q.ok ? ok(await this.deps.store.listPage(q.value)) : q;
  }

  /**
   * The full overview rows a query selects, handed to `visit` one at a time (`mcc list --json` at any size);
   * the count visited, or `invalid` for a bad query. `visit` must not call the service.
   */
  async eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<Result<number>> {
    const q = checkTicketQuery(query);
    return q.ok ? ok(await this.deps.store.eachOverview(q.value, visit)) : q;
  }

  /** Tickets, optionally only those in one state (oldest first). */
  /**
   * Todo tickets an automatic pickup may start now: a ticket that went back to todo after a failed attempt
   * waits a delay that doubles with each attempt, so an agent that dies at start is no respawn storm.
   */
  async pickupCandidates(): Promise<Ticket[]> {
    const now = this.now();
    const ttlMs = this.deps.config.ttlSeconds * 1000;
    const todo = await this.deps.store.listTickets({ status: 'todo' });
    return todo.filter((t) => now - t.updatedAt >= retryDelayMs(t.attempts, ttlMs));
  }

  /** What a fresh observation says of one ticket: its findings, and its agent's screen and why it reads so. */
  async inspect(key: string): Promise<Result<{ findings: Finding[]; screen: PaneTailView | null }>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const { snapshot, findings } = await this.findingsFor(key);
    const r = snapshot.rows.runtimes.find((x) => x.ticketKey === key && x.status !== 'closed' && x.paneId);
    const lines = r?.paneId ? snapshot.captures.get(r.paneId) : undefined;
    const profile = profileNamed(this.deps.config, found.value.profile);
    if (!r?.paneId || !lines || !profile) return ok({ findings, screen: null });
    const reading = readScreen(lines, profile, quietFor(snapshot, r.paneId));
    return ok({ findings, screen: { lines: [...lines], status: reading.status, explain: readingEvidence(reading) } });
  }

  listTickets(filter: { status?: TicketStatus } = {}): Promise<Ticket[]> {
    return this.deps.store.listTickets(filter);
  }

  /** The tickets with these keys (missing ones are left out). */
  getTickets(keys: readonly string[]): Promise<Ticket[]> {
    return this.deps.store.getTickets(keys);
  }

  /** Every ticket's key and version, so a view reloads only the tickets that changed. */
  ticketVersions(): Promise<Map<string, number>> {
    return this.deps.store.ticketVersions();
  }

  /** The rows that can drift (open runtimes and messages, active tickets), fresh from the store. */
  activeRows(): Promise<ActiveRows> {
    return this.deps.store.loadActive([]);
  }

  /** Changes whenever any process committed to the store. */
  changeToken(): Promise<number> {
    return this.deps.store.changeToken();
  }

  /**
   * The lease holder string for process `pid` of this host: `host:PID` plus its start time and boot id, so a
   * successor can prove it dead. Plain `host:PID` (successors wait for expiry) when /proc cannot tell.
   */
  async processHolder(pid: number): Promise<string> {
    const obs = (await this.deps.processes.inspect([pid])).get(pid);
    if (obs?.kind !== 'alive') return `${this.deps.host}:${pid}`;
    return processHolder({ host: this.deps.host, ...obs.identity });
  }

  /**
   * Take or renew a named lease for `ttlMs` from now; `conflict` naming the holder while another holds it. A
   * holder proved dead (a process of this host and boot that is gone, or whose pid is now another process)
   * is replaced at once by a compare-and-set on that exact holder, logged as a `lease` event naming it.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Result<LeaseGrant>> {
    const { store } = this.deps;
    const now = this.now();
    const got = await store.acquireLease({ name, holder, ttlMs, now });
    if (got.ok || got.code !== 'conflict' || got.holder === undefined) return got;
    const from = got.holder;
    const verdict = await this.judgeLeaseHolder(from);
    if (verdict.kind === 'wait') {
      const why = parseHolder(from) === null ? '' : ` (${verdict.why})`;
      return fail('conflict', `${got.message}${why}`, { holder: holderLabel(from) });
    }
    const summary = `took over lease ${name} from ${holderLabel(from)}: ${verdict.why}`;
    const taken = await store.takeOverLease({
      name,
      from,
      holder,
      ttlMs,
      now,
      event: this.event(null, null, 'lease', 'warning', summary),
    });
    if (!taken.ok) return taken.holder === undefined ? taken : { ...taken, holder: holderLabel(taken.holder) };
    return ok({ ...taken.value, takenOver: { from: holderLabel(from), why: verdict.why } });
  }

  private async judgeLeaseHolder(holder: string): Promise<HolderVerdict> {
    const id = parseHolder(holder);
    // Only a holder of this host is looked up: another host's pid says nothing about this machine's processes.
    if (id === null || id.host !== this.deps.host)
      return judgeHolder(holder, { host: this.deps.host, bootId: null }, undefined);
    const { processes } = this.deps;
    const [bootId, seen] = await Promise.all([processes.bootId(), processes.inspect([id.pid])]);
    return judgeHolder(holder, { host: this.deps.host, bootId }, seen.get(id.pid));
  }

  /** Give up a lease this holder took (nothing happens if another holds it). */
  releaseLease(name: string, holder: string): Promise<void> {
    return this.deps.store.releaseLease({ name, holder });
  }

  /**
   * The command desk over this service (CLI and console keys): an action on a runtime of this host runs here,
   * one on a runtime of another host is queued for that host's daemon, as `actor` (default: this service's).
   */
  commandDesk(opts: { actor?: string; expiryMs?: number } = {}): CommandDesk {
    const { store, clock, host, actor } = this.deps;
    return new CommandDesk({
      service: this,
      store,
      hosts: registryDirectory(this.hosts),
      clock,
      host,
      actor: opts.actor ?? actor,
      ...(opts.expiryMs === undefined ? {} : { expiryMs: opts.expiryMs }),
    });
  }

  /** This host's command worker (the daemon's), claiming as `claimer` (`processHolder(process.pid)`). */
  commandWorker(claimer: string): CommandWorker {
    const { store, processes, clock, host, actor } = this.deps;
    return new CommandWorker({ service: this, store, processes, clock, host, claimer, actor });
  }

  /** The current holder of a named lease, if any (it may have expired). */
  readLease(name: string): Promise<Lease | null> {
    return this.deps.store.readLease(name);
  }

  /** Append a `doctor` event: proves the store takes a write. */
  storeWriteCheck(): Promise<McEvent> {
    return this.deps.store.appendEvent(this.event(null, null, 'doctor', 'ok', 'store write check'), this.now());
  }

  /** One raw observation of our tmux server (what `mcc doctor` reports). */
  observeTmux(): Promise<TmuxObservation> {
    return this.deps.tmux.observe();
  }

  /** argv that attaches the calling terminal to a session on our socket. */
  attachArgv(session: string): string[] {
    return this.deps.tmux.attachArgv(session);
  }

  /** The injected clock: pollers tick on it and every timestamp comes from it. */
  get clock(): Clock {
    return this.deps.clock;
  }

  /** This host's id. */
  get host(): string {
    return this.deps.host;
  }

  /** The private tmux socket the service drives. */
  get socket(): string {
    return this.deps.config.socket;
  }

  /** tmux's change hints (TmuxPort.onChange) for a poller to run sooner; never an observation. */
  get tmuxHints(): ((listener: () => void) => () => void) | undefined {
    return this.deps.tmux.onChange?.bind(this.deps.tmux);
  }

  /** Where the store lives, for headers and logs. */
  get storeLocation(): string {
    return this.deps.store.location;
  }

  // Work isolation (worktrees and pool slots). Nothing here deletes a directory with work in it: retire, close
  // and done leave workspaces alone, and prune removes only what judgeWorkspace finds safe.

  private git(): Result<GitPort> {
    return this.deps.git ? ok(this.deps.git) : fail('invalid', 'this mcc was built without a git adapter');
  }

  /** Where a pickup of `ticket` works: null for a profile without a workspace. */
  private async planWorkspaceOf(ticket: Ticket, profile: Profile): Promise<Result<WorkspacePlan | null>> {
    const cfg = profile.workspace;
    if (cfg === null) return ok(null);
    const git = this.git();
    if (!git.ok) return git;
    const rows = await this.deps.store.listWorkspaces();
    const active = await this.deps.store.loadActive([]);
    const open = new Set(active.runtimes.map((r) => r.ticketKey));
    return planWorkspace(git.value, cfg, ticket.key, rows, open);
  }

  private async reportSkippedSlots(key: string, plan: WorkspacePlan): Promise<void> {
    await this.deps.store.appendEvent(
      this.event(key, null, 'workspace.skipped', 'warning', `skipped ${plan.skipped.length} dirty pool slot(s)`, {
        rootCause: plan.skipped.join('; '),
        safeRetry: 'a dirty slot is never reset; commit or discard its changes and it is used again',
        nextActions: ['mcc worktrees'],
      }),
      this.now(),
    );
  }

  /** Make the claimed directory ready; on failure the runtime row stays `spawning` for the TTL to close. */
  private async prepareClaimed(key: string, runtimeId: number, w: WorkspaceClaim): Promise<Result<string>> {
    const git = this.git();
    const made = git.ok ? await prepareWorkspace(git.value, w) : git;
    if (!made.ok) {
      await this.deps.store.appendEvent(
        this.event(key, runtimeId, 'pickup.workspace', 'error', `could not prepare ${w.path}: ${made.message}`, {
          rootCause: made.message,
          safeRetry: 'nothing was reset or deleted; the runtime row stays `spawning` and the next pass closes it',
        }),
        this.now(),
      );
      return fail(made.code, `${key}: ${made.message}`);
    }
    await this.deps.store.appendEvent(
      this.event(key, runtimeId, 'pickup.workspace', 'ok', `${made.value} ${w.path} on ${w.branch} (base ${w.base})`, {
        artifacts: [`workdir:${w.path}`, `branch:${w.branch}`],
      }),
      this.now(),
    );
    return ok(w.path);
  }

  /** WORKTREE-LEFT findings: one `git worktree list` per repository, and only when a worktree may be left. */
  private async leftWorktrees(): Promise<Finding[]> {
    if (!this.deps.git) return [];
    const rows = (await this.deps.store.listWorkspaces()).filter((w) => w.mode === 'worktree' && w.ticketKey);
    if (rows.length === 0) return [];
    const active = await this.deps.store.loadActive([]);
    const open = new Set(active.runtimes.map((r) => r.ticketKey));
    const waiting = rows.filter((w) => !open.has(w.ticketKey ?? ''));
    if (waiting.length === 0) return [];
    const tickets = await this.deps.store.getTickets(waiting.map((w) => w.ticketKey ?? ''));
    const statusOf = new Map(tickets.map((t) => [t.key, t.status]));
    const onDisk = new Map<string, string[]>();
    for (const repo of new Set(waiting.map((w) => w.repo))) {
      const listed = await this.deps.git.worktrees(repo);
      // A repository git cannot read judges nothing this pass: never report what was not seen.
      if (listed.ok)
        onDisk.set(
          repo,
          listed.value.map((e) => e.path),
        );
    }
    return leftWorktreeFindings(waiting, statusOf, open, (w) =>
      (onDisk.get(w.repo) ?? []).some((p) => samePath(p, w.path)),
    );
  }

  /** Every workspace mcc made, with what git says of it and whether it is kept (and why). */
  async worktrees(): Promise<Result<{ facts: WorkspaceFacts; verdict: Verdict }[]>> {
    const git = this.git();
    if (!git.ok) return git;
    const rows = await this.deps.store.listWorkspaces();
    return ok(await this.judgeAll(git.value, rows));
  }

  private async judgeAll(git: GitPort, rows: Workspace[]): Promise<{ facts: WorkspaceFacts; verdict: Verdict }[]> {
    const active = await this.deps.store.loadActive([]);
    const keys = rows.flatMap((w) => (w.ticketKey ? [w.ticketKey] : []));
    const statusOf = new Map((await this.deps.store.getTickets(keys)).map((t) => [t.key, t.status]));
    const lists = new Map<string, Awaited<ReturnType<GitPort['worktrees']>>>();
    const out: { facts: WorkspaceFacts; verdict: Verdict }[] = [];
    for (const w of rows) {
      if (!lists.has(w.repo)) lists.set(w.repo, await git.worktrees(w.repo));
      const listed = lists.get(w.repo) ?? fail('git_failed', 'not listed');
      const open = w.ticketKey ? (active.runtimes.find((r) => r.ticketKey === w.ticketKey) ?? null) : null;
      // A pool slot is in use only by the runtime that works in it, not by its last holder's next runtime.
      const inUse =
        open && (w.mode === 'worktree' || open.workdir === null || samePath(open.workdir, w.path)) ? open : null;
      const facts = await workspaceFacts(
        git,
        w,
        listed,
        w.ticketKey ? (statusOf.get(w.ticketKey) ?? null) : null,
        inUse,
      );
      out.push({ facts, verdict: judgeWorkspace(facts) });
    }
    return out;
  }

  /** The workspace a ticket's runtime works in, with its branch's commits ahead of base and whether it is dirty. */
  async workspaceOf(key: string): Promise<Result<{ facts: WorkspaceFacts; verdict: Verdict } | null>> {
    const rows = (await this.deps.store.listWorkspaces()).filter((w) => w.ticketKey === key);
    if (rows.length === 0 || !this.deps.git) return ok(null);
    const [first] = await this.judgeAll(this.deps.git, rows.slice(-1));
    return ok(first ?? null);
  }

  /** Remove the workspaces judged safe (none with changes, unsaved commits or a runtime); `dryRun` only says which. */
  async pruneWorktrees(opts: { dryRun: boolean }): Promise<
    Result<{
      removed: { facts: WorkspaceFacts; why: string }[];
      kept: { facts: WorkspaceFacts; why: string[] }[];
      failed: string[];
    }>
  > {
    const git = this.git();
    if (!git.ok) return git;
    const judged = await this.judgeAll(git.value, await this.deps.store.listWorkspaces());
    const removed: { facts: WorkspaceFacts; why: string }[] = [];
    const kept: { facts: WorkspaceFacts; why: string[] }[] = [];
    const failed: string[] = [];
    for (const { facts, verdict } of judged) {
      if (verdict.keep) {
        kept.push({ facts, why: verdict.why });
        continue;
      }
      const w = facts.ws;
      if (!opts.dryRun) {
        // git refuses a worktree with changes by itself (no --force): a change made since the judgement is kept.
        const gone = facts.exists ? await git.value.removeWorktree(w.repo, w.path) : ok(undefined);
        if (!gone.ok) {
          failed.push(`${w.path}: ${gone.message}`);
          continue;
        }
        const marked = await this.deps.store.markWorkspaceRemoved({
          id: w.id,
          now: this.now(),
          event: this.event(w.ticketKey, null, 'workspace.prune', 'ok', `removed ${w.path} (${verdict.why})`, {
            artifacts: [`workdir:${w.path}`, ...(w.branch ? [`branch:${w.branch}`] : [])],
          }),
        });
        if (!marked.ok) {
          failed.push(`${w.path}: ${marked.message}`);
          continue;
        }
      }
      removed.push({ facts, why: verdict.why });
    }
    return ok({ removed, kept, failed });
  }

  event(
    key: string | null,
    runtimeId: number | null,
    kind: string,
    status: EventInput['status'],
    summary: string,
    extra: Partial<EventInput> = {},
  ): EventInput {
    return { ticketKey: key, runtimeId, actor: this.deps.actor, kind, status, summary, ...extra };
  }
  // ---- The review gate: checks run once per REVIEW: marker, then the operator approves, asks for changes or
  // blocks. Checks run outside the pass (ChecksRunner); their `pending -> running` claim is a store CAS.

  /** in_review tickets whose checks are to run, and `running` marks older than their limits (a stopped process's). */
  async reviewChecksDue(): Promise<{ pending: Ticket[]; abandoned: Ticket[] }> {
    const now = this.now();
    const review = await this.deps.store.listTickets({ status: 'in_review', reviewChecksDue: true });
    const pending = review.filter((t) => t.reviewChecks === 'pending');
    const abandoned = review.filter((t) => {
      if (t.reviewChecks !== 'running') return false;
      const p = profileNamed(this.deps.config, t.profile);
      return now - (t.reviewChecksAt ?? 0) > (p ? checksDeadlineMs(p) : 0);
    });
    return { pending, abandoned };
  }

  /** Run a ticket's review checks once: claim them, run each in the workdir, record the evidence event. */
  async runReviewChecks(key: string, signal?: AbortSignal): Promise<Result<McEvent>> {
    const { store, checks } = this.deps;
    if (!checks) return fail('invalid', 'this process cannot run review checks');
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const profile = this.profileFor(found.value);
    if (!profile.ok) return profile;
    const detail = await store.ticketDetail(key, { eventLimit: 0 });
    const runtime = detail?.runtimes.reduce<RuntimeSession | null>((a, r) => (a && a.id > r.id ? a : r), null) ?? null;
    const workdir = workdirOf(runtime, profile.value);
    const claimed = await store.setChecks({
      key,
      from: 'pending',
      to: 'running',
      now: this.now(),
      event: this.event(
        key,
        runtime?.id ?? null,
        'review.checks_started',
        'ok',
        `running ${profile.value.checks.length} review check(s) in ${workdir}`,
      ),
    });
    if (!claimed.ok) return claimed;
    const runs = [];
    for (const argv of profile.value.checks) {
      runs.push(
        await checks.run({
          argv,
          cwd: workdir,
          timeoutMs: profile.value.checkTimeoutMs,
          tailLines: CHECK_TAIL_LINES,
          ...(signal ? { signal } : {}),
        }),
      );
      if (signal?.aborted) break;
    }
    const git = await checks.git(workdir, { maxLines: GIT_LINES });
    const ev = checksEvent(found.value, runtime?.id ?? null, workdir, runs, git, this.deps.actor);
    if (signal?.aborted) {
      ev.status = 'error';
      ev.summary = `review checks interrupted: the process running them stopped; not run again (${ev.summary})`;
    }
    const finished = await store.setChecks({
      key,
      from: 'running',
      to: ev.status === 'ok' ? 'ok' : 'failed',
      now: this.now(),
      event: ev,
    });
    if (!finished.ok) return finished;
    const last = await store.listEvents({ ticketKey: key, limit: 1 });
    return last[0] ? ok(last[0]) : fail('not_found', `${key}: the checks event is gone`);
  }

  /** Record checks a stopped process left `running` as failed: they are never run twice for one marker. */
  async abandonReviewChecks(key: string): Promise<Result<Ticket>> {
    return this.deps.store.setChecks({
      key,
      from: 'running',
      to: 'failed',
      now: this.now(),
      event: this.event(
        key,
        null,
        'review.checks',
        'error',
        'review checks interrupted: the process running them stopped; not run again',
        {
          rootCause: 'the checks were marked running longer than their time limits allow',
          safeRetry: 'the next REVIEW: marker runs them again',
          humanInputRequired: true,
          nextActions: [`approve: mcc approve ${key} --override`, `request changes: mcc changes ${key} TEXT`],
        },
      ),
    });
  }

  private async inReview(key: string, verb: string): Promise<Result<Ticket>> {
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    if (found.value.status !== 'in_review')
      return fail('conflict', `${verb}: ${key} is ${found.value.status}, not in_review`);
    return found;
  }

  /** in_review -> done. Failed or unfinished checks need `override`, which the event records. */
  async approve(key: string, opts: { override?: boolean } = {}): Promise<Result<Ticket>> {
    const found = await this.inReview(key, 'approve');
    if (!found.ok) return found;
    const t = found.value;
    const unproven =
      t.reviewChecks === 'failed'
        ? 'failed'
        : t.reviewChecks === 'pending' || t.reviewChecks === 'running'
          ? 'not finished'
          : null;
    if (unproven && !opts.override)
      return fail(
        'conflict',
        `approve: the review checks of ${key} ${unproven === 'failed' ? 'failed' : 'have not finished'}; approve with override to accept anyway`,
      );
    const overrode = unproven !== null;
    return this.deps.store.setTicketStatus({
      key,
      version: t.version,
      from: ['in_review'],
      to: 'done',
      humanInputRequired: false,
      now: this.now(),
      event: this.event(
        key,
        null,
        'review.approve',
        overrode ? 'warning' : 'ok',
        overrode
          ? `approved although the review checks ${unproven}: the operator overrode them`
          : 'approved: in_review -> done',
        {
          ...(overrode ? { rootCause: `operator override: review checks ${unproven}` } : {}),
          artifacts: [`checks:${t.reviewChecks ?? 'none'}`, ...(overrode ? ['override:yes'] : [])],
        },
      ),
    });
  }

  /**
   * Send the ticket back with the operator's text: in_progress, and the text queued to its live runtime; when
   * that runtime is gone, a fresh one is picked up and the text follows its prompt. Delivered once, by the outbox.
   */
  async requestChanges(
    key: string,
    text: string,
  ): Promise<Result<{ ticket: Ticket; delivery: 'sent' | 'queued'; runtime: 'live' | 'fresh' }>> {
    if (text.trim() === '') return fail('invalid', 'request changes: the text is empty');
    const found = await this.inReview(key, 'request changes');
    if (!found.ok) return found;
    const t = found.value;
    const snapshot = await this.snapshot();
    if (snapshot.tmux.kind === 'unknown')
      return fail('probe_unknown', `request changes: cannot see tmux (${snapshot.tmux.reason}); nothing changed`);
    const live = this.liveRuntime(snapshot, key);
    const queue = () =>
      this.deps.store.queueMessage({
        key,
        body: text,
        kind: 'operator',
        now: this.now(),
        event: this.event(key, live?.id ?? null, 'message.queue', 'ok', `changes requested (${text.length} chars)`),
      });
    const event = (to: string) =>
      this.event(
        key,
        live?.id ?? null,
        'review.changes',
        'ok',
        `changes requested: in_review -> ${to}${live ? '' : '; its runtime is gone, a fresh one is started'}`,
        {
          artifacts: [`text:${sanitizeLine(text).slice(0, 200)}`],
        },
      );
    if (live) {
      const moved = await this.deps.store.setTicketStatus({
        key,
        version: t.version,
        from: ['in_review'],
        to: 'in_progress',
        humanInputRequired: false,
        reviewChecks: null,
        checkInAt: this.checkInFrom(t),
        now: this.now(),
        event: event('in_progress'),
      });
      if (!moved.ok) return moved;
      const queued = await queue();
      if (!queued.ok) return queued;
      const sent = await this.tryDeliverNow(key);
      return ok({ ticket: moved.value, delivery: sent ? 'sent' : 'queued', runtime: 'live' });
    }
    const open = snapshot.rows.runtimes.find((r) => r.ticketKey === key && r.status !== 'closed');
    if (open) {
      const retired = await this.retire(key, { runtimeId: open.id });
      if (!retired.ok) return retired;
    }
    const fresh = (await this.deps.store.getTicket(key)) ?? t;
    const moved = await this.deps.store.setTicketStatus({
      key,
      version: fresh.version,
      from: ['in_review'],
      to: 'todo',
      humanInputRequired: false,
      resetAttempts: true,
      reviewChecks: null,
      checkInAt: this.checkInFrom(t),
      now: this.now(),
      event: event('todo, picked up again'),
    });
    if (!moved.ok) return moved;
    const queued = await queue();
    if (!queued.ok) return queued;
    const picked = await this.pickup(key);
    // Another driver (mcc --auto --pickup) may have started it first: the text follows that runtime's prompt.
    if (!picked.ok && picked.code !== 'conflict') return picked;
    const now = (await this.deps.store.getTicket(key)) ?? moved.value;
    return ok({ ticket: now, delivery: 'queued', runtime: 'fresh' });
  }

  private checkInFrom(t: Ticket): number | null {
    const p = profileNamed(this.deps.config, t.profile);
    const ms = t.checkInSeconds !== null ? t.checkInSeconds * 1000 : (p?.checkInMs ?? null);
    return ms === null ? null : this.now() + ms;
  }

  /** Block a ticket under review (or at work, or waiting) with the operator's reason. */
  async block(key: string, reason: string): Promise<Result<Ticket>> {
    if (reason.trim() === '') return fail('invalid', 'block: the reason is empty');
    const found = await this.ticketOr404(key);
    if (!found.ok) return found;
    const t = found.value;
    if (t.status === 'done' || t.status === 'blocked') return fail('conflict', `block: ${key} is ${t.status}`);
    return this.deps.store.setTicketStatus({
      key,
      version: t.version,
      from: [t.status],
      to: 'blocked',
      blockedReason: reason.trim(),
      now: this.now(),
      event: this.event(
        key,
        null,
        'review.block',
        'warning',
        `${t.status} -> blocked: ${sanitizeLine(reason.trim())}`,
        {
          humanInputRequired: true,
          nextActions: [`unblock: mcc move ${key} todo`],
        },
      ),
    });
  }
}

/** The text a fresh runtime is given: key, title, body and how to report back. */
export function promptOf(t: Pick<Ticket, 'key' | 'title' | 'body'>): string {
  const body = t.body.trim() ? `\n\n${t.body.trim()}` : '';
  return `${t.key}: ${t.title}${body}\n\nWhen finished, print a line starting with REVIEW: (ready for review), DONE: (complete) or QUESTION: (you need a human).`;
}

function holderOf(t: Ticket, r: RuntimeSession | undefined): string {
  if (r)
    return `runtime ${r.id} (${r.tmuxSession}${r.pid ? `, pid ${r.pid}` : ''}, ${r.status}) on ${r.host} socket ${r.tmuxSocket}`;
  return t.workerPid ? `pid ${t.workerPid}` : t.status;
}

function holderText(t: Ticket, r: RuntimeSession | undefined): string {
  if (r) return `${t.key} is ${t.status}, held by ${holderOf(t, r)}`;
  return `${t.key} is ${t.status}, not todo: nothing to pick up`;
}
