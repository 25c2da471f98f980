import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openContext, type McContext } from '../cli/context.js';
import { diagnose } from '../core/diagnose.js';
import { livenessOf, panesBySession } from '../core/liveness.js';
import type { CommandRunner } from '../core/command-runner.port.js';
import { MissionControl, type ServiceDeps } from '../core/service.js';
import type { TmuxPort } from '../core/tmux.port.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, NodeCommandRunner } from '../probes/command-runner.node.js';
import { ensureTmuxConfig } from '../probes/tmux-config.js';
import { TmuxControlClient } from '../probes/tmux-control.js';
import { PANE_FORMAT, parsePaneList } from '../probes/tmux-protocol.js';
import { TmuxProbe } from '../probes/tmux.probe.js';
import {
  bulkInsertTickets,
  makeLive,
  privateTmux,
  writeBenchConfig,
  type Cleanup,
  type PrivateTmux,
} from './fixtures.js';
import { CountingRunner, Stopwatch, timeMethods, timed } from './instrument.js';
import { pairedRatios, resultRow, summarize, type ResultRow } from './stats.js';

// Sections 1 and 2: the reconcile pass (observe + diagnose, no actions) over the persistent tmux control client
// and over exec (one tmux process per command, `--tmux-exec`), each against its floor: one `list-panes -a`
// over an open control client, one bare `list-panes -a` exec. Then against per-session probing. Sizes grow on
// one tmux server and one store; each size adds real runtimes through the store port.

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
  /** The probe as the console runs it: commands over its control client, exec when that is not there. */
  control: TmuxProbe;
  /** Under `control`: every command that reaches it is an exec fallback. */
  fallbacks: CountingRunner;
  /** The probe as `--tmux-exec` runs it. */
  exec: TmuxProbe;
  /** A control client of the bench's own (same class and options as the probe's), for the floor. */
  floor: TmuxControlClient;
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
  // The context's own probe only checks each size's world: exec, so it adds no control client to the server.
  const opened = await openContext({
    db: join(dir, 'store.db'),
    socket: tmux.name,
    config: configPath,
    env: process.env,
    actor: 'bench',
    tmuxExec: true,
  });
  if (!opened.ok) throw new Error(`bench: openContext: ${opened.message}`);
  const ctx = opened.value;
  cleanup.add('store', () => ctx.close());
  const fallbacks = new CountingRunner(new NodeCommandRunner());
  const probe = (mode: 'control' | 'exec', runner: CommandRunner = new NodeCommandRunner()) =>
    new TmuxProbe({ socket: tmux.name, runner, configFile: tmuxConfig, mode });
  const control = probe('control', fallbacks);
  const exec = probe('exec');
  const floor = new TmuxControlClient({ bin: 'tmux', socket: tmux.name, timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS });
  // Should the bench break, the server's kill ends the clients anyway; closeClients is the orderly way.
  cleanup.add('control clients', () => {
    void control.close();
    void floor.close();
  });
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
  return { ctx, tmux, dir, configPath, tmuxConfig, candidates, live: 0, control, fallbacks, exec, floor };
}

/**
 * Close the probes' control clients (`close()`) and check the server has no control client left: a bench
 * that leaves one has found a bug, and says so by breaking.
 */
export async function closeClients(w: World): Promise<void> {
  // close() waits for tmux to exit on timers that do not hold the event loop (a one-shot command must not
  // wait for its client): with nothing else pending, node would exit mid-await. Hold the loop meanwhile.
  const hold = setInterval(() => undefined, 1000);
  try {
    await Promise.all([w.control.close(), w.exec.close(), w.floor.close()]);
  } finally {
    clearInterval(hold);
  }
  const deadline = performance.now() + 3000;
  let left: string[] = [];
  do {
    const out = await w.tmux.run(['list-clients', '-F', '#{client_pid} #{client_control_mode}']);
    left = out.split('\n').filter((l) => l.endsWith(' 1'));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  } while (performance.now() < deadline);
  throw new Error(
    `bench: ${left.length} tmux control client(s) still attached 3 s after close(): pids ${left.map((l) => l.split(' ')[0]).join(', ')}`,
  );
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

/** Wall time of one command over an open control client, and its output. */
async function controlRun(client: TmuxControlClient, args: readonly string[]): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const r = await client.run(args);
  const ms = performance.now() - t0;
  if (r.kind !== 'answered') throw new Error(`bench: control client: ${r.kind}: ${r.reason}`);
  if (r.outcome.exitCode !== 0) throw new Error(`bench: control client: ${args[0]}: ${r.outcome.stderr.trim()}`);
  return { ms, out: r.outcome.stdout };
}

