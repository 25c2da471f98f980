import type { Clock } from './clock.port.js';

// The one poller that owns every timer (k9s's table updater, lazygit's background routine): it runs a
// task every interval, drops a tick while the previous run is still going, backs off after failures, and
// stops on an AbortSignal. Timers are injected so tests and the bench drive it without waiting.
// A hint source (tmux pushing "something changed") may bring the next run forward; it never replaces one: every
// run reads the whole state, and the next periodic run is due one interval after the last run, hinted or not.

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
  /**
   * Subscribe to change hints (e.g. TmuxPort.onChange); returns the unsubscribe. A hint brings the next run
   * forward to `hintDelayMs` after it (so a burst of hints is one run), never sooner than `minSpacingMs` after
   * the previous run ended (so a flood cannot spin the poller). Ignored while backing off after failures.
   */
  hints?: (listener: () => void) => () => void;
  hintDelayMs?: number;
  minSpacingMs?: number;
}

export const HINT_DELAY_MS = 150;
export const MIN_SPACING_MS = 250;

export class Poller {
  private running: Promise<void> | null = null;
  private failures = 0;
  private handle: unknown = null;
  private stopped = false;
  private started = false;
  private readonly timers: TimerPort;
  /** When the pending timer fires (clock time), null while none is pending. */
  private dueAt: number | null = null;
  private lastEndAt = Number.NEGATIVE_INFINITY;
  /** A hint arrived while a run was going: that run may have read the state before the change. */
  private hintedDuringRun = false;
  private unsubscribeHints: (() => void) | null = null;
  /** Ticks dropped because the previous run had not finished (shown by the bench). */
  dropped = 0;
  /** Runs brought forward by a hint. */
  early = 0;

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
    this.unsubscribeHints = this.opts.hints?.(() => this.onHint()) ?? null;
    void this.tick();
  }

  /** Run now (a key press asked for fresh data); dropped if a run is in flight. */
  poke(): void {
    if (this.stopped) return;
    this.clearPending();
    void this.tick();
  }

  /** Stop ticking; resolves once a run in flight has finished (so its resources can be closed). */
  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeHints?.();
    this.unsubscribeHints = null;
    this.clearPending();
    return this.running ?? Promise.resolve();
  }

  /** The delay before the next run: the interval, doubled per consecutive failure up to the cap. */
  nextDelay(): number {
    const max = this.opts.maxBackoffMs ?? Math.max(this.opts.intervalMs * 16, 30_000);
    return this.failures === 0 ? this.opts.intervalMs : Math.min(max, this.opts.intervalMs * 2 ** this.failures);
  }

  private onHint(): void {
    if (this.stopped || this.failures > 0) return;
    if (this.running) {
      this.hintedDuringRun = true;
      return;
    }
    const at = this.earliestHintedRun();
    // Already due sooner (an earlier hint, or the interval): one run serves every hint before it.
    if (this.dueAt === null || at >= this.dueAt) return;
    this.clearPending();
    this.early++;
    this.schedule(at - this.opts.clock.now());
  }

  private earliestHintedRun(): number {
    const now = this.opts.clock.now();
    return Math.max(
      now + (this.opts.hintDelayMs ?? HINT_DELAY_MS),
      this.lastEndAt + (this.opts.minSpacingMs ?? MIN_SPACING_MS),
    );
  }

  private schedule(delay: number): void {
    this.dueAt = this.opts.clock.now() + delay;
    this.handle = this.timers.setTimeout(() => {
      this.handle = null;
      this.dueAt = null;
      void this.tick();
    }, delay);
  }

  private clearPending(): void {
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
    this.dueAt = null;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.dropped++;
      return;
    }
    this.hintedDuringRun = false;
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
    this.lastEndAt = this.opts.clock.now();
    // stop() may have run while the task was awaited.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.stopped) return;
    let delay = this.nextDelay();
    // A hint may have arrived while the task was awaited.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.hintedDuringRun && this.failures === 0) {
      const hinted = this.earliestHintedRun() - this.lastEndAt;
      if (hinted < delay) {
        delay = hinted;
        this.early++;
      }
    }
    this.hintedDuringRun = false;
    this.schedule(delay);
  }
}
