import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openContext, type McContext } from '../cli/context.js';
import { diagnose } from '../core/diagnose.js';
import { livenessOf, panesBySession } from '../core/liveness.js';
import { MissionControl, type ServiceDeps } from '../core/service.js';
import { ExecaCommandRunner } from '../probes/command-runner.execa.js';
import { ensureTmuxConfig } from '../probes/tmux-config.js';
import { PANE_FORMAT } from '../probes/tmux-protocol.js';
import { TmuxProbe } from '../probes/tmux.probe.js';
import {
  bulkInsertTickets,
  makeLive,
  privateTmux,
  writeBenchConfig,
  type Cleanup,
  type PrivateTmux,
} from './fixtures.js';
import { Stopwatch, TimedRunner, timeMethods, timed } from './instrument.js';
import { pairedRatios, resultRow, summarize, type ResultRow } from './stats.js';

// Sections 1 and 2: the reconcile pass (observe + diagnose, no actions) against the floor of one bare
// `list-panes -a` exec on the same server, and against per-session probing. Sizes grow on one tmux server
// and one store; each size adds real runtimes through the store port.

export const S1 = '1. Reconcile pass (observe + diagnose, dry: no actions)';
export const S2 = '2. Per-session probing (one tmux call per runtime), as naive supervisors do';

export interface ReconcilePlan {
  sizes: number[];
  naiveSizes: number[];
  totalTickets: number;
  passRuns: number;
  coldRuns: number;
  naiveRuns: number;
  /** Sizes at which the targets are defined; the largest measured size stands in for them in --quick. */
  targetSize: number;
  naiveTargetSize: number;
}

export interface World {
  ctx: McContext;
  tmux: PrivateTmux;
  dir: string;
  configPath: string;
  tmuxConfig: string;
  /** Todo tickets made through the port, made live in order. */
  candidates: string[];
  live: number;
}

export interface PassBreakdown {
  size: number;
  totalMs: number;
  /** Median ms per pass of each part, in pass order. */
  parts: Map<string, number>;
}

/** The store (totalTickets tickets: all but the largest size done, with history) and the private server. */
export async function buildWorld(
  cleanup: Cleanup,
  dir: string,
  plan: ReconcilePlan,
  rows: ResultRow[],
): Promise<World> {
  const tmux = privateTmux(cleanup);
  const configPath = writeBenchConfig(dir, tmux.name);
  const tmuxConfig = join(dir, 'tmux.conf');
  ensureTmuxConfig(tmuxConfig);
  const opened = openContext({
    db: join(dir, 'store.db'),
    socket: tmux.name,
    config: configPath,
    env: process.env,
    actor: 'bench',
  });
  if (!opened.ok) throw new Error(`bench: openContext: ${opened.message}`);
  const ctx = opened.value;
  cleanup.add('store', () => ctx.close());
  const maxLive = Math.max(...plan.sizes);
  const history = { host: ctx.deps.host, socket: tmux.name };
  const bulk = await timed(() =>
    bulkInsertTickets(ctx.dbPath, { count: plan.totalTickets - maxLive, status: 'done', history }),
  );
  const candidates: string[] = [];
  const made = await timed(async () => {
    for (let i = 0; i < maxLive; i++) {
      const t = await ctx.store.createTicket({
        title: `bench agent ${i + 1}`,
        body: '',
        profile: 'sleep',
        now: Date.now(),
        actor: 'bench',
      });
      candidates.push(t.key);
    }
  });
  const setup = 'S. Setup (how the store was filled)';
  rows.push(
    resultRow({
      section: setup,
      name: `${(plan.totalTickets - maxLive).toLocaleString('en-US')} done tickets + closed runtimes + events, direct SQLite, one transaction`,
      unit: 's',
      summary: summarize([bulk.ms / 1000]),
    }),
    resultRow({
      section: setup,
      name: `createTicket through the store port (${maxLive} todo tickets)`,
      unit: 'tickets/s',
      summary: summarize([maxLive / (made.ms / 1000)]),
    }),
  );
  return { ctx, tmux, dir, configPath, tmuxConfig, candidates, live: 0 };
}

/** Bring the world to `n` live runtimes (claim, spawn, recordSpawn, prompt delivered) and check a pass agrees. */
export async function growTo(w: World, n: number): Promise<number> {
  const keys = w.candidates.slice(w.live, n);
  const { ms } = await timed(() =>
    makeLive(
      {
        store: w.ctx.store,
        processes: w.ctx.deps.processes,
        tmux: w.tmux,
        host: w.ctx.deps.host,
        tmuxConfig: w.tmuxConfig,
      },
      keys,
    ),
  );
  w.live = n;
  const snap = await w.ctx.service.snapshot();
  const panes = panesBySession(snap.tmux);
  const live = snap.rows.runtimes.filter(
    (r) => livenessOf(r, snap.tmux, panes, snap.processes, snap.where).kind === 'live',
  ).length;
  const drift = diagnose(snap).filter((f) => f.drift !== null);
  if (live !== n || drift.length > 0) {
    throw new Error(
      `bench: world at ${n} is inconsistent: ${live} live runtimes, drift: ${drift
        .map((f) => f.summary)
        .slice(0, 3)
        .join('; ')}`,
    );
  }
  return ms;
}

