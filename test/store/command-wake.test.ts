// The command wake of a notifying store (PostgreSQL's LISTEN): a notification for this host ends a wait at
// once, one that came while nobody waited ends the next wait at once, another host's is ignored, and a store
// without notifications polls.
import { describe, expect, it } from 'vitest';
import type { TimerPort } from '../../src/core/poller.js';
import { commandWakeFor } from '../../src/store/command-wake.notify.js';

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 1;
  const timers: TimerPort = {
    setTimeout: (fn) => {
      const id = next++;
      pending.set(id, fn);
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    fireAll: () => {
      const fns = [...pending.values()];
      pending.clear();
      for (const fn of fns) fn();
    },
    count: () => pending.size,
  };
}

function notifyingStore() {
  const handlers: { host: string; fn: () => void }[] = [];
  return {
    onCommandQueued(host: string, fn: () => void) {
      const h = { host, fn };
      handlers.push(h);
      return () => void handlers.splice(handlers.indexOf(h), 1);
    },
    queue: (host: string) => handlers.filter((h) => h.host === host).forEach((h) => h.fn()),
    listeners: () => handlers.length,
  };
}

describe('commandWakeFor', () => {
  it('a notification for this host ends the wait; another host’s does not; the timeout still comes', async () => {
    const t = manualTimers();
    const store = notifyingStore();
    const wake = commandWakeFor(store, 'hostB', t.timers);
    const ac = new AbortController();
    const w1 = wake.wait(ac.signal, 30_000);
    store.queue('hostA');
    store.queue('hostB');
    expect(await w1).toBe('notified');
    expect(t.count()).toBe(0);
    const w2 = wake.wait(ac.signal, 30_000);
    t.fireAll();
    expect(await w2).toBe('timeout');
    await wake.close();
    expect(store.listeners()).toBe(0);
  });

  it('a notification while nobody waits is kept for the next wait; abort ends a wait', async () => {
    const t = manualTimers();
    const store = notifyingStore();
    const wake = commandWakeFor(store, 'hostB', t.timers);
    store.queue('hostB');
    const ac = new AbortController();
    expect(await wake.wait(ac.signal, 30_000)).toBe('notified');
    const w = wake.wait(ac.signal, 30_000);
    ac.abort();
    expect(await w).toBe('aborted');
    expect(t.count()).toBe(0);
  });

  it('a store without notifications polls: every wait lasts its timeout', async () => {
    const t = manualTimers();
    const wake = commandWakeFor({}, 'hostB', t.timers);
    const w = wake.wait(new AbortController().signal, 5000);
    expect(t.count()).toBe(1);
    t.fireAll();
    expect(await w).toBe('timeout');
  });
});
