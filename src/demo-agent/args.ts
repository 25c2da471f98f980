// Flags of `mcc demo-agent`. Pure: throws an Error naming the bad flag or value.

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

function parseMs(flag: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(ms <= MAX_MS)) throw new Error(`${flag} expects a whole number of milliseconds (0..${MAX_MS}), got "${value}"`);
  return ms;
}

function parseChoice<T extends string>(flag: string, choices: readonly T[], value: string): T {
  const choice = choices.find((c) => c === value);
  if (choice === undefined) throw new Error(`${flag} must be one of ${choices.join(', ')}; got "${value}"`);
  return choice;
}

function parsePath(flag: string, value: string): string {
  if (value === '') throw new Error(`${flag} expects a file path, got ""`);
  return value;
}

/**
 * Parses `[--boot-ms N] [--work-ms N] [--outcome review|done|question|crash] [--layout plain|scrollback|box]
 * [--footer shortcuts|bypass|both|none] [--signin] [--input-log PATH] [--prompt-log PATH]` (also `--flag=value`).
 */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const args: DemoArgs = { ...DEMO_DEFAULTS };
  let footerGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--boot-ms':
        args.bootMs = parseMs(flag, value());
        break;
      case '--work-ms':
        args.workMs = parseMs(flag, value());
        break;
      case '--outcome':
        args.outcome = parseChoice(flag, DEMO_OUTCOMES, value());
        break;
      case '--layout':
        args.layout = parseChoice(flag, DEMO_LAYOUTS, value());
        break;
      case '--footer':
        args.footer = parseChoice(flag, DEMO_FOOTERS, value());
        footerGiven = true;
        break;
      case '--signin':
        if (eq > 0) throw new Error(`${flag} takes no value, got "${arg.slice(eq + 1)}"`);
        args.signin = true;
        break;
      case '--input-log':
        args.inputLog = parsePath(flag, value());
        break;
      case '--prompt-log':
        args.promptLog = parsePath(flag, value());
        break;
      default:
        throw new Error(arg.startsWith('-') ? `unknown flag ${flag}` : `unexpected argument "${arg}"`);
    }
  }
  if (footerGiven && args.layout !== 'box') throw new Error(`--footer applies only to --layout box`);
  return args;
}