/** Wall time of one bare tmux exec (node's execFile, no execa) on the server. */
function execMs(socket: string, args: readonly string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, ...args], { maxBuffer: 64 << 20 }, (err) => {
      if (err) reject(new Error(err.message));
      else resolve(performance.now() - t0);
    });
  });
}

/** The floor: one `list-panes -a` with the probe's format, the single tmux call a pass cannot avoid. */
const LIST_PANES = ['list-panes', '-a', '-F', PANE_FORMAT];
/** A tmux call that formats nothing per pane: what a process start and one round trip to the server cost. */
const TRIVIAL = ['display-message', '-p', '#{pid}'];

const captureCalls = new WeakMap<MissionControl, { n: number }>();

/** A service over `deps` whose tmux capture calls are counted (a snapshot also carries cached screens, which cost nothing). */
function countedService(deps: ServiceDeps): MissionControl {
  const counter = { n: 0 };
  const tmux = new Proxy(deps.tmux, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop !== 'capture') return fn.bind(obj);
      return (...args: unknown[]) => {
        counter.n++;
        return fn.apply(obj, args);
      };
    },
  });
  const service = new MissionControl({ ...deps, tmux });
  captureCalls.set(service, counter);
  return service;
}

/** One pass as the console and daemon run it, minus the actions. */
async function pass(service: MissionControl): Promise<{ ms: number; captures: number }> {
  const counter = captureCalls.get(service);
  if (!counter) throw new Error('bench: a pass on a service not made by countedService');
  const before = counter.n;
  const t0 = performance.now();
  const snap = await service.snapshot();
  diagnose(snap);
  return { ms: performance.now() - t0, captures: counter.n - before };
}

/**
 * Passes until one captures nothing: every pane's screen is cached, the steady state of idle agents. The
 * cache re-captures a pane until a capture lands a full second after its last activity (tmux's activity
 * clock has one-second steps), so passes are spaced out while they still capture.
 */
async function warm(service: MissionControl, n: number): Promise<number> {
  const deadline = performance.now() + 30_000 + n * 20;
  for (let passes = 1; performance.now() < deadline; passes++) {
    if ((await pass(service)).captures === 0) return passes;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`bench: capture cache still cold after ${Math.round(30 + n / 50)} s of passes at ${n} runtimes`);
}

const label = (n: number) => `${n.toLocaleString('en-US')} runtimes`;

/** Section 1 at size n: cold pass, warm pass vs floor (interleaved), pass/floor, and the breakdown. */
export async function measurePass(w: World, n: number, plan: ReconcilePlan, rows: ResultRow[]): Promise<PassBreakdown> {
  const cold: number[] = [];
  for (let i = 0; i < plan.coldRuns; i++) cold.push((await pass(countedService(w.ctx.deps))).ms);
  const service = countedService(w.ctx.deps);
  const warmPasses = await warm(service, n);
  const passes: number[] = [];
  const floors: number[] = [];
  const starts: number[] = [];
  for (let i = 0; i < plan.passRuns; i++) {
    floors.push(await execMs(w.tmux.name, LIST_PANES));
    passes.push((await pass(service)).ms);
    starts.push(await execMs(w.tmux.name, TRIVIAL));
  }
  const atTarget = n === plan.targetSize || (n === Math.max(...plan.sizes) && plan.targetSize > n);
  const proxy =
    atTarget && n !== plan.targetSize
      ? `target defined at ${plan.targetSize.toLocaleString('en-US')} runtimes; --quick judges its largest size`
      : undefined;
  rows.push(
    resultRow({
      section: S1,
      name: `first (cold) pass, ${label(n)}: captures up to 64 screens`,
      unit: 'ms',
      summary: summarize(cold),
    }),
    resultRow({
      section: S1,
      name: `pass, ${label(n)} (steady state after ${warmPasses} warm-up passes)`,
      unit: 'ms',
      summary: summarize(passes),
    }),
    resultRow({
      section: S1,
      name: `floor: bare list-panes -a exec, ${label(n)}`,
      unit: 'ms',
      summary: summarize(floors),
    }),
    resultRow({
      section: S1,
      name: `  of which process start + round trip (display-message -p), ${label(n)}`,
      unit: 'ms',
      summary: summarize(starts),
    }),
    resultRow({
      section: S1,
      name: `pass / floor, ${label(n)}`,
      unit: 'x',
      summary: summarize(pairedRatios(passes, floors)),
      ...(atTarget ? { target: { op: '<=', limit: 2 } } : {}),
      ...(proxy ? { note: proxy } : {}),
    }),
  );
  return breakdown(w, n, plan.passRuns);
}

