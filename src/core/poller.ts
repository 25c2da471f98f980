import type { Clock } from './clock.port.js';

// The one poller that owns every timer (k9s's table updater, lazygit's background routine): it runs a
// task every interval, drops a tick while the previous run is still going, backs off after failures, and
// stops on an AbortSignal. Timers are injected so tests and the bench drive it without waiting.

export interface TimerPort {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: TimerPort = {
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // A poller never keeps the process alive on its own: the console or daemon decides when to exit.
    (h as { unref?: () => void }).unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface PollerOptions {
  intervalMs: number;
  /** Longest wait after repeated failures. */
  maxBackoffMs?: number;
  clock: Clock;
  timers?: TimerPort;
  signal?: AbortSignal;
  onError?: (error: unknown, consecutiveFailures: number) => void;
}

export class Poller {
  private running: Promise<void> | null = null;
  private failures = 0;
  private handle: unknown = null;
  private stopped = false;
  private started = false;
  private readonly timers: TimerPort;
  /** Ticks dropped because the previous run had not finished (shown by the bench). */
  dropped = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly opts: PollerOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    opts.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Start ticking; the first run is immediate. */
  start(): void {
    if (this.stopped || this.started) return;
    this.started = true;
    void this.tick();
  }

  /** Run now (a key press asked for fresh data); dropped if a run is in flight. */
  poke(): void {
    if (this.stopped) return;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
    void this.tick();
  }

  /** Stop ticking; resolves once a run in flight has finished (so its resources can be closed). */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
    return this.running ?? Promise.resolve();
  }

  /** The delay before the next run: the interval, doubled per consecutive failure up to the cap. */
  nextDelay(): number {
    const max = this.opts.maxBackoffMs ?? Math.max(this.opts.intervalMs * 16, 30_000);
    return this.failures === 0 ? this.opts.intervalMs : Math.min(max, this.opts.intervalMs * 2 ** this.failures);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.dropped++;
      return;
    }
    const run = (async () => {
      try {
        await this.task();
        this.failures = 0;
      } catch (e) {
        this.failures++;
        this.opts.onError?.(e, this.failures);
      }
    })();
    this.running = run;
    await run;
    this.running = null;
    // stop() may have run while the task was awaited.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (!this.stopped) this.handle = this.timers.setTimeout(() => void this.tick(), this.nextDelay());
  }
}
