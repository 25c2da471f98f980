import type { Clock } from './clock.port.js';
import {
  decodeAction,
  describeCommand,
  judgeClaimer,
  OUTCOME_UNKNOWN,
  recoveryOf,
  type Command,
  type CommandAction,
  type CommandResult,
} from './commands.js';
import type { CommandWake } from './command-wake.port.js';
import { holderLabel, parseHolder } from './lease-holder.js';
import type { ProcessPort } from './process.port.js';
import type { Result } from './result.js';
import type { MissionControl } from './service.js';
import type { StorePort } from './store.port.js';
import type { EventInput } from './types.js';

// The target host's side of the command queue: a daemon claims its host's commands one at a time and runs each
// through the same MissionControl methods a key press calls (so a remote retire judges the pane exactly as a
// local one), then records the typed result. Commands of a dead claimer are recovered here (commands.ts says
// which are run again); queued commands past their expiry are expired by any host's worker, since the target
// host may be the one that is down.

/** The service methods a command runs. */
export type CommandService = Pick<
  MissionControl,
  'retire' | 'interrupt' | 'send' | 'adopt' | 'pickup' | 'ticketDetail'
>;

/** The store operations of the command queue. */
export type CommandStore = Pick<
  StorePort,
  | 'enqueueCommand'
  | 'claimCommand'
  | 'finishCommand'
  | 'recoverCommand'
  | 'expireCommands'
  | 'listCommands'
  | 'getCommand'
>;

export interface CommandWorkerDeps {
  service: CommandService;
  store: CommandStore;
  /** This host's processes: to prove a claimer of this host dead. */
  processes: ProcessPort;
  clock: Clock;
  /** The host this worker runs on; it claims only this host's commands. */
  host: string;
  /** This process as a lease holder (`MissionControl.processHolder(process.pid)`): a successor can prove it dead. */
  claimer: string;
  /** Who expires and recovers commands, for the log (`auto`). */
  actor: string;
  /** At most this many commands per drain, so one drain never starves the daemon's pass (default 50). */
  maxPerDrain?: number;
}

/** One command run (or recovered) by this worker. */
export interface CommandRun {
  command: Command;
  result: CommandResult;
  /** Run again after its first claimer died. */
  rerun: boolean;
  /** The result is in the store (false: recording failed; retried by the next drain). */
  recorded: boolean;
}

export interface DrainReport {
  expired: Command[];
  runs: CommandRun[];
}

function asResult<T>(res: Result<T>, summary: (v: T) => string): CommandResult {
  return res.ok ? { ok: true, summary: summary(res.value) } : { ok: false, code: res.code, message: res.message };
}

export class CommandWorker {
  private readonly inFlight = new Set<number>();
  /** Results the store did not take (a busy or failing store): recorded by the next drain, never run again. */
  private readonly unrecorded = new Map<number, { command: Command; result: CommandResult; rerun: boolean }>();
  private draining: Promise<DrainReport> | null = null;

  constructor(private readonly deps: CommandWorkerDeps) {}

