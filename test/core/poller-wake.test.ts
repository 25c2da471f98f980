import { describe, expect, it } from 'vitest';
import { HINT_DELAY_MS, MIN_SPACING_MS, Poller, type TimerPort } from '../../src/core/poller.js';

// The poller's early runs on change hints, on a fake clock whose timers fire in time order as the test moves
// time forward, and a fake hint source the test emits from: nothing here waits on a real clock.

/** A clock and its timers: `advance` moves time, firing each due timer at its own time. */
class FakeTime implements TimerPort {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { fn: () => void; at: number }>();
  readonly clock = { now: () => this.now };
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { fn, at: this.now + ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** When the one pending timer fires, if any. */
  nextAt(): number | undefined {
    const ats = [...this.pending.values()].map((t) => t.at);
    return ats.length === 0 ? undefined : Math.min(...ats);
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.pending].sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined || next[1].at > end) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeHints {
  readonly listeners = new Set<() => void>();
  readonly source = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  emit(): void {
    for (const l of this.listeners) l();
  }
}

/** A task that records the clock time of each run; runs take `costMs` of fake time when given. */
function recorder(time: FakeTime, opts: { fail?: () => boolean } = {}) {
  const runs: number[] = [];
  const task = () => {
    runs.push(time.now);
    return opts.fail?.() ? Promise.reject(new Error('boom')) : Promise.resolve();
  };
  return { runs, task };
}

function setup(intervalMs = 5000) {
  const time = new FakeTime();
  const hints = new FakeHints();
  const rec = recorder(time);
  const poller = new Poller(rec.task, { intervalMs, clock: time.clock, timers: time, hints: hints.source });
  return { time, hints, runs: rec.runs, poller };
}

describe('Poller change hints', () => {
  it('with no hints the periodic run still comes every interval', async () => {
    const { time, runs, poller } = setup(1000);
    poller.start();
    await flush();
    await time.advance(10_000);
    expect(runs).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(poller.early).toBe(0);
  });

  it('a hint brings the next run forward to the hint delay, and the interval counts again from that run', async () => {
    const { time, hints, runs, poller } = setup();
    poller.start();
    await flush();
    await time.advance(1000);
    hints.emit();
    expect(time.nextAt()).toBe(1000 + HINT_DELAY_MS);
    await time.advance(HINT_DELAY_MS - 1);
    expect(runs).toEqual([0]);
    await time.advance(1);
    expect(runs).toEqual([0, 1000 + HINT_DELAY_MS]);
    await time.advance(20_000);
    expect(runs.slice(2, 5)).toEqual([6000 + HINT_DELAY_MS, 11_000 + HINT_DELAY_MS, 16_000 + HINT_DELAY_MS]);
    expect(poller.early).toBe(1);
  });

  it('a hint right after a run waits for the minimum spacing', async () => {
    const { time, hints, runs, poller } = setup();
    poller.start();
    await flush();
    hints.emit();
    expect(time.nextAt()).toBe(MIN_SPACING_MS);
    await time.advance(MIN_SPACING_MS);
    expect(runs).toEqual([0, MIN_SPACING_MS]);
  });

  it('a hint while a run is going brings the next run forward once that run ends', async () => {
    const time = new FakeTime();
    const hints = new FakeHints();
    let release: (() => void) | null = null;
    let calls = 0;
    const task = () => {
      calls++;
      return new Promise<void>((res) => (release = res));
    };
    const poller = new Poller(task, { intervalMs: 5000, clock: time.clock, timers: time, hints: hints.source });
    poller.start();
    await flush();
    await time.advance(400);
    hints.emit();
    release!();
    await flush();
    expect(time.nextAt()).toBe(400 + MIN_SPACING_MS);
    await time.advance(MIN_SPACING_MS);
    expect(calls).toBe(2);
  });

  it('a flood of hints brings a bounded number of runs: at most one per minimum spacing', async () => {
    const { time, hints, runs, poller } = setup();
    poller.start();
    await flush();
    await time.advance(3000);
    // 1000 at one instant: one run.
    for (let i = 0; i < 1000; i++) hints.emit();
    await time.advance(1000);
    expect(runs).toEqual([0, 3000 + HINT_DELAY_MS]);
    // 100 sessions created in a loop, one hint every 10 ms for a second: about four runs, never a spin.
    const before = runs.length;
    const start = time.now;
    for (let i = 0; i < 100; i++) {
      hints.emit();
      await time.advance(10);
    }
    const during = runs.slice(before).filter((t) => t <= start + 1000);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(1000 / MIN_SPACING_MS));
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(MIN_SPACING_MS);
  });

  it('hints do not cut a backoff short', async () => {
    const time = new FakeTime();
    const hints = new FakeHints();
    let failing = true;
    const rec = recorder(time, { fail: () => failing });
    const poller = new Poller(rec.task, { intervalMs: 1000, clock: time.clock, timers: time, hints: hints.source });
    poller.start();
    await flush();
    expect(time.nextAt()).toBe(2000);
    hints.emit();
    expect(time.nextAt()).toBe(2000);
    failing = false;
    await time.advance(2000);
    expect(rec.runs).toEqual([0, 2000]);
    hints.emit();
    expect(time.nextAt()).toBe(2000 + MIN_SPACING_MS);
  });

  it('subscribes on start, unsubscribes on stop, and a hint after stop runs nothing', async () => {
    const { time, hints, runs, poller } = setup();
    expect(hints.listeners.size).toBe(0);
    poller.start();
    await flush();
    expect(hints.listeners.size).toBe(1);
    await poller.stop();
    expect(hints.listeners.size).toBe(0);
    hints.emit();
    await time.advance(60_000);
    expect(runs).toEqual([0]);
  });
});
