import { realTimers, type TimerPort } from './poller.js';

// How a host's command worker learns that a command was queued for it. The PostgreSQL adapter LISTENs on
// `mcc_commands` (enqueue NOTIFYs with the target host as payload, delivered at commit); SQLite has no
// notification across processes, so its wake is the polling fallback: it waits out the timeout. Either way the
// worker drains the queue after every wait, so a wake-up lost or spurious costs latency, never a command.

export type WakeReason = 'notified' | 'timeout' | 'aborted';

export interface CommandWake {
  /**
   * Resolve with `notified` when a command may have been queued for this wake's host, `timeout` after
   * `timeoutMs`, or `aborted` when `signal` aborts. A notification that arrives while nobody waits must be
   * remembered, so the next wait returns at once: the worker may be draining when it comes.
   */
  wait(signal: AbortSignal, timeoutMs: number): Promise<WakeReason>;
  /** Stop listening (closes a LISTEN connection); the polling wake has nothing to close. */
  close(): Promise<void>;
}

/** The polling fallback: every wait lasts its timeout (or until the signal aborts). */
export function pollingWake(timers: TimerPort = realTimers): CommandWake {
  return {
    wait(signal, timeoutMs) {
      if (signal.aborted) return Promise.resolve('aborted');
      return new Promise<WakeReason>((resolve) => {
        const onAbort = (): void => {
          timers.clearTimeout(handle);
          resolve('aborted');
        };
        const handle = timers.setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve('timeout');
        }, timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    close: async () => undefined,
  };
}
