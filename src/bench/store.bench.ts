import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { StorePort } from '../core/store.port.js';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';
import { bulkInsertTickets, type Cleanup } from './fixtures.js';
import { timed } from './instrument.js';
import { resultRow, summarize, type ResultRow } from './stats.js';

// Section 4: the store on its own. Pickups per second through the port (claim + recordSpawn, each one
// compare-and-set transaction with its event), and the activity log's read cost after a million rows.

export const S4 = '4. Store (SQLite, WAL, synchronous=NORMAL)';

export interface StorePlan {
  pickupsPerBatch: number;
  pickupBatches: number;
  events: number;
  eventTickets: number;
  queries: number;
}

/** A small deterministic PRNG (mulberry32), so every run reads the same keys. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ev = (key: string, kind: string) => ({
  ticketKey: key,
  runtimeId: null,
  actor: 'bench',
  kind,
  status: 'ok' as const,
  summary: kind,
});

/** Pickups per second: claim then recordSpawn with a fake pane and pid, as the service does after tmux answers. */
async function pickups(cleanup: Cleanup, dir: string, plan: StorePlan, rows: ResultRow[]): Promise<void> {
  const path = join(dir, 'pickups.db');
  const store = openSqliteStore(path);
  cleanup.add('pickups store', () => store.close());
  const first = bulkInsertTickets(path, { count: plan.pickupsPerBatch * plan.pickupBatches, status: 'todo' });
  const rates: number[] = [];
  let seq = first;
  for (let b = 0; b < plan.pickupBatches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < plan.pickupsPerBatch; i++, seq++) {
      const key = `MC-${seq}`;
      const now = Date.now();
      const claimed = await store.claim({
        key,
        ticketVersion: 1,
        runtime: { host: 'bench', tmuxSocket: 'bench', tmuxSession: `mc-${key}` },
        promptBody: key,
        now,
        event: ev(key, 'pickup.claim'),
      });
      if (!claimed.ok) throw new Error(`bench: claim ${key}: ${claimed.message}`);
      const { runtime, ticket } = claimed.value;
      const rec = await store.recordSpawn({
        runtimeId: runtime.id,
        runtimeVersion: runtime.version,
        ticketKey: key,
        ticketVersion: ticket.version,
        paneId: `%${seq}`,
        identity: { pid: 100_000 + seq, start: seq, bootId: 'bench' },
        now,
        event: ev(key, 'pickup.spawn'),
      });
      if (!rec.ok) throw new Error(`bench: recordSpawn ${key}: ${rec.message}`);
    }
    rates.push(plan.pickupsPerBatch / ((performance.now() - t0) / 1000));
  }
  rows.push(
    resultRow({
      section: S4,
      name: `pickups through the store port (claim + recordSpawn: 2 CAS transactions, 2 events), batches of ${plan.pickupsPerBatch}`,
      unit: 'pickups/s',
      summary: summarize(rates),
    }),
  );
  store.close();
}

const EVENTS_OF_TICKET = 'SELECT * FROM events WHERE ticket_key = ? ORDER BY id DESC LIMIT ?';

/** Read cost of a ticket's activity after `plan.events` rows, and whether the plan uses the index. */
async function activity(cleanup: Cleanup, dir: string, plan: StorePlan, rows: ResultRow[]): Promise<void> {
  const path = join(dir, 'events.db');
  openSqliteStore(path).close();
  const first = bulkInsertTickets(path, { count: plan.eventTickets, status: 'done' });
  const rnd = prng(42);
  const keyAt = () => `MC-${first + Math.floor(rnd() * plan.eventTickets)}`;
  const fill = await timed(() => {
    const db = new Database(path);
    try {
      const at = new Date().toISOString();
      const insert = db.prepare(
        `INSERT INTO events (at, ticket_key, runtime_id, actor, kind, status, summary) VALUES (?, ?, NULL, 'bench', 'reconcile.warning', 'warning', ?)`,
      );
      db.transaction(() => {
        for (let i = 0; i < plan.events; i++) insert.run(at, keyAt(), `bench event ${i}`);
      })();
      const plans = db.prepare(`EXPLAIN QUERY PLAN ${EVENTS_OF_TICKET}`).all('MC-1', 50) as { detail: string }[];
      return plans.map((p) => p.detail).join('; ');
    } finally {
      db.close();
    }
  });
  const store: StorePort = openSqliteStore(path);
  cleanup.add('events store', () => store.close());
  const sample = async (fn: (key: string) => Promise<unknown>): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < plan.queries; i++) {
      const key = keyAt();
      out.push((await timed(() => fn(key))).ms);
    }
    return out;
  };
  await sample((k) => store.ticketDetail(k));
  const detail = await sample((k) => store.ticketDetail(k));
  const listed = await sample((k) => store.listEvents({ ticketKey: k, limit: 50 }));
  const global = await sample(() => store.listEvents({ limit: 50 }));
  store.close();
  const indexed = /USING (COVERING )?INDEX events_ticket/.test(fill.value) && !/TEMP B-TREE/.test(fill.value);
  const n = plan.events.toLocaleString('en-US');
  rows.push(
    resultRow({
      section: S4,
      name: `insert ${n} event rows directly in SQLite (one prepared statement, one transaction; not through the port)`,
      unit: 's',
      summary: summarize([fill.ms / 1000]),
    }),
    resultRow({
      section: S4,
      name: `ticketDetail(key) after ${n} events (ticket, runtimes, messages, 200 events)`,
      unit: 'ms',
      summary: summarize(detail),
      showP95: true,
    }),
    resultRow({
      section: S4,
      name: `listEvents({ ticketKey, limit: 50 }) after ${n} events`,
      unit: 'ms',
      summary: summarize(listed),
      showP95: true,
      note: `query plan: ${fill.value} -> ${indexed ? 'uses the index, no sort' : 'DOES NOT use events_ticket (or sorts)'}`,
    }),
    resultRow({
      section: S4,
      name: `listEvents({ limit: 50 }) (whole log) after ${n} events`,
      unit: 'ms',
      summary: summarize(global),
      showP95: true,
    }),
  );
}

/** Section 4: pickups, then the activity log at size. */
export async function measureStore(cleanup: Cleanup, dir: string, plan: StorePlan, rows: ResultRow[]): Promise<void> {
  await pickups(cleanup, dir, plan, rows);
  await activity(cleanup, dir, plan, rows);
}

/** The console's grid reload (store.overview) and the pass's loadActive on the section-1 store. */
export async function measureGridQuery(
  store: StorePort,
  tickets: number,
  live: number,
  runs: number,
  rows: ResultRow[],
): Promise<void> {
  const overview: number[] = [];
  const active: number[] = [];
  const versions: number[] = [];
  for (let i = 0; i < runs; i++) {
    overview.push((await timed(() => store.overview())).ms);
    active.push((await timed(() => store.loadActive([]))).ms);
    versions.push((await timed(() => store.ticketVersions())).ms);
  }
  const t = tickets.toLocaleString('en-US');
  rows.push(
    resultRow({
      section: S4,
      name: `overview() (mcc list: every ticket, full rows), ${t} tickets, ${live} live`,
      unit: 'ms',
      summary: summarize(overview),
    }),
    resultRow({
      section: S4,
      name: `ticketVersions() (the console's check for changed tickets), ${t} tickets`,
      unit: 'ms',
      summary: summarize(versions),
    }),
    resultRow({
      section: S4,
      name: `loadActive() (a pass's store read), ${t} tickets, ${live} live`,
      unit: 'ms',
      summary: summarize(active),
    }),
  );
}
