// Flags of `mcc demo-agent`, through the shared parser. Pure: throws a UsageError naming the bad flag or value.
import { parseArgs, UsageError, type CommandSpec } from '../cli/args.js';

export type DemoOutcome = 'review' | 'done' | 'question' | 'crash';
export const DEMO_OUTCOMES: readonly DemoOutcome[] = ['review', 'done', 'question', 'crash'];

export interface DemoArgs {
  bootMs: number;
  workMs: number;
  /** Outcome of the first prompt whose work completes; later prompts end with review. */
  outcome: DemoOutcome;
}

export const DEMO_DEFAULTS: Readonly<DemoArgs> = { bootMs: 1500, workMs: 2000, outcome: 'review' };

const MAX_MS = 2_147_483_647; // setTimeout's limit

/** `mcc demo-agent`'s flags; the standalone program (`node dist/demo-agent/main.js`) takes the same. */
export const DEMO_AGENT_SPEC: CommandSpec = {
  name: 'demo-agent',
  summary:
    'A demo agent CLI used by the demo profile and the tests: busy while booting, then a prompt; prints REVIEW:/DONE:/QUESTION: or crashes.',
  usage: 'mcc demo-agent [--boot-ms N] [--work-ms N] [--outcome review|done|question|crash]',
  positionals: [],
  flags: {
    // Strings, not numbers: the range check below says what a millisecond count must be.
    'boot-ms': { kind: 'string', arg: 'N', help: 'milliseconds busy before the first prompt (default 1500)' },
    'work-ms': { kind: 'string', arg: 'N', help: 'milliseconds of work per prompt (default 2000)' },
    outcome: { kind: 'string', arg: 'OUTCOME', help: 'review, done, question or crash (default review)' },
  },
};

function parseMs(flag: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(ms <= MAX_MS))
    throw new UsageError(
      DEMO_AGENT_SPEC.name,
      `${flag} expects a whole number of milliseconds (0..${MAX_MS}), got "${value}"`,
    );
  return ms;
}

/** Parses `[--boot-ms N] [--work-ms N] [--outcome review|done|question|crash]` (also `--flag=value`). */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  // No global flags: `--help` is answered before the agent starts (asksForHelp), never by a running agent.
  const { flags } = parseArgs(argv, DEMO_AGENT_SPEC, {});
  const args: DemoArgs = { ...DEMO_DEFAULTS };
  const boot = flags['boot-ms'];
  const work = flags['work-ms'];
  const outcomeFlag = flags['outcome'];
  if (typeof boot === 'string') args.bootMs = parseMs('--boot-ms', boot);
  if (typeof work === 'string') args.workMs = parseMs('--work-ms', work);
  if (typeof outcomeFlag === 'string') {
    const outcome = DEMO_OUTCOMES.find((o) => o === outcomeFlag);
    if (outcome === undefined)
      throw new UsageError(
        DEMO_AGENT_SPEC.name,
        `--outcome must be one of ${DEMO_OUTCOMES.join(', ')}; got "${outcomeFlag}"`,
      );
    args.outcome = outcome;
  }
  return args;
}
