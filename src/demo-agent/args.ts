// Flags of `mcc demo-agent`, through the shared parser. Pure: throws a UsageError naming the bad flag or value.
import { parseArgs, UsageError, type CommandSpec } from '../cli/args.js';

export type DemoOutcome = 'review' | 'done' | 'question' | 'crash';
export const DEMO_OUTCOMES: readonly DemoOutcome[] = ['review', 'done', 'question', 'crash'];

/**
 * How the screen is laid out, to reproduce real agents: `plain` (a `demo>` prompt on the last line), `scrollback`
 * (busy lines stay in scrollback above the prompt), `box` (a bordered input box with a footer under it and an
 * animated spinner above it while busy).
 */
export type DemoLayout = 'plain' | 'scrollback' | 'box';
export const DEMO_LAYOUTS: readonly DemoLayout[] = ['plain', 'scrollback', 'box'];

/** The lines under the input box of the `box` layout. */
export type DemoFooter = 'shortcuts' | 'bypass' | 'both' | 'none';
export const DEMO_FOOTERS: readonly DemoFooter[] = ['shortcuts', 'bypass', 'both', 'none'];

export interface DemoArgs {
  bootMs: number;
  workMs: number;
  /** Outcome of the first prompt whose work completes; later prompts end with review. */
  outcome: DemoOutcome;
  layout: DemoLayout;
  footer: DemoFooter;
  /** Start behind a sign-in menu that only Ctrl-O leaves. */
  signin: boolean;
  /** Appends one JSON line per input chunk received while not ready. */
  inputLog: string | null;
  /** Appends one JSON line per submitted prompt. */
  promptLog: string | null;
}

export const DEMO_DEFAULTS: Readonly<DemoArgs> = {
  bootMs: 1500,
  workMs: 2000,
  outcome: 'review',
  layout: 'plain',
  footer: 'shortcuts',
  signin: false,
  inputLog: null,
  promptLog: null,
};

const MAX_MS = 2_147_483_647; // setTimeout's limit

/** `mcc demo-agent`'s flags; the standalone program (`node dist/demo-agent/main.js`) takes the same. */
export const DEMO_AGENT_SPEC: CommandSpec = {
  name: 'demo-agent',
  summary:
    'A demo agent CLI used by the demo profile and the tests: busy while booting, then a prompt; prints REVIEW:/DONE:/QUESTION: or crashes.',
  usage:
    'mcc demo-agent [--boot-ms N] [--work-ms N] [--outcome review|done|question|crash] [--layout plain|scrollback|box] [--footer shortcuts|bypass|both|none] [--signin] [--input-log PATH] [--prompt-log PATH]',
  positionals: [],
  flags: {
    // Strings, not numbers: the range checks below say what a value must be.
    'boot-ms': { kind: 'string', arg: 'N', help: 'milliseconds busy before the first prompt (default 1500)' },
    'work-ms': { kind: 'string', arg: 'N', help: 'milliseconds of work per prompt (default 2000)' },
    outcome: { kind: 'string', arg: 'OUTCOME', help: 'review, done, question or crash (default review)' },
    layout: { kind: 'string', arg: 'LAYOUT', help: 'plain, scrollback or box (default plain)' },
    footer: { kind: 'string', arg: 'FOOTER', help: 'with --layout box: shortcuts, bypass, both or none' },
    signin: { kind: 'boolean', help: 'start behind a sign-in menu that only Ctrl-O leaves' },
    'input-log': { kind: 'string', arg: 'PATH', help: 'log input received while not ready (JSON lines)' },
    'prompt-log': { kind: 'string', arg: 'PATH', help: 'log every accepted prompt (JSON lines)' },
  },
};

function usage(message: string): UsageError {
  return new UsageError(DEMO_AGENT_SPEC.name, message);
}

function parseMs(flag: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(ms <= MAX_MS)) throw usage(`${flag} expects a whole number of milliseconds (0..${MAX_MS}), got "${value}"`);
  return ms;
}

function parseChoice<T extends string>(flag: string, choices: readonly T[], value: string): T {
  const choice = choices.find((c) => c === value);
  if (choice === undefined) throw usage(`${flag} must be one of ${choices.join(', ')}; got "${value}"`);
  return choice;
}

function parsePath(flag: string, value: string): string {
  if (value === '') throw usage(`${flag} expects a file path, got ""`);
  return value;
}

/** Parses the flags of DEMO_AGENT_SPEC (also `--flag=value`). */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  // No global flags: `--help` is answered before the agent starts (asksForHelp), never by a running agent.
  const { flags } = parseArgs(argv, DEMO_AGENT_SPEC, {});
  const args: DemoArgs = { ...DEMO_DEFAULTS };
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' ? v : undefined;
  };
  const boot = str('boot-ms');
  const work = str('work-ms');
  const outcome = str('outcome');
  const layout = str('layout');
  const footer = str('footer');
  const inputLog = str('input-log');
  const promptLog = str('prompt-log');
  if (boot !== undefined) args.bootMs = parseMs('--boot-ms', boot);
  if (work !== undefined) args.workMs = parseMs('--work-ms', work);
  if (outcome !== undefined) args.outcome = parseChoice('--outcome', DEMO_OUTCOMES, outcome);
  if (layout !== undefined) args.layout = parseChoice('--layout', DEMO_LAYOUTS, layout);
  if (footer !== undefined) args.footer = parseChoice('--footer', DEMO_FOOTERS, footer);
  if (flags['signin'] === true) args.signin = true;
  if (inputLog !== undefined) args.inputLog = parsePath('--input-log', inputLog);
  if (promptLog !== undefined) args.promptLog = parsePath('--prompt-log', promptLog);
  if (footer !== undefined && args.layout !== 'box') throw usage('--footer applies only to --layout box');
  return args;
}
