import type { Clock } from './clock.port.js';
import {
  ageText,
  DEFAULT_COMMAND_EXPIRY_MS,
  encodeAction,
  MAX_SEND_CHARS,
  route,
  type Command,
  type CommandAction,
  type HostDirectory,
} from './commands.js';
import type { CommandService, CommandStore } from './command-worker.js';
import { fail, ok, type Result } from './result.js';
import { pinMismatch, type RuntimePin } from './runtime-pin.js';
import type { PickupOutcome } from './service.js';
import type { CommandFilter } from './store.port.js';

// The asking side of the command queue: the operator's actions (CLI, console keys) go through here. An action
// on a runtime of this host runs at once through MissionControl, as before; one on a runtime of another host
// becomes a command row for that host's daemon, and the caller gets `queued` to show as "queued on H". A host
// that is unreachable still gets the command (it runs if the host returns before it expires), and the answer
// says so at once.

/** An action taken here (the service's own result), or queued for another host's daemon. */
export type Routed<T> = { where: 'local'; value: T } | Queued;

export interface Queued {
  where: 'queued';
  command: Command;
  host: string;
  /** Said at once when the host may not run it soon (unreachable, never seen), else null. */
  warning: string | null;
  /** "retire MC-3 queued on hostB (command 7, expires in 10 min)" and the warning, for a status line. */
  text: string;
}

export interface CommandDeskDeps {
  service: CommandService;
  store: CommandStore;
  hosts: HostDirectory;
  clock: Clock;
  /** The host this process runs on. */
  host: string;
  /** Who asks, for the command row and its events (`operator:<user>`, `console:<user>`). */
  actor: string;
  /** How long a queued command waits for its host's daemon (default DEFAULT_COMMAND_EXPIRY_MS). */
  expiryMs?: number;
}

export class CommandDesk {
  constructor(private readonly deps: CommandDeskDeps) {
    const e = deps.expiryMs;
    if (e !== undefined && !(Number.isSafeInteger(e) && e > 0))
      throw new Error(`command expiry must be a whole number of ms > 0, got ${e}`);
  }

  /**
   * Retire the ticket's runtime here, or queue the retire for the host it runs on. Pinned to the runtime open
   * now, or to `pin.runtimeId` (the one the operator confirmed): a newer runtime is never retired in its place.
   */
  retire(key: string, pin: RuntimePin = {}): Promise<Result<Routed<string>>> {
    return this.onRuntime(key, 'retire', pin, (p) => this.deps.service.retire(key, p));
  }

  /** `retire` under the name a console key may use: the service's kill closes the runtime too. */
  kill(key: string, pin: RuntimePin = {}): Promise<Result<Routed<string>>> {
    return this.onRuntime(key, 'kill', pin, (p) => this.deps.service.retire(key, p));
  }

  /** Interrupt the ticket's runtime here, or queue it for the host it runs on (pinned as `retire`). */
  interrupt(key: string, pin: RuntimePin = {}): Promise<Result<Routed<string>>> {
    return this.onRuntime(key, 'interrupt', pin, (p) => this.deps.service.interrupt(key, p));
  }

  /** Send text to the ticket's runtime: here, or through the daemon of the host it runs on. */
  async send(key: string, text: string): Promise<Result<Routed<'sent' | 'queued'>>> {
    if (text.trim() === '') return fail('invalid', 'send: empty message');
    if (text.length > MAX_SEND_CHARS)
      return fail('invalid', `send: the text is longer than ${MAX_SEND_CHARS} characters`);
    const open = await this.openRuntime(key);
    if (!open.ok) return open;
    return this.routed(open.value?.host ?? this.deps.host, { kind: 'send', key, text }, null, () =>
      this.deps.service.send(key, text),
    );
  }

  /** Adopt here, or on `host` (default: where the ticket's open runtime is). */
  async adopt(key: string, opts: { host?: string } = {}): Promise<Result<Routed<string>>> {
    const open = await this.openRuntime(key);
    if (!open.ok) return open;
    const target = opts.host ?? open.value?.host ?? this.deps.host;
    return this.routed(target, { kind: 'adopt', key }, null, () => this.deps.service.adopt(key));
  }

