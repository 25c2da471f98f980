import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';
import { consoleBuilt, RUN_CONSOLE } from './console-session.js';
import { measureConsoleIdle, measureConsoleKeys, S3, type ConsolePlan } from './console.bench.js';
import { Cleanup, tempDir } from './fixtures.js';
import {
  buildWorld,
  closeClients,
  growTo,
  measureNaive,
  measurePass,
  type PassBreakdown,
  type ReconcilePlan,
  type World,
} from './reconcile.bench.js';
import { measurePg, type PgPlan } from './pg.bench.js';
import { renderBreakdown, renderTable, skippedRow, type ResultRow } from './stats.js';
import { measureGridQuery, measureStore, type StorePlan } from './store.bench.js';

// `npm run bench` (node dist/bench/bench.js [--quick] [--json FILE]): builds throwaway worlds, measures,
// prints one table, and removes every tmux server and temp dir it made, also on errors and Ctrl-C. A missed
// target is reported, never an exit status: the exit code is non-zero only when the bench itself broke.

interface Plan {
  reconcile: ReconcilePlan;
  store: StorePlan;
  console: ConsolePlan;
  /** Live runtimes at which the idle console is measured. */
  idleAt: number;
  pg: PgPlan;
}

/** Live runtimes at which the idle-console target is defined; --quick judges its own `idleAt`. */
const IDLE_TARGET_AT = 500;

const FULL: Plan = {
  reconcile: {
    sizes: [10, 100, 200, 500, 1000],
    naiveSizes: [10, 100, 200],
    totalTickets: 50_000,
    passRuns: 21,
    coldRuns: 3,
    naiveRuns: 5,
    targetSize: 1000,
    naiveTargetSize: 200,
  },
  store: { pickupsPerBatch: 500, pickupBatches: 5, events: 1_000_000, eventTickets: 10_000, queries: 200 },
  console: {
    startupRuns: 5,
    ticketCounts: [100, 10_000],
    scrollKeys: 60,
    filterCycles: 20,
    idleSeconds: 30,
    idleWarmupSeconds: 10,
    idleWindowSeconds: 5,
    targetTickets: 10_000,
  },
  idleAt: 500,
  pg: {
    world: { hosts: 4, perHost: 250, totalTickets: 50_000 },
    passRounds: 11,
    commands: 40,
    pollMs: 1000,
    race: { tickets: 2000, claimers: [1, 2, 4], rounds: 1 },
  },
};

const QUICK: Plan = {
  reconcile: {
    sizes: [10, 100],
    naiveSizes: [10, 100],
    totalTickets: 5_000,
    passRuns: 11,
    coldRuns: 2,
    naiveRuns: 2,
    targetSize: 1000,
    naiveTargetSize: 200,
  },
  store: { pickupsPerBatch: 200, pickupBatches: 3, events: 100_000, eventTickets: 1_000, queries: 100 },
  console: {
    startupRuns: 3,
    ticketCounts: [10_000],
    scrollKeys: 30,
    filterCycles: 10,
    idleSeconds: 5,
    idleWarmupSeconds: 3,
    idleWindowSeconds: 5,
    targetTickets: 10_000,
  },
  idleAt: 100,
  pg: {
    world: { hosts: 4, perHost: 25, totalTickets: 5_000 },
    passRounds: 5,
    commands: 5,
    pollMs: 1000,
    race: { tickets: 100, claimers: [1, 2, 4], rounds: 1 },
  },
};

const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary:
    'Measure the store, reconcile passes, the console, and several hosts over PostgreSQL beside SQLite; print one table.',
  usage: 'node dist/bench/bench.js [--quick] [--json FILE]',
  positionals: [],
  flags: {
    quick: { kind: 'boolean', help: 'the small plan: under a minute, what CI runs' },
    json: { kind: 'string', arg: 'FILE', help: 'also write the results as JSON to FILE' },
  },
};

function parseArgv(argv: readonly string[]): { quick: boolean; json: string | null } {
  const { flags } = parseArgs(argv, BENCH_SPEC, HELP_FLAG);
  if (flags['help']) {
    process.stdout.write(`${helpOf(BENCH_SPEC, HELP_FLAG)}\n`);
    process.exit(0);
  }
  const json = flags['json'];
  if (json === '') throw new UsageError(BENCH_SPEC.name, '--json needs a file name');
  return { quick: flags['quick'] === true, json: typeof json === 'string' ? json : null };
}

function machine(): Record<string, string | number> {
  const model =
    /^model name\s*:\s*(.*)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ??
    cpus()[0]?.model ??
    '?';
  let tmux = '?';
  try {
    tmux = execFileSync('tmux', ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown; section 1 will fail with the reason.
  }
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    date: new Date().toISOString(),
    cpu: model,
    cores: availableParallelism(),
    node: process.version,
    tmux,
    sqlite,
    kernel: release(),
    nodeEnv: process.env['NODE_ENV'] ?? '(unset)',
    loadAtStart: loadavg()[0]?.toFixed(2) ?? '?',
  };
}

const started = performance.now();
let lastStep = 'start';
const progress = (what: string) => {
  lastStep = what;
  process.stderr.write(`bench [${((performance.now() - started) / 1000).toFixed(1)} s] ${what}\n`);
};
let finished = false;

