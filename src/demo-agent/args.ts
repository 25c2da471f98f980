// Flags of `mcc demo-agent`. Pure: throws an Error naming the bad flag or value.

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

function parseMs(flag: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(ms <= MAX_MS)) throw new Error(`${flag} expects a whole number of milliseconds (0..${MAX_MS}), got "${value}"`);
  return ms;
}

/** Parses `[--boot-ms N] [--work-ms N] [--outcome review|done|question|crash]` (also `--flag=value`). */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const args: DemoArgs = { ...DEMO_DEFAULTS };
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
      case '--outcome': {
        const v = value();
        const outcome = DEMO_OUTCOMES.find((o) => o === v);
        if (outcome === undefined) throw new Error(`--outcome must be one of ${DEMO_OUTCOMES.join(', ')}; got "${v}"`);
        args.outcome = outcome;
        break;
      }
      default:
        throw new Error(arg.startsWith('-') ? `unknown flag ${flag}` : `unexpected argument "${arg}"`);
    }
  }
  return args;
}