  /**
   * Pick up here, or on `host` when asked (`--on`). Never sent elsewhere on its own: a ticket held by another
   * host's runtime is refused here, naming the holder, as a pickup always was.
   */
  async pickup(key: string, opts: { host?: string } = {}): Promise<Result<Routed<PickupOutcome>>> {
    const target = opts.host ?? this.deps.host;
    return this.routed(target, { kind: 'pickup', key }, null, () => this.deps.service.pickup(key));
  }

  /** Recent commands, newest first. */
  list(filter: CommandFilter): Promise<Command[]> {
    return this.deps.store.listCommands(filter);
  }

  /** One command (to follow a queued one to its result); `not_found` if there is none. */
  async get(id: number): Promise<Result<Command>> {
    const c = await this.deps.store.getCommand(id);
    return c ? ok(c) : fail('not_found', `no command ${id}`);
  }

  private async openRuntime(key: string): Promise<Result<{ id: number; host: string } | null>> {
    const detail = await this.deps.service.ticketDetail(key, { eventLimit: 0 });
    if (!detail.ok) return detail;
    const r = detail.value.runtimes.find((x) => x.status !== 'closed');
    return ok(r ? { id: r.id, host: r.host } : null);
  }

  private async onRuntime(
    key: string,
    kind: 'retire' | 'kill' | 'interrupt',
    pin: RuntimePin,
    local: (pin: RuntimePin) => Promise<Result<string>>,
  ): Promise<Result<Routed<string>>> {
    const open = await this.openRuntime(key);
    if (!open.ok) return open;
    // No open runtime: the service says so in its own words.
    if (open.value === null) return this.local(() => local(pin));
    const moved = pinMismatch(kind, key, open.value.id, pin, `nothing was done or queued`);
    if (moved) return moved;
    // Pinned here too: the runtime this routing looked at, not whatever the ticket has when it runs.
    const runtimeId = open.value.id;
    return this.routed(open.value.host, { kind, key, runtimeId }, runtimeId, () => local({ runtimeId }));
  }

  private async local<T>(run: () => Promise<Result<T>>): Promise<Result<Routed<T>>> {
    const res = await run();
    return res.ok ? ok({ where: 'local', value: res.value }) : res;
  }

  private async routed<T>(
    target: string,
    action: CommandAction,
    runtimeId: number | null,
    local: () => Promise<Result<T>>,
  ): Promise<Result<Routed<T>>> {
    const { host, hosts, store, clock, actor } = this.deps;
    const state = target === host ? ({ kind: 'alive', heartbeatAgeMs: 0 } as const) : await hosts.stateOf(target);
    // A host that never registered has no daemon to run a command: queueing would only wait out the expiry.
    if (state.kind === 'unknown')
      return fail(
        'probe_unknown',
        `${action.kind} ${action.key}: its runtime is on host ${target}, where no mcc daemon has ever registered ` +
          `(mcc hosts); nothing was done or queued: start mcc --auto on ${target}`,
      );
    const r = route(target, host, state);
    if (r.kind === 'local') return this.local(local);
    if (r.kind === 'refused') return fail(r.code, `${action.kind} ${action.key}: ${r.reason}`);
    const now = clock.now();
    const expiryMs = this.deps.expiryMs ?? DEFAULT_COMMAND_EXPIRY_MS;
    const { kind, ticketKey, args } = encodeAction(action);
    const queued = await store.enqueueCommand({
      targetHost: r.host,
      kind,
      ticketKey,
      args,
      actor,
      now,
      expiresAt: now + expiryMs,
      event: {
        ticketKey,
        runtimeId,
        actor,
        kind: 'command.queued',
        status: r.warning === null ? 'ok' : 'warning',
        summary: `${kind} ${ticketKey} queued on ${r.host} for its daemon${r.warning === null ? '' : `; ${r.warning}`}`,
        ...(r.warning === null ? {} : { safeRetry: `it expires unclaimed after ${ageText(expiryMs)}` }),
      },
    });
    if (!queued.ok) return queued;
    const text =
      `${kind} ${ticketKey} queued on ${r.host} (command ${queued.value.id}, expires in ${ageText(expiryMs)})` +
      (r.warning === null ? '' : `; ${r.warning}`);
    return ok({ where: 'queued', command: queued.value, host: r.host, warning: r.warning, text });
  }
}
