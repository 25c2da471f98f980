import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';
import { openPgStore } from '../store/ticket-store.pg.js';
import type { StorePort } from '../core/store.port.js';
import { bulkInsertTickets, type Cleanup } from './fixtures.js';
import type { ClaimerData, ClaimerReport } from './pickup-claimer.js';
import { bulkInsertTicketsPg, hostId, STORE_KINDS, type StoreKind } from './pg-world.js';
import { resultRow, summarize, type ResultRow } from './stats.js';

// Section 5, pickups: several hosts claiming todo tickets from one store at once. Each claimer is a worker
// thread with its own connection (pickup-claimer.ts), claiming through the store port (claim + recordSpawn, a
// fake pane and pid: no tmux). Measured: tickets claimed per second by all of them together, from the moment
// they are told to go until the last one is done, and how often a claim lost to another host.

export interface PickupRacePlan {
  /** Todo tickets per run. */
  tickets: number;
  claimers: number[];
  rounds: number;
}

const ORDERS: readonly Order[] = ['same', 'shares', 'next'];

interface Run {
  rate: number;
  lost: number;
  retried: number;
}

function startClaimer(data: ClaimerData): { ready: Promise<void>; done: Promise<ClaimerReport>; go(): void } {
  const worker = new Worker(new URL('./pickup-claimer.js', import.meta.url), { workerData: data });
  let onReady: () => void = () => undefined;
  let onDone: (r: ClaimerReport) => void = () => undefined;
  let onError: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onError = reject;
  });
  const done = new Promise<ClaimerReport>((resolve, reject) => {
    onDone = resolve;
    const prev = onError;
    onError = (e) => {
      prev(e);
      reject(e);
    };
  });
  // Whichever promise nobody awaits yet must not turn a failure into an unhandled rejection.
  ready.catch(() => undefined);
  done.catch(() => undefined);
  worker.on('message', (m: { ready?: true; done?: ClaimerReport }) => {
    if (m.ready) onReady();
    if (m.done) {
      onDone(m.done);
      void worker.terminate();
    }
  });
  worker.on('error', (e) => onError(e));
  worker.on('exit', (code) => onError(new Error(`claimer ${data.host} exited (${code}) before it reported`)));
  return { ready, done, go: () => worker.postMessage('go') };
}

/**
 * How the hosts walk the tickets: `same`, all of them oldest first (as `--auto --pickup` orders its candidates
 * today: every ticket is raced for); `shares`, each its own interleaved share (no two ever want the same
 * ticket: the store's concurrent write throughput); `next`, all of them claiming with claimNextTodo (SKIP LOCKED
 * on PostgreSQL), as `--auto --pickup` does since hosts share a store.
 */
type Order = 'same' | 'shares' | 'next';

const ORDER_TEXT: Record<Order, string> = {
  same: 'all oldest first, claim by key',
  shares: 'each its own share',
  next: 'claimNextTodo (SKIP LOCKED), as the daemon',
};

/** One race: `n` hosts over `keys`; checks every ticket got exactly one runtime. */
async function race(
  kind: StoreKind,
  location: string,
  store: StorePort,
  keys: string[],
  n: number,
  order: Order,
): Promise<Run> {
  const claimers = Array.from({ length: n }, (_, i) =>
    startClaimer({
      kind,
      location,
      host: hostId(i),
      keys: order === 'shares' ? keys.filter((_, j) => j % n === i) : keys,
      next: order === 'next',
    }),
  );
  await Promise.all(claimers.map((c) => c.ready));
  const t0 = performance.now();
  for (const c of claimers) c.go();
  const reports = await Promise.all(claimers.map((c) => c.done));
  const ms = performance.now() - t0;
  const failures = reports.flatMap((r) => r.failures);
  if (failures.length > 0) throw new Error(`bench: pickups over ${kind}: ${failures.slice(0, 3).join('; ')}`);
  const claimed = reports.reduce((a, r) => a + r.claimed, 0);
  const wanted = new Set(keys);
  const open = (await store.loadActive([])).runtimes.filter((r) => wanted.has(r.ticketKey));
  const distinct = new Set(open.map((r) => r.ticketKey)).size;
  if (claimed !== keys.length || open.length !== keys.length || distinct !== keys.length)
    throw new Error(
      `bench: pickups over ${kind} with ${n} claimers: ${claimed} claims, ${open.length} open runtimes over ` +
        `${distinct} tickets, for ${keys.length} tickets`,
    );
  return {
    rate: keys.length / (ms / 1000),
    lost: reports.reduce((a, r) => a + r.lost, 0),
    retried: reports.reduce((a, r) => a + r.retried, 0),
  };
}

/** Pickups per second with 1..n hosts claiming, PostgreSQL and SQLite interleaved, one row per store and count. */
export async function measurePickupRace(
  cleanup: Cleanup,
  dir: string,
  pgUrl: string,
  plan: PickupRacePlan,
  section: string,
  rows: ResultRow[],
): Promise<void> {
  const sqlitePath = join(dir, 'pickup-race.db');
  const stores: Record<StoreKind, StorePort> = { pg: await openPgStore(pgUrl), sqlite: openSqliteStore(sqlitePath) };
  cleanup.add('pickup race stores', () => {
    stores.pg.close();
    stores.sqlite.close();
  });
  const fill: Record<StoreKind, () => Promise<number>> = {
    pg: () => bulkInsertTicketsPg(pgUrl, { count: plan.tickets, status: 'todo' }),
    sqlite: () => Promise.resolve(bulkInsertTickets(sqlitePath, { count: plan.tickets, status: 'todo' })),
  };
  const location: Record<StoreKind, string> = { pg: pgUrl, sqlite: sqlitePath };
  const runs = new Map<string, Run[]>();
  const cases = plan.claimers.flatMap((n): { n: number; order: Order }[] =>
    n === 1 ? [{ n, order: 'same' }] : ORDERS.map((order) => ({ n, order })),
  );
  for (let round = 0; round < plan.rounds; round++)
    for (const { n, order } of cases)
      for (const kind of round % 2 === 0 ? STORE_KINDS : [...STORE_KINDS].reverse()) {
        const first = await fill[kind]();
        const keys = Array.from({ length: plan.tickets }, (_, i) => `MC-${first + i}`);
        const id = `${kind} ${n} ${order}`;
        const run = await race(kind, location[kind], stores[kind], keys, n, order);
        (runs.get(id) ?? runs.set(id, []).get(id)!).push(run);
      }
  for (const kind of STORE_KINDS)
    for (const { n, order } of cases) {
      const r = runs.get(`${kind} ${n} ${order}`) ?? [];
      const lost = r.reduce((a, x) => a + x.lost, 0);
      const retried = r.reduce((a, x) => a + x.retried, 0);
      const how = n === 1 ? '1 host claiming' : `${n} hosts claiming, ${ORDER_TEXT[order]}`;
      rows.push(
        resultRow({
          section,
          name: `pickups, ${how}, ${kind === 'pg' ? 'PostgreSQL' : 'SQLite'}, ${plan.tickets.toLocaleString('en-US')} todo tickets`,
          unit: 'pickups/s',
          summary: summarize(r.map((x) => x.rate)),
          ...(n > 1
            ? {
                note: `claims lost to another host: ${lost} in ${r.length} run(s); refused while still todo and retried: ${retried}`,
              }
            : {}),
        }),
      );
    }
  stores.pg.close();
  stores.sqlite.close();
}
