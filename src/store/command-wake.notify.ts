import { pollingWake, type CommandWake, type WakeReason } from '../core/command-wake.port.js';
import { realTimers, type TimerPort } from '../core/poller.js';

// The command wake of a store that can tell a host its commands were queued (PostgreSQL's LISTEN/NOTIFY on
// `mcc_commands`, delivered at commit): a daemon's wait ends at once instead of at its next poll. Any other
// store gets the polling fallback. A notification is only a hint either way: the worker drains after every
// wait, and the store wakes it once when its LISTEN connection is back after a loss, so a command queued
// while that connection was down waits for the reconnect (within seconds), never for the next poll.

/** A store that calls `fn` when a command is queued for `host` (PgStore); returns a function that stops it. */
export interface CommandNotifications {
  onCommandQueued(host: string, fn: () => void): () => void;
}

function notifies(store: object): store is CommandNotifications {
  return typeof (store as Partial<CommandNotifications>).onCommandQueued === 'function';
}

/** A wake that resolves `notified` when `source` says a command was queued for `host`. */
export function notifiedWake(source: CommandNotifications, host: string, timers: TimerPort = realTimers): CommandWake {
  // A notification that comes while nobody waits (the worker is draining) is kept for the next wait.
  let pending = false;
  let waiter: (() => void) | null = null;
  const off = source.onCommandQueued(host, () => {
    if (waiter !== null) waiter();
    else pending = true;
  });
  return {
    wait(signal, timeoutMs) {
      if (signal.aborted) return Promise.resolve('aborted');
      if (pending) {
        pending = false;
        return Promise.resolve('notified');
      }
      return new Promise<WakeReason>((resolve) => {
        const done = (why: WakeReason): void => {
          timers.clearTimeout(handle);
          signal.removeEventListener('abort', onAbort);
          waiter = null;
          resolve(why);
        };
        const onAbort = (): void => done('aborted');
        const handle = timers.setTimeout(() => done('timeout'), timeoutMs);
        waiter = () => done('notified');
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    close: async () => {
      off();
    },
  };
}

/** The wake for `host`'s command worker over `store`: notified where the store can, polling otherwise. */
export function commandWakeFor(store: object, host: string, timers: TimerPort = realTimers): CommandWake {
  return notifies(store) ? notifiedWake(store, host, timers) : pollingWake(timers);
}
