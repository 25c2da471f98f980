import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandDesk, Queued } from '../core/command-desk.js';
import { decodeResult, describeCommand, type Command as QueuedCommand } from '../core/commands.js';
import { exitCodeOf, fail, type ErrorCode, type Failure, type Result } from '../core/result.js';
import type { FlagSpecs, Parsed } from './args.js';
import { commandJson } from './command-commands.js';
import { failWith, line, toJson, type Out } from './output.js';

// An action on a runtime of another host is queued for that host's daemon (CommandDesk). The CLI then waits
// for its result by default, so a script sees the outcome as if the runtime were local: done exits 0, a failure
// exits with its own code, and a command still waiting when the wait runs out exits 1 and says where to look.

/** How long `mcc retire|interrupt|send|adopt|pickup` waits for a queued command by default. */
export const DEFAULT_WAIT_SECONDS = 60;
const MAX_WAIT_SECONDS = 3600;
/** How often the result is read while waiting: a round trip is one daemon wake plus the action itself. */
const POLL_MS = 200;

export const WAIT_FLAGS: FlagSpecs = {
  'no-wait': {
    kind: 'boolean',
    help: 'for a runtime of another host: return once the command is queued (see mcc commands)',
  },
  'wait-seconds': {
    kind: 'number',
    arg: 'N',
    help: `for a runtime of another host: wait up to N seconds for its result (default ${DEFAULT_WAIT_SECONDS})`,
  },
};

/** The wait the flags ask for, in ms (0: do not wait); `invalid` naming the flag. */
export function waitMsOf(args: Parsed, verb: string): Result<number> {
  const n = args.flags['wait-seconds'];
  if (args.flags['no-wait'] === true) {
    if (n !== undefined) return fail('invalid', `${verb}: give --no-wait or --wait-seconds, not both`);
    return { ok: true, value: 0 };
  }
  if (n === undefined) return { ok: true, value: DEFAULT_WAIT_SECONDS * 1000 };
  if (typeof n !== 'number' || !(n >= 0 && n <= MAX_WAIT_SECONDS))
    return fail(
      'invalid',
      `${verb}: --wait-seconds must be a number of seconds in 0..${MAX_WAIT_SECONDS}, got ${String(n)}`,
    );
  return { ok: true, value: Math.round(n * 1000) };
}

const ERROR_CODES: readonly ErrorCode[] = [
  'conflict',
  'not_found',
  'invalid',
  'probe_unknown',
  'tmux_failed',
  'git_failed',
  'store_failed',
  'not_ready',
];

/** The exit code of a command's failure code (its own codes, such as outcome_unknown or expired, exit 1). */
function exitOf(code: string): number {
  return (ERROR_CODES as readonly string[]).includes(code) ? exitCodeOf(code as ErrorCode) : 1;
}

function finished(c: QueuedCommand): boolean {
  return c.status === 'done' || c.status === 'failed' || c.status === 'expired';
}

/**
 * Say that `q` was queued (with the desk's warning, at once), then wait up to `waitMs` for its result and
 * print it; the exit code follows the result (see the header).
 */
export async function followQueued(
  desk: CommandDesk,
  q: Queued,
  waitMs: number,
  out: Out,
  json: boolean,
): Promise<number> {
  if (!json) line(out, q.text);
  let c = q.command;
  const deadline = Date.now() + waitMs;
  while (!finished(c) && Date.now() < deadline) {
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    const now = await desk.get(c.id);
    if (!now.ok) return failWith(out, now);
    c = now.value;
  }
  if (json) out.stdout(`${toJson({ ...commandJson(c), queued: q.text, warning: q.warning })}\n`);
  if (waitMs === 0 && !finished(c)) return 0;
  const what = describeCommand(c);
  if (!finished(c)) {
    const where = c.status === 'running' ? `still running on ${c.targetHost}` : `still queued on ${c.targetHost}`;
    failWith(out, fail('conflict', `${what}: ${where} after ${Math.round(waitMs / 1000)}s; see mcc commands`));
    return 1;
  }
  const r = decodeResult(c.result);
  if (c.status === 'done' && r?.ok) {
    if (!json) line(out, `${what} done: ${r.summary}`);
    return 0;
  }
  const f: Pick<Failure, 'message'> & { code: string } =
    r !== null && !r.ok ? r : { code: 'expired', message: `no daemon of ${c.targetHost} took it before it expired` };
  failWith(out, fail('conflict', `${what} ${c.status} (${f.code}): ${f.message}`));
  return exitOf(f.code);
}
