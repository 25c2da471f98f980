import type { MissionControl } from './service.js';

// Runs review checks outside the reconcile pass: the daemon's and the console's poller call tick() after
// their pass; tick() only starts runs and returns, so a ten-minute `npm test` never delays a pass. Each
// REVIEW: marker's checks are claimed in the store (pending -> running), so two processes, or a restart,
// never run them twice; a `running` mark a stopped process left behind is recorded as interrupted.

export interface ChecksRunnerEvents {
  /** A run finished (its event is in the store) or could not be claimed or recorded. */
  onDone?: (key: string, text: string, ok: boolean) => void;
}

export class ChecksRunner {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private ticking = false;

  constructor(
    private readonly service: MissionControl,
    private readonly events: ChecksRunnerEvents = {},
  ) {}

  /** Start the runs that are due; never waits for one. */
  async tick(): Promise<void> {
    if (this.ticking || this.abort.signal.aborted) return;
    this.ticking = true;
    try {
      const due = await this.service.reviewChecksDue();
      for (const t of due.abandoned) {
        if (this.inFlight.has(t.key)) continue;
        const res = await this.service.abandonReviewChecks(t.key);
        if (res.ok) this.events.onDone?.(t.key, `${t.key}: review checks interrupted by a stop; not run again`, false);
      }
      for (const t of due.pending) {
        if (this.inFlight.has(t.key)) continue;
        const run = this.service
          .runReviewChecks(t.key, this.abort.signal)
          .then((res) => {
            // A lost claim means another process runs them: nothing to say.
            if (res.ok) this.events.onDone?.(t.key, `${t.key}: ${res.value.summary}`, res.value.status === 'ok');
            else if (res.code !== 'conflict')
              this.events.onDone?.(t.key, `${t.key}: review checks: ${res.message}`, false);
          })
          .catch((e: unknown) => {
            this.events.onDone?.(
              t.key,
              `${t.key}: review checks failed: ${e instanceof Error ? e.message : String(e)}`,
              false,
            );
          })
          .finally(() => this.inFlight.delete(t.key));
        this.inFlight.set(t.key, run);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** How many runs are in flight. */
  get running(): number {
    return this.inFlight.size;
  }

  /** Wait for the runs in flight to finish and record their evidence. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /** Kill the runs in flight (each is recorded as interrupted) and wait for their records. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.drain();
  }
}
