import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openContext, type McContext } from '../cli/context.js';
import { MCC_VERSION } from '../cli/host-id.js';
import { diagnose } from '../core/diagnose.js';
import { livenessOf, panesBySession } from '../core/liveness.js';
import { MissionControl } from '../core/service.js';
import type { StorePort } from '../core/store.port.js';
import type { TmuxPort } from '../core/tmux.port.js';
import { sessionName } from '../core/types.js';
import { NodeCommandRunner } from '../probes/command-runner.node.js';
import { ensureTmuxConfig } from '../probes/tmux-config.js';
import { TmuxProbe } from '../probes/tmux.probe.js';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';
import {
  bulkInsertTickets,
  makeLive,
  privateTmux,
  writeBenchConfig,
  type Cleanup,
  type PrivateTmux,
} from './fixtures.js';

// The several-hosts world of section 5: simulated hosts on this machine, each its own host id and private tmux
// server with its share of live `sleep` agents, recorded in TWO stores at once, PostgreSQL and SQLite, with the
// same rows and the same store id (a session carries one store tag). So a pass observed from one host can be
// timed over either store against the very same tmux servers and processes, interleaved in one run.

export type StoreKind = 'pg' | 'sqlite';
export const STORE_KINDS: readonly StoreKind[] = ['pg', 'sqlite'];

export interface SimHost {
  id: string;
  tmux: PrivateTmux;
  /** This host's probe over its control client, shared by both stores' services of the host. */
  probe: TmuxProbe;
  /** The tickets whose agents live on this host. */
  keys: string[];
}

export interface MultiWorld {
  dir: string;
  tmuxConfig: string;
  ctx: Record<StoreKind, McContext>;
  hosts: SimHost[];
}

export interface MultiPlan {
  hosts: number;
  perHost: number;
  /** Tickets in each store, the live ones included (the rest are done, with a closed runtime each). */
  totalTickets: number;
}

/** Host ids of the simulated hosts: bench-h1, bench-h2, ... */
export const hostId = (i: number): string => `bench-h${i + 1}`;

/**
 * Insert `count` tickets straight into a PostgreSQL store in one transaction (set-based: generate_series), with
 * their created events and, for done tickets, a closed runtime each; the same rows as bulkInsertTickets
 * writes into SQLite. Returns the first new seq.
 */