/** The floor: one `list-panes -a` with the probe's format, the single tmux call a pass cannot avoid. */
const LIST_PANES = ['list-panes', '-a', '-F', PANE_FORMAT];
/** A tmux call that formats nothing per pane: what a process start and one round trip to the server cost. */
const TRIVIAL = ['display-message', '-p', '#{pid}'];

type Mode = 'control' | 'exec';

/**
 * A service over the world whose tmux calls go to the control or the exec probe, as `mode` says at the time of
 * the call, with its captures counted. One service, one screen cache: both modes see the same steady state.
 */
interface PassService {
  service: MissionControl;
  mode: Mode;
  captures: number;
}

function passService(w: World, probes: Record<Mode, TmuxPort> = w, deps: ServiceDeps = w.ctx.deps): PassService {
  const ps = { mode: 'control', captures: 0 } as PassService;
  const tmux = new Proxy(probes.control, {
    get(_target, prop) {
      const probe = probes[ps.mode];
      const value = Reflect.get(probe, prop, probe) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => unknown).bind(probe);
      if (prop !== 'capture') return fn;
      return (...args: unknown[]) => {
        ps.captures++;
        return fn(...args);
      };
    },
  });
  ps.service = new MissionControl({ ...deps, tmux });
  return ps;
}

/** One pass as the console and daemon run it, minus the actions. */
async function pass(ps: PassService, mode: Mode = 'control'): Promise<{ ms: number; captures: number }> {
  ps.mode = mode;
  const before = ps.captures;
  const t0 = performance.now();
  const snap = await ps.service.snapshot();
  diagnose(snap);
  return { ms: performance.now() - t0, captures: ps.captures - before };
}

/**
 * Passes until one captures nothing: every pane's screen is cached, the steady state of idle agents. The
 * cache re-captures a pane until a capture lands a full second after its last activity (tmux's activity
 * clock has one-second steps), so passes are spaced out while they still capture.
 */
async function warm(ps: PassService, n: number): Promise<number> {
  const deadline = performance.now() + 30_000 + n * 20;
  for (let passes = 1; performance.now() < deadline; passes++) {
    if ((await pass(ps)).captures === 0) return passes;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`bench: capture cache still cold after ${Math.round(30 + n / 50)} s of passes at ${n} runtimes`);
}

const label = (n: number) => `${n.toLocaleString('en-US')} runtimes`;

/**
 * Section 1 at size n: cold passes; then, interleaved, the steady pass over the control client and over exec
 * with their floors; the ratios; and the breakdown.
 */
