import { describe, expect, it } from 'vitest';
import { Poller, type TimerPort } from '../../src/core/poller.js';

// The poller driven through its TimerPort seam: timers are a list the test fires by hand, the task is a
// deferred the test settles, so nothing here waits on a real clock.

class FakeTimers implements TimerPort {
  private seq = 0;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  readonly scheduled: number[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { fn, ms });
    this.scheduled.push(ms);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fire the one pending timer (there must be exactly one). */
  fire(): void {
    expect(this.pending.size).toBe(1);
    const [id, t] = [...this.pending][0]!;
    this.pending.delete(id);
    t.fn();
  }
  lastDelay(): number | undefined {
    return [...this.pending.values()][0]?.ms;
  }
}

/** Let every settled promise run its continuations. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferredTask() {
  let calls = 0;
  let release: (() => void) | null = null;
  let rejectIt: ((e: Error) => void) | null = null;
  const task = () => {
    calls++;
    return new Promise<void>((res, rej) => {
      release = res;
      rejectIt = rej;
    });
  };
  return {
    task,
    calls: () => calls,
    finish: async () => (release!(), await flush()),
    fail: async () => (rejectIt!(new Error('boom')), await flush()),
  };
}

const clock = { now: () => 0 };

describe('Poller', () => {
  it('runs at once on start, then every interval after each run ends', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers });
    p.start();
    expect(t.calls()).toBe(1);
    expect(timers.pending.size).toBe(0); // the next tick is scheduled only after this one ends
    await t.finish();
    expect(timers.lastDelay()).toBe(1000);
    timers.fire();
    expect(t.calls()).toBe(2);
  });

  it('drops a tick while the previous run is still going', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers });
    p.start();
    p.poke();
    p.poke();
    expect(t.calls()).toBe(1);
    expect(p.dropped).toBe(2);
    await t.finish();
    expect(timers.pending.size).toBe(1);
  });

  it('backs off on failure, doubling up to the cap, and resets after a success', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const errors: number[] = [];
    const p = new Poller(t.task, {
      intervalMs: 1000,
      maxBackoffMs: 5000,
      clock,
      timers,
      onError: (_e, n) => errors.push(n),
    });
    p.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await t.fail();
      delays.push(timers.lastDelay()!);
      timers.fire();
    }
    expect(delays).toEqual([2000, 4000, 5000, 5000, 5000]);
    expect(errors).toEqual([1, 2, 3, 4, 5]);
    await t.finish();
    expect(timers.lastDelay()).toBe(1000);
    timers.fire();
    await t.fail();
    expect(timers.lastDelay()).toBe(2000);
  });

  it('without a cap the backoff stops at 16 intervals or 30 s, whichever is larger', () => {
    const p = new Poller(async () => undefined, { intervalMs: 1000, clock, timers: new FakeTimers() });
    (p as unknown as { failures: number }).failures = 20;
    expect(p.nextDelay()).toBe(30_000);
    const q = new Poller(async () => undefined, { intervalMs: 5000, clock, timers: new FakeTimers() });
    (q as unknown as { failures: number }).failures = 20;
    expect(q.nextDelay()).toBe(80_000);
  });

  it('stops on an AbortSignal: the pending timer is cleared and nothing runs again', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const ac = new AbortController();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers, signal: ac.signal });
    p.start();
    await t.finish();
    expect(timers.pending.size).toBe(1);
    ac.abort();
    expect(timers.pending.size).toBe(0);
    p.poke();
    p.start();
    expect(t.calls()).toBe(1);
  });

  it('an abort during a run lets the run finish but schedules nothing after it', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const ac = new AbortController();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers, signal: ac.signal });
    p.start();
    ac.abort();
    await t.finish();
    expect(timers.pending.size).toBe(0);
  });

  it('stop resolves only once the run in flight has finished', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers });
    p.start();
    let stopped = false;
    const done = p.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    await t.finish();
    await done;
    expect(stopped).toBe(true);
    expect(timers.pending.size).toBe(0);
  });

  it('poke runs now and replaces the pending timer instead of adding a second one', async () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers });
    p.start();
    await t.finish();
    expect(timers.pending.size).toBe(1);
    p.poke();
    expect(t.calls()).toBe(2);
    expect(timers.pending.size).toBe(0);
    await t.finish();
    expect(timers.pending.size).toBe(1);
  });

  it('a stopped poller ignores start', () => {
    const timers = new FakeTimers();
    const t = deferredTask();
    const p = new Poller(t.task, { intervalMs: 1000, clock, timers });
    void p.stop();
    p.start();
    expect(t.calls()).toBe(0);
  });
});
