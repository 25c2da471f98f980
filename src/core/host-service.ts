import { applyAction } from './apply.js';
import { noFailpoints } from './failpoints.js';
import type { Finding, Snapshot } from './findings.js';
import {
  HOST_LOST,
  hostReachability,
  hostViews,
  isHostOf,
  remoteAttachArgv,
  type Host,
  type HostView,
} from './hosts.js';
import { livenessOf, panesBySession } from './liveness.js';
import { fail, ok, type Result } from './result.js';
import type { ForgetHostOutcome } from './store.port.js';
import type { ServiceDeps } from './service.js';
import { sessionName, type EventInput, type RuntimeSession } from './types.js';

// The host registry as the daemon, `mcc hosts` and `mcc host forget` use it: heartbeats with fencing, and the
// retirement of what a forgotten host left running. (Commands for runtimes of another host, queued for that
// host's daemon, are a later step: see `remoteOnly`.)

/** How many host_lost rows a returning daemon looks at: far more than one host ever runs at once. */
const FENCED_SCAN = 1000;

export interface HeartbeatOutcome {
  host: Host;
  /** Sessions retired because their rows were closed `host_lost` while this host was forgotten. */
  retired: string[];
  /** Set when this heartbeat found the host fenced (forgotten) and moved to the new epoch. */
  fencedFrom?: number;
  /** What the fencing did, in words (also logged as a `host.fenced` event). */
  fencedText?: string;
}

export interface HeartbeatOptions {
  version: string;
  labels?: readonly string[];
  sshTarget?: string | null;
}

/** What the host registry needs of the one core service: a fresh observation. */
export interface Observer {
  snapshot(): Promise<Snapshot>;
}