async function run(plan: Plan, cleanup: Cleanup, rows: ResultRow[], breakdowns: PassBreakdown[]): Promise<void> {
  const dir = tempDir(cleanup);
  progress(`section 4: store (${plan.store.events.toLocaleString('en-US')} events)`);
  await measureStore(cleanup, dir, plan.store, rows);

  const built = consoleBuilt();
  const notBuilt = `${RUN_CONSOLE} does not exist yet (src/ui unfinished); run npm run build and the bench again`;
  if (built) {
    progress('section 3: console start-up and keys');
    await measureConsoleKeys(cleanup, dir, plan.console, rows);
  } else {
    rows.push(
      skippedRow(S3, 'process start to first frame', 'ms', notBuilt, { op: '<', limit: 1000 }),
      skippedRow(S3, 'key to frame p95 at 10,000 tickets', 'ms', notBuilt, { op: '<', limit: 50, of: 'p95' }),
      skippedRow(S3, 'idle CPU, console + its children, control client', '% core', notBuilt, { op: '<', limit: 1 }),
      skippedRow(S3, 'idle CPU, console + its children, exec (MCC_TMUX_EXEC=1)', '% core', notBuilt, {
        op: '<',
        limit: 3,
      }),
    );
  }

  const r = plan.reconcile;
  progress(`sections 1-2: store with ${r.totalTickets.toLocaleString('en-US')} tickets`);
  const world: World = await buildWorld(cleanup, dir, r, rows);
  for (const n of r.sizes) {
    progress(`sections 1-2: ${n} live runtimes`);
    await growTo(world, n);
    breakdowns.push(await measurePass(world, n, r, rows));
    if (r.naiveSizes.includes(n)) await measureNaive(world, n, r, rows);
    if (n === plan.idleAt && built) {
      progress(
        `section 3: idle console at ${n} runtimes, control client then exec (${plan.console.idleSeconds} s each)`,
      );
      const target = { db: world.ctx.dbPath, socket: world.tmux.name, config: world.configPath, intervalSeconds: 1 };
      await measureConsoleIdle(cleanup, target, world.tmux, n, r.totalTickets, plan.console, rows, IDLE_TARGET_AT);
    }
  }
  progress("closing the probes' control clients");
  await closeClients(world);
  await measureGridQuery(world.ctx.store, r.totalTickets, world.live, 5, rows);

  progress('section 5: several hosts, PostgreSQL store (starting a throwaway cluster)');
  await measurePg(cleanup, plan.pg, rows, progress);
}

async function main(): Promise<number> {
  const args = parseArgv(process.argv.slice(2));
  const plan = args.quick ? QUICK : FULL;
  // Our tmux calls name their socket; a TMUX inherited from the operator's session must not steer them.
  delete process.env['TMUX'];
  delete process.env['TMUX_PANE'];
  const cleanup = new Cleanup();
  cleanup.onSignals();
  // An await on a promise nothing will settle, with nothing else pending, would end the run silently with
  // exit 0 and leave the servers behind.
  process.on('beforeExit', () => {
    if (finished) return;
    finished = true;
    process.stderr.write(`bench: broke: the event loop emptied with the bench unfinished, during "${lastStep}"\n`);
    cleanup.runAll();
    process.exitCode = 1;
  });
  const info = machine();
  if (Number(info['loadAtStart']) > availableParallelism() / 2) {
    process.stderr.write(
      `bench: the machine is busy (load ${info['loadAtStart']} on ${availableParallelism()} cores): figures will be noisy\n`,
    );
  }
  const rows: ResultRow[] = [];
  const breakdowns: PassBreakdown[] = [];
  let broke: Error | null = null;
  try {
    await run(plan, cleanup, rows, breakdowns);
  } catch (e) {
    broke = e instanceof Error ? e : new Error(String(e));
  } finally {
    cleanup.runAll();
  }
  const left = cleanup.leftovers;
  const elapsed = (performance.now() - started) / 1000;
  rows.sort((a, b) => a.section.localeCompare(b.section));
  const out: string[] = [
    `mcc bench (${args.quick ? 'quick' : 'full'}), ${info['date']}`,
    `machine: ${info['cpu']}, ${info['cores']} cores, node ${info['node']}, ${info['tmux']}, SQLite ${info['sqlite']}, Linux ${info['kernel']}`,
    `load average (1 min) at start ${info['loadAtStart']}, at end ${loadavg()[0]?.toFixed(2)}; NODE_ENV ${info['nodeEnv']} (the console inherits it)`,
    'Each figure: median of repeated runs, with min, max and n; ratios are paired runs of the same bench run.',
    '',
    renderTable(rows),
  ];
  if (breakdowns.length > 0) {
    out.push('', 'Where a steady-state pass spends its time (timing decorators around the real adapters):');
    out.push(renderBreakdown(breakdowns.map((b) => ({ label: `${b.size}`, totalMs: b.totalMs, parts: b.parts }))));
  }
  const judged = rows.filter((r) => r.verdict);
  out.push(
    '',
    `targets: ${judged.filter((r) => r.verdict === 'PASS').length} PASS, ${judged.filter((r) => r.verdict === 'MISS').length} MISS, ${judged.filter((r) => r.verdict === 'SKIP').length} SKIP`,
  );
  for (const r of judged.filter((x) => x.verdict !== 'PASS')) out.push(`  ${r.verdict}: ${r.name}`);
  out.push(
    `cleanup: ${left.length === 0 ? 'every tmux server killed (pid gone, socket file removed) and every temp dir removed' : `LEFT BEHIND: ${left.join(', ')}`}; ${elapsed.toFixed(0)} s in all`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) {
    const breakdown = breakdowns.map((b) => ({ size: b.size, totalMs: b.totalMs, parts: Object.fromEntries(b.parts) }));
    writeFileSync(
      args.json,
      `${JSON.stringify({ mode: args.quick ? 'quick' : 'full', machine: info, elapsedSeconds: elapsed, results: rows, breakdown, error: broke?.message ?? null }, null, 2)}\n`,
    );
  }
  if (broke) {
    process.stderr.write(`bench: broke: ${broke.stack ?? broke.message}\n`);
    return 1;
  }
  return left.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (e: unknown) => {
    finished = true;
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
