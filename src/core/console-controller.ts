import { ChecksRunner } from './checks-runner.js';
import { buildConsoleState, type ConsoleState, type ObservationState } from './console-model.js';
import type { Finding, Snapshot } from './findings.js';
import { livenessOf, panesBySession } from './liveness.js';
import { Poller, realTimers, type TimerPort } from './poller.js';
import type { MissionControl, PassMode } from './service.js';
import type { ActiveRows, TicketOverview } from './store.port.js';
import type { RuntimeSession, Ticket } from './types.js';

// Drives the console's data: one poller runs a pass (routine work only, or a dry run when a daemon holds
// the lease or the console is read-only), reloads the grid when the store changed, and publishes a
// ConsoleState. It has no Ink or React in it: the UI only subscribes.

/** The daemon lease's name before hosts had ids, and the prefix of every host's: `auto-daemon:<host>`. */
export const DAEMON_LEASE = 'auto-daemon';

/** The lease the daemon of `host` holds: one daemon per host. */
export function daemonLeaseName(host: string): string {
  return `${DAEMON_LEASE}:${host}`;
}

/** Whether a lease row is a daemon's (any host's, or a daemon of an mcc from before hosts had ids). */
export function isDaemonLease(name: string): boolean {
  return name === DAEMON_LEASE || name.startsWith(`${DAEMON_LEASE}:`);
}

export interface ConsoleControllerOptions {
  intervalMs: number;
  readonly: boolean;
  timers?: TimerPort;
  signal?: AbortSignal;
}

export class ConsoleController {
  private listeners = new Set<(s: ConsoleState) => void>();
  private state: ConsoleState | null = null;
  private overview: TicketOverview[] = [];
  private tickets = new Map<string, Ticket>();
  private rows: ActiveRows = { tickets: [], runtimes: [], messages: [] };
  private fingerprint = '';
  private token = -1;
  private snapshot: Snapshot | null = null;
  private findings: Finding[] = [];
  private lastOkAt: number | null = null;
  private lastError: string | null = null;
  private readonly poller: Poller;
  private inflight: Promise<void> | null = null;
  /** Full builds of the grid's rows so far (each one walks every ticket): what an idle console must not repeat. */
  builds = 0;
  /** Review checks run beside the passes while this console drives them (no daemon, not read-only). */
  private readonly checks: ChecksRunner;

