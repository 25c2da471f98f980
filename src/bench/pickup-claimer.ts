import { parentPort, workerData } from 'node:worker_threads';
import type { Claimed, StorePort } from '../core/store.port.js';
import { sessionName } from '../core/types.js';
import { openPgStore } from '../store/ticket-store.pg.js';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';

// One simulated host claiming todo tickets, in a worker thread of its own with its own store connection (as a
// host's daemon would be): opens the store, says `ready`, and on `go` walks the keys oldest first as
// pickupCandidates orders them, claiming each (claim + recordSpawn with a fake pane and pid: no tmux). A
// conflict means another host took the ticket first, or the store was busy: the ticket is read again and
// claimed again while it is still todo, as the daemon's next pass would.

export interface ClaimerData {
  kind: 'pg' | 'sqlite';
  /** The PostgreSQL URL or the SQLite file. */
  location: string;
  host: string;
  keys: readonly string[];
  /** Claim with claimNextTodo in batches (SKIP LOCKED on PostgreSQL), as the daemon's pickupNext does. */
  next?: boolean;
}

/** Candidates per claimNextTodo call, as MissionControl.pickupNext plans them. */
const NEXT_BATCH = 8;

export interface ClaimerReport {
  claimed: number;
  /** Claims refused because another host had taken the ticket. */
  lost: number;
  /** Claims refused while the ticket was still todo (a busy store, a serialization failure): tried again. */
  retried: number;
  /** Failures that are not a conflict, with their messages (the bench breaks on them). */
  failures: string[];
}

const ev = (key: string, host: string, kind: string) => ({
  ticketKey: key,
  runtimeId: null,
  actor: `bench:${host}`,
  kind,
  status: 'ok' as const,
  summary: kind,
});

async function claimAll(store: StorePort, d: ClaimerData): Promise<ClaimerReport> {
  const r: ClaimerReport = { claimed: 0, lost: 0, retried: 0, failures: [] };
  let pid = 100_000;
  /** Record the claimed runtime as spawned (a fake pane and pid), counting the pickup. */
  const spawned = async (c: Claimed, now: number): Promise<void> => {
    const key = c.ticket.key;
    pid++;
    const rec = await store.recordSpawn({
      runtimeId: c.runtime.id,
      runtimeVersion: c.runtime.version,
      ticketKey: key,
      ticketVersion: c.ticket.version,
      paneId: `%${pid}`,
      identity: { pid, start: pid, bootId: 'bench' },
      now,
      event: ev(key, d.host, 'pickup.spawn'),
    });
    if (rec.ok) r.claimed++;
    else r.failures.push(`recordSpawn ${key}: ${rec.message}`);
  };
  if (d.next === true) {
    // Batches of the oldest keys; a batch every other host has taken answers null and the next one is asked.
    for (let at = 0; at < d.keys.length;) {
      const batch = d.keys.slice(at, at + NEXT_BATCH);
      const now = Date.now();
      const got = await store.claimNextTodo({
        candidates: batch.map((key) => ({
          key,
          ticketVersion: 1,
          runtime: { host: d.host, tmuxSocket: `bench-${d.host}`, tmuxSession: sessionName(key) },
          promptBody: key,
          now,
          event: ev(key, d.host, 'pickup.claim'),
        })),
        labels: [],
      });
      if (!got.ok) {
        if (got.code === 'conflict') {
          r.retried++;
          continue;
        }
        r.failures.push(`claimNextTodo: ${got.message}`);
        break;
      }
      if (got.value === null) {
        at += NEXT_BATCH;
        continue;
      }
      await spawned(got.value, now);
    }
    return r;
  }
  for (const key of d.keys) {
    let version = 1;
    for (;;) {
      const now = Date.now();
      const claimed = await store.claim({
        key,
        ticketVersion: version,
        runtime: { host: d.host, tmuxSocket: `bench-${d.host}`, tmuxSession: sessionName(key) },
        promptBody: key,
        now,
        event: ev(key, d.host, 'pickup.claim'),
      });
      if (!claimed.ok) {
        if (claimed.code !== 'conflict') {
          r.failures.push(`claim ${key}: ${claimed.message}`);
          break;
        }
        const t = await store.getTicket(key);
        if (t?.status !== 'todo') {
          r.lost++;
          break;
        }
        r.retried++;
        version = t.version;
        continue;
      }
      await spawned(claimed.value, now);
      break;
    }
  }
  return r;
}

const port = parentPort;
if (port === null) throw new Error('pickup-claimer runs as a worker thread of the bench');
const data = workerData as ClaimerData;
const store = data.kind === 'pg' ? await openPgStore(data.location, { poolMax: 1 }) : openSqliteStore(data.location);
port.once('message', () => {
  claimAll(store, data).then(
    async (report) => {
      store.close();
      if ('closed' in store) await store.closed();
      port.postMessage({ done: report });
    },
    (e: unknown) => {
      store.close();
      port.postMessage({ done: { claimed: 0, lost: 0, retried: 0, failures: [String(e)] } });
    },
  );
});
port.postMessage({ ready: true });