  /**
   * Expire what is overdue, recover what a dead claimer left running, then claim and run this host's queued
   * commands oldest first. Not reentrant: a call during a drain shares it (a second drain would take the
   * first one's fresh claims for orphans).
   */
  drain(): Promise<DrainReport> {
    this.draining ??= this.drainOnce().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  /** Drain, then wait for a wake-up (or `pollMs`), until `signal` aborts; a failed drain backs off. */
  async run(
    wake: CommandWake,
    signal: AbortSignal,
    opts: { pollMs: number; onDrain?: (r: DrainReport) => void; onError?: (e: unknown, failures: number) => void },
  ): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        opts.onDrain?.(await this.drain());
        failures = 0;
      } catch (e) {
        failures++;
        opts.onError?.(e, failures);
      }
      const backoff = failures === 0 ? opts.pollMs : Math.min(opts.pollMs * 2 ** failures, 60_000);
      await wake.wait(signal, backoff);
    }
  }

  private now(): number {
    return this.deps.clock.now();
  }

  private async drainOnce(): Promise<DrainReport> {
    const { store, host, claimer, actor } = this.deps;
    const runs: CommandRun[] = [];
    for (const [id, u] of [...this.unrecorded]) {
      this.unrecorded.delete(id);
      runs.push(await this.record(u.command, u.result, u.rerun));
    }
    const expired = await store.expireCommands({ now: this.now(), actor });
    runs.push(...(await this.recover()));
    const max = this.deps.maxPerDrain ?? 50;
    for (let i = 0; i < max; i++) {
      const claimed = await store.claimCommand({ host, claimer, now: this.now() });
      // A busy store is no reason to stop the daemon: the next drain claims it.
      if (!claimed.ok || claimed.value === null) break;
      runs.push(await this.runClaimed(claimed.value, false, null));
    }
    return { expired, runs };
  }

  /** Running commands of this host whose claimer is gone (or this worker lost track of): run again or fail. */
  private async recover(): Promise<CommandRun[]> {
    const { store, host, claimer, processes } = this.deps;
    const running = await store.listCommands({ host, statuses: ['running'], limit: 1000 });
    const orphans = running.filter((c) => !this.inFlight.has(c.id) && !this.unrecorded.has(c.id));
    if (orphans.length === 0) return [];
    const pids = orphans.flatMap((c) => {
      const id = c.claimedBy === null ? null : parseHolder(c.claimedBy);
      return id !== null && id.host === host ? [id.pid] : [];
    });
    const [bootId, seen] = await Promise.all([processes.bootId(), processes.inspect(pids)]);
    const out: CommandRun[] = [];
    for (const c of orphans.sort((a, b) => a.id - b.id)) {
      const from = c.claimedBy ?? '';
      // Our own claim that nothing here is running: this process lost it (an exception before the result).
      const verdict =
        from === claimer
          ? { kind: 'gone' as const, why: 'this daemon lost track of it' }
          : judgeClaimer(from, { host, bootId }, seen.get(parseHolder(from)?.pid ?? 0));
      if (verdict.kind === 'wait') continue;
      const decision = recoveryOf(c, `${holderLabel(from)}: ${verdict.why}`);
      if (decision.kind === 'rerun') {
        const taken = await store.recoverCommand({
          id: c.id,
          deadClaimer: from,
          to: { rerunBy: claimer },
          now: this.now(),
          event: this.event(
            c,
            'command.recovered',
            'warning',
            `${describeCommand(c)} claimed again by ${holderLabel(claimer)}: its claimer ${holderLabel(from)} is gone (${verdict.why}); a ${c.kind} is safe to run again`,
          ),
        });
        if (taken.ok) out.push(await this.runClaimed(taken.value, true, c.claimedAt));
        continue;
      }
      const failed = await store.recoverCommand({
        id: c.id,
        deadClaimer: from,
        to: { failed: decision.result },
        now: this.now(),
        event: this.event(c, 'command.failed', 'error', `${describeCommand(c)} failed: ${OUTCOME_UNKNOWN}`, {
          rootCause: decision.result.ok ? null : decision.result.message,
          humanInputRequired: true,
          nextActions: c.ticketKey ? [`mcc show ${c.ticketKey}`] : [],
        }),
      });
      if (failed.ok) out.push({ command: failed.value, result: decision.result, rerun: false, recorded: true });
    }
    return out;
  }

  private async runClaimed(c: Command, rerun: boolean, firstClaimedAt: number | null): Promise<CommandRun> {
    this.inFlight.add(c.id);
    try {
      let result: CommandResult;
      try {
        result = await this.execute(c, rerun, firstClaimedAt);
      } catch (e) {
        // The service threw (a bug, or a port that broke mid-action): what it did before is not known.
        result = {
          ok: false,
          code: 'outcome_unknown',
          message: `outcome unknown: running it threw: ${(e as Error).message}`,
        };
      }
      return await this.record(c, result, rerun);
    } finally {
      this.inFlight.delete(c.id);
    }
  }

  private async record(c: Command, result: CommandResult, rerun: boolean): Promise<CommandRun> {
    const summary = result.ok ? `done: ${result.summary}` : `failed (${result.code}): ${result.message}`;
    let recorded = false;
    let command = c;
    try {
      const fin = await this.deps.store.finishCommand({
        id: c.id,
        claimer: this.deps.claimer,
        status: result.ok ? 'done' : 'failed',
        result,
        now: this.now(),
        // The operator who asked is the actor of the result, as of a key press; the service's own events of
        // the action name this daemon.
        event: this.event(
          c,
          result.ok ? 'command.done' : 'command.failed',
          result.ok ? 'ok' : 'error',
          `${describeCommand(c)} ${summary}`,
          result.ok ? {} : { rootCause: result.message },
          c.actor,
        ),
      });
      if (fin.ok) {
        command = fin.value;
        recorded = true;
      } else if (fin.code !== 'conflict') {
        // A conflict means another worker settled it (it judged this one dead): its record stands.
        this.unrecorded.set(c.id, { command: c, result, rerun });
      }
    } catch {
      this.unrecorded.set(c.id, { command: c, result, rerun });
    }
    return { command, result, rerun, recorded };
  }

  private async execute(c: Command, rerun: boolean, firstClaimedAt: number | null): Promise<CommandResult> {
    const { service } = this.deps;
    const decoded = decodeAction(c);
    if (!decoded.ok) return { ok: false, code: decoded.code, message: decoded.message };
    const action = decoded.value;
    // The service checks the pin again as it acts: `pinned` gives the clear answers, the service closes the race.
    const pin = 'runtimeId' in action ? { runtimeId: action.runtimeId } : {};
    switch (action.kind) {
      case 'retire':
      case 'kill':
        return (await this.pinned(action)) ?? asResult(await service.retire(action.key, pin), (s) => s);
      case 'interrupt':
        return (await this.pinned(action)) ?? asResult(await service.interrupt(action.key, pin), (s) => s);
      case 'send':
        return asResult(await service.send(action.key, action.text), (how) =>
          how === 'sent' ? `sent to ${action.key}` : `queued for ${action.key}: delivered when its runtime is ready`,
        );
      case 'adopt':
        return asResult(await service.adopt(action.key), (s) => s);
      case 'pickup': {
        if (rerun && firstClaimedAt !== null) {
          const first = await this.pickedUpSince(action.key, firstClaimedAt);
          if (first) return first;
        }
        return asResult(
          await service.pickup(action.key),
          (p) =>
            `${p.how} ${p.runtime.tmuxSession} (pid ${p.runtime.pid ?? '?'}, ${p.runtime.status}); prompt ${p.prompt}`,
        );
      }
      default: {
        const never: never = action;
        throw new Error(`unhandled command action ${String(never)}`);
      }
    }
  }

  /**
   * A runtime action acts on the runtime it names or not at all: the ticket may have moved on to a new runtime
   * since the command was queued. null when that runtime is open on this host (go ahead), else the result.
   */
  private async pinned(action: Extract<CommandAction, { runtimeId: number }>): Promise<CommandResult | null> {
    const detail = await this.deps.service.ticketDetail(action.key, { eventLimit: 0 });
    if (!detail.ok) return { ok: false, code: detail.code, message: detail.message };
    const r = detail.value.runtimes.find((x) => x.id === action.runtimeId);
    const what = `runtime ${action.runtimeId} of ${action.key}`;
    if (r === undefined)
      return { ok: false, code: 'not_found', message: `${action.key} has no runtime ${action.runtimeId}` };
    if (r.host !== this.deps.host)
      return {
        ok: false,
        code: 'invalid',
        message: `${what} lives on ${r.host}, not ${this.deps.host}; nothing was done`,
      };
    if (r.status !== 'closed') return null;
    const why = r.closedReason ? ` (${r.closedReason})` : '';
    return action.kind === 'interrupt'
      ? { ok: false, code: 'not_found', message: `${what} is closed${why}; nothing was interrupted` }
      : { ok: true, summary: `${what} was already closed${why}; nothing left to retire` };
  }

  /** A re-run pickup whose first run already started the runtime: that runtime is its result. */
  private async pickedUpSince(key: string, since: number): Promise<CommandResult | null> {
    const detail = await this.deps.service.ticketDetail(key, { eventLimit: 0 });
    if (!detail.ok) return null;
    const r = detail.value.runtimes.find(
      (x) => x.status !== 'closed' && x.host === this.deps.host && x.createdAt >= since,
    );
    return r
      ? { ok: true, summary: `picked up by its first run before that daemon died: ${r.tmuxSession} (runtime ${r.id})` }
      : null;
  }

  private event(
    c: Command,
    kind: string,
    status: EventInput['status'],
    summary: string,
    extra: Partial<EventInput> = {},
    actor = this.deps.actor,
  ): EventInput {
    return {
      ticketKey: c.ticketKey,
      runtimeId: null,
      actor,
      kind,
      status,
      summary,
      ...extra,
    };
  }
}