export async function bulkInsertTicketsPg(
  url: string,
  b: { count: number; status: 'todo' | 'done'; history?: { host: string; socket: string } },
  now = Date.now(),
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    const first = Number(
      (await client.query<{ s: string }>('SELECT coalesce(max(seq), 0) + 1 AS s FROM tickets')).rows[0]?.s ?? 1,
    );
    const last = first + b.count - 1;
    const at = new Date(now).toISOString();
    const range = 'generate_series($1::bigint, $2::bigint) AS g';
    await client.query(
      `INSERT INTO tickets (key, seq, title, body, status, profile, attempts, human_input_required, version, created_at, updated_at)
       SELECT 'MC-' || g, g, 'bench ticket ' || g, '', $3, 'sleep', $4, 0, 1, $5, $5 FROM ${range}`,
      [first, last, b.status, b.history ? 1 : 0, at],
    );
    await client.query(
      `INSERT INTO events (at, ticket_key, actor, kind, status, summary)
       SELECT $3, 'MC-' || g, 'bench', 'ticket.created', 'ok', 'created MC-' || g FROM ${range}`,
      [first, last, at],
    );
    if (b.history) {
      const prefix = sessionName('');
      await client.query(
        `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, status, created_at, closed_at, closed_reason, version)
         SELECT 'MC-' || g, $3, $4, $5 || 'MC-' || g, 'closed', $6, $6, 'ticket done', 2 FROM ${range}`,
        [first, last, b.history.host, b.history.socket, prefix, at],
      );
      await client.query(
        `INSERT INTO events (at, ticket_key, actor, kind, status, summary)
         SELECT $3, 'MC-' || g, 'bench', 'ticket.move', 'ok', 'in_review -> done' FROM ${range}`,
        [first, last, at],
      );
    }
    await client.query("UPDATE sequences SET value = greatest(value, $1) WHERE name = 'ticket'", [last]);
    await client.query('COMMIT');
    return first;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every host's heartbeat, in both stores: no host turns UNREACHABLE while the bench measures. */
export async function heartbeatAll(w: MultiWorld): Promise<void> {
  const bootId = await w.ctx.pg.deps.processes.bootId();
  for (const kind of STORE_KINDS)
    for (const h of w.hosts) {
      const res = await w.ctx[kind].store.heartbeatHost({
        id: h.id,
        bootId,
        version: MCC_VERSION,
        tmuxSocket: h.tmux.name,
        epoch: 1,
        now: Date.now(),
      });
      if (!res.ok) throw new Error(`bench: heartbeat ${h.id} (${kind}): ${res.message}`);
    }
}

/**
 * A service as host `h`'s daemon runs it over the store of `kind` (or `store`, a wrapper of it): the host's
 * id, socket and tmux probe.
 */
export function hostService(
  w: MultiWorld,
  kind: StoreKind,
  h: SimHost,
  store: StorePort = w.ctx[kind].store,
  tmux: TmuxPort = h.probe,
): MissionControl {
  const ctx = w.ctx[kind];
  return new MissionControl({
    ...ctx.deps,
    store,
    tmux,
    host: h.id,
    hostAliases: [],
    config: { ...ctx.config, socket: h.tmux.name },
  });
}

/** Open both stores with one store id; fill each with the same done tickets and the same todo ones. */
async function openStores(
  cleanup: Cleanup,
  dir: string,
  pgUrl: string,
  plan: MultiPlan,
  history: { host: string; socket: string },
): Promise<{ ctx: Record<StoreKind, McContext>; todo: string[] }> {
  const configPath = writeBenchConfig(dir, history.socket);
  const open = async (db: string): Promise<McContext> => {
    const opened = await openContext({
      db,
      config: configPath,
      host: history.host,
      env: process.env,
      actor: 'bench',
      tmuxExec: true,
    });
    if (!opened.ok) throw new Error(`bench: openContext ${db}: ${opened.message}`);
    cleanup.add(`store ${opened.value.dbPath}`, () => opened.value.close());
    return opened.value;
  };
  const pgCtx = await open(pgUrl);
  const sqlitePath = join(dir, 'several-hosts.db');
  openSqliteStore(sqlitePath).close();
  const db = new Database(sqlitePath);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'store_id'").run(pgCtx.store.storeId);
  db.close();
  const sqliteCtx = await open(sqlitePath);
  const live = plan.hosts * plan.perHost;
  const done = { count: plan.totalTickets - live, status: 'done' as const, history };
  bulkInsertTickets(sqlitePath, done);
  await bulkInsertTicketsPg(pgUrl, done);
  const todo: string[] = [];
  for (let i = 0; i < live; i++) {
    const input = { title: `bench agent ${i + 1}`, body: '', profile: 'sleep', now: Date.now(), actor: 'bench' };
    const [a, b] = [await pgCtx.store.createTicket(input), await sqliteCtx.store.createTicket(input)];
    if (a.key !== b.key) throw new Error(`bench: the two stores diverged: ${a.key} vs ${b.key}`);
    todo.push(a.key);
  }
  return { ctx: { pg: pgCtx, sqlite: sqliteCtx }, todo };
}

/**
 * Build the world: both stores, then per host a private tmux server and `perHost` live agents recorded in both
 * stores; heartbeats; and a check that a pass from each host over each store sees its own agents live and no
 * drift. Everything is registered with `cleanup`.
 */
export async function buildMultiWorld(
  cleanup: Cleanup,
  dir: string,
  pgUrl: string,
  plan: MultiPlan,
): Promise<MultiWorld> {
  const tmuxConfig = join(dir, 'tmux.conf');
  ensureTmuxConfig(tmuxConfig);
  const servers = Array.from({ length: plan.hosts }, () => privateTmux(cleanup, 'mcc-bench-host'));
  const { ctx, todo } = await openStores(cleanup, dir, pgUrl, plan, {
    host: hostId(0),
    socket: (servers[0] as PrivateTmux).name,
  });
  const hosts: SimHost[] = servers.map((tmux, i) => {
    // Over the control client, as section 1's headline pass (the bench forces it whatever the tmux version).
    const probe = new TmuxProbe({
      socket: tmux.name,
      runner: new NodeCommandRunner(),
      configFile: tmuxConfig,
      mode: 'control',
    });
    cleanup.add(`control client of ${hostId(i)}`, () => void probe.close());
    return { id: hostId(i), tmux, probe, keys: todo.slice(i * plan.perHost, (i + 1) * plan.perHost) };
  });
  for (const h of hosts) {
    await makeLive(
      {
        store: ctx.pg.store,
        mirrors: [ctx.sqlite.store],
        processes: ctx.pg.deps.processes,
        tmux: h.tmux,
        host: h.id,
        tmuxConfig,
      },
      h.keys,
    );
  }
  const w: MultiWorld = { dir, tmuxConfig, ctx, hosts };
  await heartbeatAll(w);
  for (const kind of STORE_KINDS)
    for (const h of hosts) {
      const snap = await hostService(w, kind, h).snapshot();
      const panes = panesBySession(snap.tmux);
      const live = snap.rows.runtimes.filter(
        (r) => livenessOf(r, snap.tmux, panes, snap.processes, snap.where).kind === 'live',
      ).length;
      const drift = diagnose(snap).filter((f) => f.drift !== null);
      if (live !== plan.perHost || drift.length > 0 || snap.rows.runtimes.length !== plan.hosts * plan.perHost)
        throw new Error(
          `bench: several-hosts world from ${h.id} over ${kind} is inconsistent: ${live} live of its own, ` +
            `${snap.rows.runtimes.length} open runtimes, drift: ${drift
              .map((f) => f.summary)
              .slice(0, 3)
              .join('; ')}`,
        );
    }
  return w;
}

/** Close the hosts' control clients, holding the event loop meanwhile (see closeClients in reconcile.bench). */
export async function closeHostClients(w: MultiWorld): Promise<void> {
  const hold = setInterval(() => undefined, 1000);
  try {
    await Promise.all(w.hosts.map((h) => h.probe.close()));
  } finally {
    clearInterval(hold);
  }
}