export async function measurePass(w: World, n: number, plan: ReconcilePlan, rows: ResultRow[]): Promise<PassBreakdown> {
  const cold: number[] = [];
  for (let i = 0; i < plan.coldRuns; i++) cold.push((await pass(passService(w))).ms);
  const ps = passService(w);
  const warmPasses = await warm(ps, n);
  await controlRun(w.floor, TRIVIAL); // attached before the first timed call
  const fallbacksBefore = w.fallbacks.calls();
  const m = { control: [] as number[], exec: [] as number[] };
  const floors = { control: [] as number[], exec: [] as number[] };
  const starts: number[] = [];
  const recaptured = { control: 0, exec: 0 };
  const floorOf: Record<Mode, () => Promise<number>> = {
    control: async () => (await controlRun(w.floor, LIST_PANES)).ms,
    exec: () => execMs(w.tmux.name, LIST_PANES),
  };
  for (let i = 0; i < plan.passRuns; i++) {
    // Each pass right after its own floor, so a ratio pairs calls made in the same conditions (an exec just
    // before slows what follows); which mode goes first alternates.
    for (const mode of i % 2 === 0 ? (['control', 'exec'] as const) : (['exec', 'control'] as const)) {
      floors[mode].push(await floorOf[mode]());
      const r = await pass(ps, mode);
      m[mode].push(r.ms);
      recaptured[mode] += r.captures;
    }
    starts.push(await execMs(w.tmux.name, TRIVIAL));
  }
  const fallbacks = w.fallbacks.calls() - fallbacksBefore;
  const atTarget = n === plan.targetSize || (n === Math.max(...plan.sizes) && plan.targetSize > n);
  const judged = (limit: number) => (atTarget ? { target: { op: '<=' as const, limit } } : {});
  const proxy =
    atTarget && n !== plan.targetSize
      ? {
          note: `target defined at ${plan.targetSize.toLocaleString('en-US')} runtimes; --quick judges its largest size`,
        }
      : {};
  rows.push(
    resultRow({
      section: S1,
      name: `first (cold) pass, ${label(n)}, control client: captures up to 64 screens`,
      unit: 'ms',
      summary: summarize(cold),
    }),
    resultRow({
      section: S1,
      name: `steady pass, ${label(n)}, control client`,
      unit: 'ms',
      summary: summarize(m.control),
      note: `steady state after ${warmPasses} warm-up passes; screens captured during the timed passes: ${recaptured.control} here, ${recaptured.exec} in the exec ones; exec fallbacks during these passes: ${fallbacks} (${w.fallbacks.calls()} since the start)`,
    }),
    resultRow({
      section: S1,
      name: `steady pass, ${label(n)}, exec (--tmux-exec: a tmux process per command)`,
      unit: 'ms',
      summary: summarize(m.exec),
    }),
    resultRow({
      section: S1,
      name: `floor: one list-panes -a over the open control client, ${label(n)}`,
      unit: 'ms',
      summary: summarize(floors.control),
    }),
    resultRow({
      section: S1,
      name: `floor: bare list-panes -a exec, ${label(n)}`,
      unit: 'ms',
      summary: summarize(floors.exec),
    }),
    resultRow({
      section: S1,
      name: `  of which process start + round trip (display-message -p exec), ${label(n)}`,
      unit: 'ms',
      summary: summarize(starts),
    }),
    resultRow({
      section: S1,
      name: `control pass / one list-panes over the open client, ${label(n)}`,
      unit: 'x',
      summary: summarize(pairedRatios(m.control, floors.control)),
      ...judged(2),
      ...proxy,
    }),
    resultRow({
      section: S1,
      name: `exec pass / one bare list-panes exec, ${label(n)}`,
      unit: 'x',
      summary: summarize(pairedRatios(m.exec, floors.exec)),
      ...judged(2),
      ...proxy,
    }),
    resultRow({
      section: S1,
      name: `control pass / exec pass, ${label(n)}`,
      unit: 'x',
      summary: summarize(pairedRatios(m.control, m.exec)),
    }),
  );
  return breakdown(w, n, plan.passRuns);
}

/** Which part of a warm pass over the control client costs what, through timing decorators around the real adapters. */
async function breakdown(w: World, n: number, runs: number): Promise<PassBreakdown> {
  const sw = new Stopwatch();
  const deps = w.ctx.deps;
  const ps = passService(
    w,
    { control: timeMethods(w.control, ['observe', 'capture'], (m) => `tmux.${m}`, sw), exec: w.exec },
    {
      ...deps,
      store: timeMethods(deps.store, ['loadActive'], () => 'store.loadActive', sw),
      processes: timeMethods(deps.processes, ['inspect', 'bootId'], () => 'processes', sw),
    },
  );
  await warm(ps, n);
  // The same text a pass parses, parsed apart: observe() over the client is round trip and parse together.
  const listed = (await controlRun(w.floor, LIST_PANES)).out;
  const parts = new Map<string, number[]>();
  const totals: number[] = [];
  const push = (name: string, ms: number) => (parts.get(name) ?? parts.set(name, []).get(name)!).push(ms);
  for (let i = 0; i < runs; i++) {
    sw.reset();
    const t0 = performance.now();
    const snap = await ps.service.snapshot();
    const t1 = performance.now();
    diagnose(snap);
    const total = performance.now() - t0;
    totals.push(total);
    const p0 = performance.now();
    parsePaneList(listed);
    const parse = performance.now() - p0;
    const known =
      sw.ms('tmux.observe') +
      sw.ms('store.loadActive') +
      sw.ms('processes') +
      sw.ms('tmux.capture') +
      (total - (t1 - t0));
    push('tmux: list-panes over the control client (write, answer, read)', sw.ms('tmux.observe') - parse);
    push('parse list-panes output (timed apart, same text)', parse);
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
  const runner = new NodeCommandRunner();
  const ps = passService(w);
  await warm(ps, n);
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
    ours.push((await pass(ps)).ms);
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
      name: `our pass over the control client, ${label(n)} (same runs, interleaved)`,
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
