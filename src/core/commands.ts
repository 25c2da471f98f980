import { judgeHolder, parseHolder, type HolderVerdict } from './lease-holder.js';
import type { ProcessObservation } from './process.port.js';
import { fail, ok, type ErrorCode, type Result } from './result.js';
import { sanitizeLine } from './sanitize.js';
import { TICKET_KEY_RE } from './types.js';

// The command queue (issue 13): an operator action on a runtime of another host is a row that the target
// host's daemon claims and runs through the same core service. Only host H observes H's tmux and /proc, so
// only H may act there; every other host asks. This module is the pure part: kinds, arguments, routing, and
// what to do with a command whose claimer died.

/** Actions a command can carry. `kill` is `retire` by another name: the service's only kill closes the row too. */
export const COMMAND_KINDS = ['retire', 'kill', 'interrupt', 'send', 'adopt', 'pickup'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export const COMMAND_STATUSES = ['queued', 'running', 'done', 'failed', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** One row of the `commands` table; `args` and `result` are kept as the stored JSON text (rows may be hand-edited). */
export interface Command {
  id: number;
  targetHost: string;
  kind: CommandKind;
  ticketKey: string | null;
  args: string;
  status: CommandStatus;
  result: string | null;
  actor: string;
  createdAt: number;
  expiresAt: number;
  claimedAt: number | null;
  claimedBy: string | null;
  finishedAt: number | null;
  version: number;
}

/** What a command asks, with its arguments checked. Runtime actions name the runtime they were meant for. */
export type CommandAction =
  | { kind: 'retire' | 'kill' | 'interrupt'; key: string; runtimeId: number }
  | { kind: 'send'; key: string; text: string }
  | { kind: 'adopt' | 'pickup'; key: string };

/** Codes a command's failure may carry beyond the service's own. */
export type CommandFailureCode = ErrorCode | 'outcome_unknown' | 'expired';

/** The stored result of a finished command. */
export type CommandResult = { ok: true; summary: string } | { ok: false; code: CommandFailureCode; message: string };

/** Longest text a `send` command carries (the same order as a pasted message, far below a hostile megabyte). */
export const MAX_SEND_CHARS = 64 * 1024;

/** The default time a queued command waits for its host's daemon before it expires. */
export const DEFAULT_COMMAND_EXPIRY_MS = 10 * 60_000;

/** The kind, ticket and JSON arguments a command row stores for `action`. */
export function encodeAction(action: CommandAction): {
  kind: CommandKind;
  ticketKey: string;
  args: Record<string, unknown>;
} {
  switch (action.kind) {
    case 'retire':
    case 'kill':
    case 'interrupt':
      return { kind: action.kind, ticketKey: action.key, args: { runtimeId: action.runtimeId } };
    case 'send':
      return { kind: action.kind, ticketKey: action.key, args: { text: action.text } };
    case 'adopt':
    case 'pickup':
      return { kind: action.kind, ticketKey: action.key, args: {} };
    default: {
      const never: never = action;
      throw new Error(`unhandled command action ${String(never)}`);
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The action a stored command asks for; `invalid` naming the problem for a row that cannot be run. */
export function decodeAction(c: Pick<Command, 'id' | 'kind' | 'ticketKey' | 'args'>): Result<CommandAction> {
  const bad = (why: string) => fail('invalid', `command ${c.id} (${c.kind}): ${why}; not run`);
  if (c.ticketKey === null || !TICKET_KEY_RE.test(c.ticketKey)) return bad('it names no ticket');
  const key = c.ticketKey;
  let args: unknown;
  try {
    args = JSON.parse(c.args);
  } catch {
    return bad('its arguments are not JSON');
  }
  if (!isRecord(args)) return bad('its arguments are not a JSON object');
  switch (c.kind) {
    case 'retire':
    case 'kill':
    case 'interrupt': {
      const id = args['runtimeId'];
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return bad('runtimeId is not a runtime id');
      return ok({ kind: c.kind, key, runtimeId: id });
    }
    case 'send': {
      const text = args['text'];
      if (typeof text !== 'string' || text.trim() === '') return bad('text is missing or empty');
      if (text.length > MAX_SEND_CHARS) return bad(`text is longer than ${MAX_SEND_CHARS} characters`);
      return ok({ kind: 'send', key, text });
    }
    case 'adopt':
    case 'pickup':
      return ok({ kind: c.kind, key });
    default: {
      const never: never = c.kind;
      return bad(`unknown kind ${String(never)}`);
    }
  }
}

/** The stored result of a command, or null while it has none; a hand-edited result reads as a failure. */
export function decodeResult(text: string | null): CommandResult | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && v['ok'] === true && typeof v['summary'] === 'string') return { ok: true, summary: v['summary'] };
    if (isRecord(v) && v['ok'] === false && typeof v['code'] === 'string' && typeof v['message'] === 'string')
      return { ok: false, code: v['code'] as CommandFailureCode, message: v['message'] };
  } catch {
    // Not JSON: shown as it is, below.
  }
  return { ok: false, code: 'invalid', message: `unreadable result: ${text}` };
}

/** What a host is known to be, by the host registry's heartbeats. */
export type HostState =
  | { kind: 'alive'; heartbeatAgeMs: number }
  /** Its heartbeat is older than the hosts' TTL: nothing of it is judged dead, but nothing of it is seen. */
  | { kind: 'unreachable'; heartbeatAgeMs: number }
  /** No heartbeat on record (no daemon of this mcc ever ran there). */
  | { kind: 'unknown' }
  /** `mcc host forget` fenced it: its runtimes were closed as host_lost. */
  | { kind: 'forgotten' };

/** The host registry, as the command queue needs it. */
export interface HostDirectory {
  stateOf(host: string): Promise<HostState>;
}

/** A directory that knows no host: every other host is `unknown` (before the host registry is wired in). */
export const noHostRegistry: HostDirectory = { stateOf: async () => ({ kind: 'unknown' }) };

/** Where an action runs: here, as a command for another host's daemon, or nowhere (and why). */
export type Route =
  | { kind: 'local' }
  /** `warning`: said at once when the command may wait (host unreachable or never seen), else null. */
  | { kind: 'remote'; host: string; warning: string | null }
  | { kind: 'refused'; code: ErrorCode; reason: string };

/** "42s", "5 min", "3 h", "2 d": how long ago a heartbeat was, as a header shows it. */
export function ageText(msAgo: number): string {
  const s = Math.max(0, Math.floor(msAgo / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

const HOST_RE = /^[^\s\p{Cc}]{1,255}$/u;

/** Decide where an action on a runtime of `target` runs, seen from `local` (pure). */
export function route(target: string, local: string, state: HostState): Route {
  if (!HOST_RE.test(target))
    return { kind: 'refused', code: 'invalid', reason: `"${sanitizeLine(target)}" is not a host name` };
  if (target === local) return { kind: 'local' };
  switch (state.kind) {
    case 'alive':
      return { kind: 'remote', host: target, warning: null };
    case 'unreachable':
      return {
        kind: 'remote',
        host: target,
        warning: `host ${target} is unreachable (last heartbeat ${ageText(state.heartbeatAgeMs)} ago): the command runs if it returns before the command expires`,
      };
    case 'unknown':
      return {
        kind: 'remote',
        host: target,
        warning: `host ${target} has no heartbeat on record (is its daemon running?): the command runs if one starts before the command expires`,
      };
    case 'forgotten':
      return {
        kind: 'refused',
        code: 'conflict',
        reason: `host ${target} was forgotten (mcc host forget): its runtimes were closed, nothing can run there`,
      };
    default: {
      const never: never = state;
      throw new Error(`unhandled host state ${String(never)}`);
    }
  }
}

/**
 * Whether running a command a second time is safe when its first run's outcome is unknown (the daemon running
 * it died). retire/kill name their runtime and act only while it is open: a second kill of a gone session does
 * nothing and the row closes once (CAS). adopt makes the reconciler's own judgement and never spawns or kills.
 * pickup claims through the store's compare-and-set from todo, so a second run adopts or reports the holder,
 * never spawns twice. interrupt is not: keys typed twice are not typed once (a second C-c may end the agent).
 * send is not: a second run queues the text a second time.
 */
export function rerunnable(kind: CommandKind): boolean {
  switch (kind) {
    case 'retire':
    case 'kill':
    case 'adopt':
    case 'pickup':
      return true;
    case 'interrupt':
    case 'send':
      return false;
    default: {
      const never: never = kind;
      throw new Error(`unhandled command kind ${String(never)}`);
    }
  }
}

export const OUTCOME_UNKNOWN = 'outcome unknown: the daemon died while running it';

/** What happens to a `running` command whose claimer is gone: run again here, or fail as unknown. */
export type Recovery = { kind: 'rerun' } | { kind: 'fail'; result: CommandResult };

/** The recovery of a command whose claimer died (pure). */
export function recoveryOf(c: Pick<Command, 'kind'>, why: string): Recovery {
  if (rerunnable(c.kind)) return { kind: 'rerun' };
  return {
    kind: 'fail',
    result: {
      ok: false,
      code: 'outcome_unknown',
      message: `${OUTCOME_UNKNOWN} (${why}); a ${c.kind} is not run twice: look at the ticket before asking again`,
    },
  };
}

/**
 * Whether the claimer of a running command is gone. The lease judgement (judgeHolder), with one addition: a
 * claimer of this host recorded in another boot is gone, since no process outlives a reboot. A lease waits
 * there only because a holder name could be shared by two machines; a host id (hostname plus machine id, or
 * `--host`) names one machine in a multi-host store.
 */
export function judgeClaimer(
  claimer: string,
  here: { host: string; bootId: string | null },
  obs: ProcessObservation | undefined,
): HolderVerdict {
  const id = parseHolder(claimer);
  if (id !== null && id.host === here.host && here.bootId !== null && id.bootId !== here.bootId)
    return { kind: 'gone', why: `the host rebooted since ${id.host}:${id.pid} claimed it` };
  return judgeHolder(claimer, here, obs);
}

/** The one-line description of a command, as `mcc commands` and the events show it. */
export function describeCommand(c: Pick<Command, 'id' | 'kind' | 'ticketKey' | 'targetHost'>): string {
  return `${c.kind} ${c.ticketKey ?? '-'} on ${c.targetHost} (command ${c.id})`;
}