/** Which part of a warm pass costs what, through timing decorators around the real adapters. */
async function breakdown(w: World, n: number, runs: number): Promise<PassBreakdown> {
  const sw = new Stopwatch();
  const deps = w.ctx.deps;
  const tmux = new TmuxProbe({
    socket: w.tmux.name,
    runner: new TimedRunner(new ExecaCommandRunner(), sw),
    configFile: w.tmuxConfig,
  });
  const service = countedService({
    ...deps,
    tmux: timeMethods(tmux, ['observe', 'capture'], (m) => `tmux.${m}`, sw),
    store: timeMethods(deps.store, ['loadActive'], () => 'store.loadActive', sw),
    processes: timeMethods(deps.processes, ['inspect', 'bootId'], () => 'processes', sw),
  });
  await warm(service, n);
  const parts = new Map<string, number[]>();
  const totals: number[] = [];
  const push = (name: string, ms: number) => (parts.get(name) ?? parts.set(name, []).get(name)!).push(ms);
  for (let i = 0; i < runs; i++) {
    sw.reset();
    const t0 = performance.now();
    const snap = await service.snapshot();
    const t1 = performance.now();
    diagnose(snap);
    const total = performance.now() - t0;
    totals.push(total);
    const exec = sw.ms('exec list-panes');
    const known =
      sw.ms('tmux.observe') +
      sw.ms('store.loadActive') +
      sw.ms('processes') +
      sw.ms('tmux.capture') +
      (total - (t1 - t0));
    push('tmux exec: list-panes (execa, process start + output)', exec);
    push('parse list-panes output', sw.ms('tmux.observe') - exec);
    push('store.loadActive (SQLite + row mapping)', sw.ms('store.loadActive'));
    push('/proc identities (pids no live pane vouches for)', sw.ms('processes'));
    push('screen captures (none once warm: no window activity)', sw.ms('tmux.capture'));
    push('diagnose (pure)', total - (t1 - t0));
    push('other (panesBySession, pid set, candidates)', total - known);
  }
  return {
    size: n,
    totalMs: summarize(totals).median,
    parts: new Map([...parts].map(([name, ms]) => [name, summarize(ms).median])),
  };
}

/** Section 2 at size n: one `display-message` per runtime, sequential, vs our warm pass, interleaved. */
export async function measureNaive(w: World, n: number, plan: ReconcilePlan, rows: ResultRow[]): Promise<void> {
  const runner = new ExecaCommandRunner();
  const service = countedService(w.ctx.deps);
  await warm(service, n);
  const format = '#{pane_id} #{pane_pid} #{pane_dead} #{pane_dead_status} #{window_activity} #{@mcc_store}';
  const sessions = w.candidates.slice(0, n).map((k) => `mc-${k}`);
  const naive: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < plan.naiveRuns; i++) {
    const t0 = performance.now();
    for (const s of sessions) {
      const out = await runner.run({
        file: 'tmux',
        args: ['-L', w.tmux.name, 'display-message', '-p', '-t', `=${s}:`, format],
      });
      if (out.exitCode !== 0) throw new Error(`bench: display-message ${s}: ${out.stderr}`);
    }
    naive.push(performance.now() - t0);
    ours.push((await pass(service)).ms);
  }
  const atTarget = n === plan.naiveTargetSize || (n === Math.max(...plan.naiveSizes) && plan.naiveTargetSize > n);
  rows.push(
    resultRow({
      section: S2,
      name: `per-session probing, ${label(n)} (${n} sequential tmux calls)`,
      unit: 'ms',
      summary: summarize(naive),
    }),
    resultRow({
      section: S2,
      name: `our pass, ${label(n)} (same runs, interleaved)`,
      unit: 'ms',
      summary: summarize(ours),
    }),
    resultRow({
      section: S2,
      name: `naive / ours, ${label(n)}`,
      unit: 'x',
      summary: summarize(pairedRatios(naive, ours)),
      ...(atTarget ? { target: { op: '>=', limit: 50 } } : {}),
      ...(atTarget && n !== plan.naiveTargetSize
        ? { note: `target defined at ${plan.naiveTargetSize} runtimes; --quick judges its largest size` }
        : {}),
    }),
  );
}
