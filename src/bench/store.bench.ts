import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openContext } from '../cli/context.js';
import { main } from '../cli/main.js';
import type { Out } from '../cli/output.js';
import { LIST_LIMIT } from '../cli/ticket-commands.js';
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

/** A small deterministic PRNG (mulberry32), so every run reads the same keys (and section 5 waits the same gaps). */
export function prng(seed: number): () => number {
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

/** The console's grid reload (store.overview), the pass's loadActive and `mcc list` on the section-1 store. */
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
      name: `overview() (the console's grid: every ticket, full rows), ${t} tickets, ${live} live`,
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
  await measureList(store.location, tickets, runs, rows);
}

/** The compiled CLI, next to this file's directory in dist/. */
const BIN = join(dirname(fileURLToPath(import.meta.url)), '../cli/bin.js');

/** Wall time of one `node dist/cli/bin.js ...args` until it exits; its output is counted, not kept. */
function processMs(args: readonly string[]): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ ms: performance.now() - t0, bytes });
      else reject(new Error(`bench: mcc ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/**
 * `mcc list` as the operator feels it, on the store at `db`: the default view's page through the service
 * (store query and counts), the whole command in this process (open the store, query, format, close), and the
 * real process (node start, module load, the command); `mcc --help` is the process floor no list can beat.
 */
async function measureList(db: string, tickets: number, runs: number, rows: ResultRow[]): Promise<void> {
  const config = join(dirname(db), 'list-bench.config.json');
  writeFileSync(config, '{}\n', { mode: 0o600 });
  const flags = ['--db', db, '--config', config];
  const opened = await openContext({ db, config, env: process.env, actor: 'bench' });
  if (!opened.ok) throw new Error(`bench: openContext: ${opened.message}`);
  const page: number[] = [];
  const command: number[] = [];
  const proc: number[] = [];
  const floor: number[] = [];
  const json: number[] = [];
  let shown = 0;
  let jsonBytes = 0;
  const sink: Out = { stdout: () => undefined, stderr: (s) => process.stderr.write(s) };
  try {
    const query = { excludeStates: ['done' as const], limit: LIST_LIMIT };
    for (let i = 0; i <= runs; i++) {
      const p = await timed(() => opened.value.service.listPage(query));
      if (!p.value.ok) throw new Error(`bench: listPage: ${p.value.message}`);
      shown = p.value.value.rows.length;
      const c = await timed(() => main(['list', ...flags], process.env, sink));
      if (c.value !== 0) throw new Error(`bench: mcc list in-process exited ${c.value}`);
      const run = await processMs(['list', ...flags]);
      const help = await processMs(['--help']);
      // The first round warms the page cache and the statement cache; it is not a figure.
      if (i === 0) continue;
      page.push(p.ms);
      command.push(c.ms);
      proc.push(run.ms);
      floor.push(help.ms);
    }
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const run = await processMs(['list', '--json', ...flags]);
      json.push(run.ms);
      jsonBytes = run.bytes;
    }
  } finally {
    opened.value.close();
  }
  const t = tickets.toLocaleString('en-US');
  const view = `default view (${shown} tickets not done shown, limit ${LIST_LIMIT}, counts of the rest)`;
  rows.push(
    resultRow({
      section: S4,
      name: `listPage() through the service: mcc list's ${view}, ${t} tickets`,
      unit: 'ms',
      summary: summarize(page),
    }),
    resultRow({
      section: S4,
      name: `mcc list in-process (open store, page, print, close), ${t} tickets`,
      unit: 'ms',
      summary: summarize(command),
      target: { op: '<', limit: 150 },
    }),
    resultRow({
      section: S4,
      name: `mcc list as a process (node dist/cli/bin.js list), ${t} tickets`,
      unit: 'ms',
      summary: summarize(proc),
      note: `process floor (mcc --help: node start + module load) median ${summarize(floor).median.toFixed(0)} ms`,
    }),
    resultRow({
      section: S4,
      name: `mcc list --json as a process (every ticket in full, streamed), ${t} tickets`,
      unit: 'ms',
      summary: summarize(json),
      note: `${(jsonBytes / (1 << 20)).toFixed(1)} MiB of JSON`,
    }),
  );
}