  constructor(
    readonly service: MissionControl,
    private readonly opts: ConsoleControllerOptions,
  ) {
    this.checks = new ChecksRunner(service);
    this.poller = new Poller(() => this.tick(), {
      intervalMs: opts.intervalMs,
      clock: service.clock,
      ...(opts.timers ? { timers: opts.timers } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(service.tmuxHints ? { hints: service.tmuxHints } : {}),
      onError: (e) => {
        this.lastError = e instanceof Error ? e.message : String(e);
        this.publish();
      },
    });
  }

  start(): void {
    this.poller.start();
  }

  /** Stop polling; resolves when a refresh in flight has finished, so the store can be closed after it. */
  async stop(): Promise<void> {
    await this.poller.stop();
    await this.inflight;
    await this.checks.stop();
  }

  /** Refresh now, e.g. after a key's action (dropped while a refresh runs). */
  poke(): void {
    this.poller.poke();
  }

  current(): ConsoleState | null {
    return this.state;
  }

  subscribe(fn: (s: ConsoleState) => void): () => void {
    this.listeners.add(fn);
    if (this.state) fn(this.state);
    return () => this.listeners.delete(fn);
  }

  /**
   * One poller tick: start a refresh, but give the poller back after one interval even if tmux or the store
   * hangs, so the header turns STALE instead of freezing on "observed 0s ago". Refreshes never overlap.
   */
  private async tick(): Promise<void> {
    if (this.inflight) {
      this.publishClock(this.state?.lease ?? null);
      return;
    }
    const run = this.refresh().finally(() => {
      this.inflight = null;
    });
    this.inflight = run;
    let timer: unknown = null;
    const timers = this.opts.timers ?? realTimers;
    const elapsed = new Promise<void>((resolve) => {
      timer = timers.setTimeout(resolve, this.opts.intervalMs);
    });
    await Promise.race([run, elapsed]);
    timers.clearTimeout(timer);
  }

  /**
   * One refresh: a pass, then the grid's rows. Tickets are reloaded only where their version changed (a
   * 50,000-ticket store costs one key/version scan, not a full reload), runtimes and queue counts come from
   * the pass's own rows, and the grid is rebuilt only when something it shows changed: a ticket, an open
   * runtime's shown fields or liveness, a queue count, a finding, the observation or the daemon. Otherwise the
   * built rows stand and only the clock moves on (the header's observation age, the grid's ages), unless the
   * observation's state moved with it: a pass that overran turned it stale, and this one brought it back.
   */
  async refresh(): Promise<void> {
    const { service } = this;
    const clock = service.clock;
    const lease = await service.readLease(daemonLeaseName(service.host));
    const daemonActive = lease !== null && lease.expiresAt > clock.now();
    const mode: PassMode = this.opts.readonly || daemonActive ? 'dry-run' : 'routine';
    let rows: ActiveRows | null = null;
    try {
      const report = await this.service.reconcile(mode);
      this.snapshot = report.snapshot;
      this.findings = report.findings;
      if (mode === 'routine') await this.checks.tick();
      // The pass's rows predate its own writes: reread the few active rows when it wrote anything.
      rows = report.applied.some((a) => a.outcome === 'applied') ? await service.activeRows() : report.snapshot.rows;
      if (report.snapshot.tmux.kind === 'ok') {
        this.lastOkAt = report.snapshot.at;
        this.lastError = null;
      } else {
        this.lastError = report.snapshot.tmux.reason;
      }
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
    }
    const token = await service.changeToken();
    let ticketsChanged = false;
    if (token !== this.token) {
      ticketsChanged = await this.syncTickets();
      this.token = token;
    }
    if (rows) this.rows = rows;
    const now = clock.now();
    const fingerprint = [
      this.lastError ?? '',
      lease && lease.expiresAt > now ? lease.holder : '',
      this.rowsKey(),
      ...this.findings.map((f) => `${f.ticketKey}|${f.drift}|${f.summary}`),
    ].join('\n');
    if (!ticketsChanged && fingerprint === this.fingerprint && this.state !== null) {
      this.publishClock(lease);
      return;
    }
    this.fingerprint = fingerprint;
    this.overview = this.buildOverview();
    this.publish(lease);
  }

  /**
   * What the grid shows of the store's runtime and message rows: each open runtime's shown fields and its
   * liveness, and the queue. A runtime row rewritten only to record that it was seen alive leaves it equal.
   */
  private rowsKey(): string {
    const snap = this.snapshot;
    const panes = snap ? panesBySession(snap.tmux) : null;
    const parts: string[] = [];
    for (const r of this.rows.runtimes) {
      if (r.status === 'closed') continue;
      const live = snap && panes ? livenessOf(r, snap.tmux, panes, snap.processes, snap.where).kind : '';
      parts.push(`${r.ticketKey}|${r.id}|${r.status}|${r.pid}|${r.createdAt}|${live}`);
    }
    for (const m of this.rows.messages) parts.push(m.ticketKey);
    return parts.join('\n');
  }

  /** Bring the ticket cache up to date by version: fetch changed and new tickets, drop deleted ones. */
  private async syncTickets(): Promise<boolean> {
    const versions = await this.service.ticketVersions();
    const stale: string[] = [];
    let dropped = false;
    for (const [key, version] of versions) if (this.tickets.get(key)?.version !== version) stale.push(key);
    for (const key of this.tickets.keys()) {
      if (versions.has(key)) continue;
      this.tickets.delete(key);
      dropped = true;
    }
    if (stale.length > 0) for (const t of await this.service.getTickets(stale)) this.tickets.set(t.key, t);
    return dropped || stale.length > 0;
  }

  private buildOverview(): TicketOverview[] {
    const open = new Map<string, RuntimeSession>();
    for (const r of this.rows.runtimes) if (r.status !== 'closed') open.set(r.ticketKey, r);
    const pending = new Map<string, number>();
    for (const m of this.rows.messages) pending.set(m.ticketKey, (pending.get(m.ticketKey) ?? 0) + 1);
    const out: TicketOverview[] = [];
    for (const ticket of this.tickets.values()) {
      out.push({ ticket, runtime: open.get(ticket.key) ?? null, pendingMessages: pending.get(ticket.key) ?? 0 });
    }
    return out;
  }

  private observation(now: number): ObservationState {
    if (this.lastError !== null) return { state: 'unknown', reason: this.lastError, lastOkAt: this.lastOkAt };
    if (this.lastOkAt === null) return { state: 'stale', reason: 'no observation yet', lastOkAt: null };
    if (now - this.lastOkAt > Math.max(3 * this.opts.intervalMs, 5000)) {
      return {
        state: 'stale',
        reason: `last observation ${Math.round((now - this.lastOkAt) / 1000)}s ago`,
        lastOkAt: this.lastOkAt,
      };
    }
    return { state: 'ok', reason: null, lastOkAt: this.lastOkAt };
  }

  private publish(lease = this.state?.lease ?? null): void {
    const now = this.service.clock.now();
    this.state = buildConsoleState(this.overview, this.snapshot, this.findings, this.observation(now), lease, now);
    this.builds++;
    for (const fn of this.listeners) fn(this.state);
  }

  /**
   * The built rows with the clock moved on: a new state (so ages and the observation's age can move) that
   * shares the rows, counts and findings of the last build, which a subscriber can compare by identity.
   */
  private publishClock(lease: ConsoleState['lease']): void {
    const now = this.service.clock.now();
    const observation = this.observation(now);
    // Rows are built for an observation state (an unknown or stale one shows runtimes as `?`).
    if (this.state === null || observation.state !== this.state.observation.state) {
      this.publish(lease);
      return;
    }
    // The hosts' heartbeats move every pass without changing a row: the header shows the newest.
    const hosts = this.snapshot?.hosts ?? this.state.hosts ?? [];
    const hostsAt = this.snapshot?.at ?? this.state.hostsAt ?? now;
    this.state = { ...this.state, at: now, observation, lease, hosts, hostsAt };
    for (const fn of this.listeners) fn(this.state);
  }
}