export class HostService {
  /** The epoch this process registered with; null before its first heartbeat. */
  private epoch: number | null = null;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly observer: Observer,
  ) {}

  private now = (): number => this.deps.clock.now();

  get id(): string {
    return this.deps.host;
  }

  /** Every known host with its reachability and open runtimes. */
  async list(): Promise<HostView[]> {
    const [hosts, rows] = await Promise.all([this.deps.store.listHosts(), this.deps.store.loadActive([])]);
    return hostViews(hosts, rows.runtimes, this.now(), this.deps.config.hostTtlSeconds);
  }

  /**
   * Register (first call) or renew this host's heartbeat. A host found forgotten, at registration or by a
   * refused heartbeat (fenced: its epoch moved on), first retires every live session whose row was closed
   * `host_lost`, then registers with the new epoch; `probe_unknown` (nothing registered) while tmux cannot be
   * seen, so a pass never adopts a fenced session it could not tell apart.
   */
  async heartbeat(opts: HeartbeatOptions): Promise<Result<HeartbeatOutcome>> {
    const first = this.epoch === null;
    let retired: string[] = [];
    let fencedFrom: number | undefined;
    if (this.epoch === null) {
      const row = await this.row();
      if (row !== null && row.forgottenAt !== null) {
        const r = await this.retireFenced(row.epoch);
        if (!r.ok) return r;
        retired = r.value;
        fencedFrom = row.epoch - 1;
      }
      this.epoch = row?.epoch ?? 1;
    }
    let res = await this.beat(opts, first);
    if (!res.ok && res.code === 'conflict') {
      const row = await this.row();
      if (row !== null && row.epoch > this.epoch) {
        const r = await this.retireFenced(row.epoch);
        if (!r.ok) return r;
        retired = r.value;
        fencedFrom = this.epoch;
        this.epoch = row.epoch;
        res = await this.beat(opts, false);
      }
    }
    if (!res.ok) return res;
    if (fencedFrom === undefined) return ok({ host: res.value, retired });
    const fencedText =
      `host ${this.deps.host} was forgotten (epoch ${fencedFrom} -> ${res.value.epoch}); retired ` +
      `${retired.length} fenced session${retired.length === 1 ? '' : 's'}` +
      (retired.length > 0 ? ` (${retired.join(', ')})` : '') +
      '; registered again';
    await this.deps.store.appendEvent(
      {
        ticketKey: null,
        runtimeId: null,
        actor: this.deps.actor,
        kind: 'host.fenced',
        status: 'warning',
        summary: fencedText,
        rootCause: `host ${this.deps.host} was forgotten while its daemon was away`,
        artifacts: retired.map((s) => `session:${s}`),
      },
      this.now(),
    );
    return ok({ host: res.value, retired, fencedFrom, fencedText });
  }

  private beat(opts: HeartbeatOptions, first: boolean): Promise<Result<Host>> {
    const { store, config, processes } = this.deps;
    const legacy = first ? this.deps.hostAliases?.[0] : undefined;
    return processes.bootId().then((bootId) =>
      store.heartbeatHost({
        id: this.deps.host,
        bootId,
        version: opts.version,
        tmuxSocket: config.socket,
        ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
        ...(opts.sshTarget !== undefined ? { sshTarget: opts.sshTarget } : {}),
        epoch: this.epoch ?? 1,
        ...(legacy !== undefined ? { adoptLegacyHost: legacy } : {}),
        now: this.now(),
      }),
    );
  }

  private async row(): Promise<Host | null> {
    return (await this.deps.store.listHosts()).find((h) => h.id === this.deps.host) ?? null;
  }

  /**
   * Kill every live session of this host whose runtime row was closed `host_lost`, through the service's
   * kill path, PID-gated: the row's recorded agent (pid, start time, boot) must still run in its recorded pane;
   * a row that never recorded one is matched only by a session created before the row was closed. A session
   * an open row points at again (the operator adopted it) is left alone. Never resumed, never adopted.
   */
  async retireFenced(epoch: number): Promise<Result<string[]>> {
    const lost = await this.deps.store.hostLostRuntimes({ host: this.deps.host, limit: FENCED_SCAN });
    if (lost.length === 0) return ok([]);
    const snap = await this.observer.snapshot();
    if (snap.tmux.kind !== 'ok')
      return fail(
        'probe_unknown',
        `host ${this.deps.host} was forgotten, but tmux cannot be seen: ${snap.tmux.reason}`,
      );
    const panes = panesBySession(snap.tmux);
    const owned = new Set(snap.rows.runtimes.filter((r) => r.status !== 'closed').map((r) => r.paneId));
    const retired: string[] = [];
    const done = new Set<string>();
    for (const r of lost) {
      if (done.has(r.tmuxSession)) continue;
      const live = livenessOf(r, snap.tmux, panes, snap.processes, snap.where);
      if (live.kind !== 'live' && live.kind !== 'unrecorded') continue;
      if (owned.has(live.pane.paneId)) continue;
      if (live.kind === 'unrecorded' && (r.closedAt === null || live.pane.sessionCreated > r.closedAt)) continue;
      done.add(r.tmuxSession);
      const res = await applyAction(
        {
          store: this.deps.store,
          tmux: this.deps.tmux,
          config: this.deps.config,
          host: this.deps.host,
          failpoints: this.deps.failpoints ?? noFailpoints,
          now: this.now,
          actor: this.deps.actor,
        },
        fencedFinding(r, this.deps.host, epoch, live.pane.panePid),
        snap,
      );
      if (!res.ok) return res;
      retired.push(r.tmuxSession);
    }
    return ok(retired);
  }

  /**
   * The argv that attaches this terminal to a ticket's session: this host's tmux for a runtime of this host (or
   * none open), else `ssh` to the runtime's host, whose row names the target. This is the one operator action
   * on another host's runtime that needs no command queue: the operator's own terminal does it.
   */
  async attachArgv(key: string): Promise<Result<string[]>> {
    const rows = await this.deps.store.loadActive([key]);
    const r = rows.runtimes.find((x) => x.ticketKey === key && x.status !== 'closed');
    const here = { host: this.deps.host, aliases: this.deps.hostAliases ?? [] };
    if (r === undefined || isHostOf(r, here)) return ok(this.deps.tmux.attachArgv(r?.tmuxSession ?? sessionName(key)));
    const host = (await this.deps.store.listHosts()).find((h) => h.id === r.host);
    if (!host)
      return fail(
        'not_found',
        `attach: ${r.tmuxSession} runs on host ${r.host}, which has never registered (no daemon ran there); ` +
          'run mcc --auto --ssh-target USER@HOST on it',
      );
    const argv = remoteAttachArgv(host, r);
    return argv.ok ? ok(argv.argv) : fail('invalid', argv.message);
  }

  /**
   * Fence a host (`mcc host forget`): refused (`conflict`, exit 3) while its daemon is alive, i.e. its
   * heartbeat is within hostTtlSeconds; `invalid` (exit 2) naming the known hosts for an unknown one.
   */
  async forget(id: string): Promise<Result<ForgetHostOutcome>> {
    const hosts = await this.deps.store.listHosts();
    const host = hosts.find((h) => h.id === id);
    if (!host) {
      const known = hosts.map((h) => h.id);
      return fail('invalid', `no host ${id}; known hosts: ${known.length === 0 ? '(none)' : known.join(', ')}`);
    }
    const now = this.now();
    const reach = hostReachability(host, now, this.deps.config.hostTtlSeconds);
    if (reach.kind === 'reachable')
      return fail(
        'conflict',
        `host ${id} is alive: its daemon beat ${Math.round(reach.ageMs / 1000)}s ago (within hostTtlSeconds ` +
          `${this.deps.config.hostTtlSeconds}); stop it first, or wait until it is UNREACHABLE`,
      );
    const event: EventInput = {
      ticketKey: null,
      runtimeId: null,
      actor: this.deps.actor,
      kind: 'host.forget',
      status: 'warning',
      summary: `host ${id} forgotten (fenced at epoch ${host.epoch + 1})`,
      rootCause:
        reach.kind === 'unreachable'
          ? `its last heartbeat was ${Math.round(reach.ageMs / 1000)}s ago`
          : 'it was already forgotten',
      safeRetry: `if host ${id} comes back, its daemon retires the runtimes closed host_lost instead of resuming them`,
    };
    return this.deps.store.forgetHost({ id, now, actor: this.deps.actor, event });
  }
}

function fencedFinding(r: RuntimeSession, host: string, epoch: number, pid: number): Finding {
  return {
    ticketKey: r.ticketKey,
    runtimeId: r.id,
    drift: null,
    severity: 'warning',
    summary:
      `fenced: retired ${r.tmuxSession} (pid ${pid}) of runtime ${r.id}, closed ${HOST_LOST} when host ${host} ` +
      `was forgotten (epoch ${epoch}); not resumed`,
    evidence: [],
    action: { type: 'kill_orphan', session: r.tmuxSession, key: r.ticketKey },
  };
}
