import { performance } from 'node:perf_hooks';
import type { CommandOutcome, CommandRequest, CommandRunner } from '../core/command-runner.port.js';

// Timing decorators for the ports a reconcile pass goes through, so the bench can say which part of a pass
// costs what (tmux exec, parsing, store load, /proc identities, captures, diagnosis). They only measure;
// every call goes to the real adapter unchanged.

/** Milliseconds per named part, summed until reset. */
export class Stopwatch {
  private readonly totals = new Map<string, number>();

  add(part: string, ms: number): void {
    this.totals.set(part, (this.totals.get(part) ?? 0) + ms);
  }

  ms(part: string): number {
    return this.totals.get(part) ?? 0;
  }

  reset(): void {
    this.totals.clear();
  }
}

/** Time `fn` in milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** The tmux subcommand of an argv `-L name [-f conf] subcommand ...`, or `file` when there is none. */
function subcommandOf(req: CommandRequest): string {
  return req.args.find((a, i) => i >= 2 && !a.startsWith('-') && req.args[i - 1] !== '-f') ?? req.file;
}

/**
 * A CommandRunner that counts the commands it runs, by tmux subcommand. Under a probe in control mode every
 * command that reaches it is one the control client did not answer: an exec fallback.
 */
export class CountingRunner implements CommandRunner {
  private readonly counts = new Map<string, number>();

  constructor(private readonly inner: CommandRunner) {}

  run(req: CommandRequest): Promise<CommandOutcome> {
    const sub = subcommandOf(req);
    this.counts.set(sub, (this.counts.get(sub) ?? 0) + 1);
    return this.inner.run(req);
  }

  /** Commands run so far, all of them or one subcommand's. */
  calls(sub?: string): number {
    if (sub !== undefined) return this.counts.get(sub) ?? 0;
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}

/** A CommandRunner that records each command's wall time under `exec <tmux subcommand>`. */
export class TimedRunner implements CommandRunner {
  constructor(
    private readonly inner: CommandRunner,
    private readonly sw: Stopwatch,
  ) {}

  async run(req: CommandRequest): Promise<CommandOutcome> {
    const t0 = performance.now();
    try {
      return await this.inner.run(req);
    } finally {
      this.sw.add(`exec ${subcommandOf(req)}`, performance.now() - t0);
    }
  }
}

/**
 * Wrap `target` so each named async method's time is added to `sw` under `part(name)`. The method runs on the
 * real object (its private fields stay reachable); other members pass through untouched.
 */
export function timeMethods<T extends object>(
  target: T,
  methods: readonly string[],
  part: (method: string) => string,
  sw: Stopwatch,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!methods.includes(prop)) return fn.bind(obj);
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await fn.apply(obj, args);
        } finally {
          sw.add(part(prop), performance.now() - t0);
        }
      };
    },
  });
}
