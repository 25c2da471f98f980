// `npm run soak -- --minutes N --seed S`: a chaos soak of the real binary. On a private tmux socket and a
// throwaway store (on its own small tmpfs), an `mcc --auto --pickup` daemon and scripted operators drive
// tickets through the demo agent in git worktrees, while a seeded fault injector kills agents, the daemon
// and the tmux server, freezes agents, fills the store's disk and races operators. The invariants are checked
// after every fault, about once a second, and at the end; the report says what was injected, checked and
// broken. Exit 0 without violations, 1 with, 2 on bad usage; SIGINT cleans up and exits 130.
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';
import { Injector, sleep } from './faults.js';
import { Invariants, type InvariantName } from './invariants.js';
import { Journal } from './journal.js';
import { Operators } from './operators.js';
import { Prng } from './prng.js';
import { formatReport, type SoakReport } from './report.js';
import { World } from './world.js';

interface Options {
  minutes: number;
  seed: number;
  tickets: number;
  maxRuntimes: number;
  json: boolean;
}

const SOAK_SPEC: CommandSpec = {
  name: 'soak',
  summary:
    'A chaos soak of mcc on a private tmux socket and a throwaway store: faults at seeded points, invariants checked after each.',
  usage: 'npm run soak -- [--minutes N] [--seed S] [--tickets N] [--max-runtimes N] [--json]',
  positionals: [],
  flags: {
    minutes: { kind: 'number', help: 'how long faults are injected (default 10; fractions allowed)' },
    seed: { kind: 'number', arg: 'S', help: 'the seed of every random choice (default: from the clock, printed)' },
    tickets: { kind: 'number', help: 'tickets the operators add over the run (default max(50, 15 per minute))' },
    'max-runtimes': { kind: 'number', help: "the daemon's --max-runtimes (default 4)" },
    json: { kind: 'boolean', help: 'print the report as JSON' },
  },
};

function parseOptions(argv: readonly string[]): Options | null {
  const { flags } = parseArgs(argv, SOAK_SPEC, HELP_FLAG);
  if (flags['help']) {
    process.stdout.write(`${helpOf(SOAK_SPEC, HELP_FLAG)}\n`);
    return null;
  }
  const num = (name: string, fallback: number, ok: (v: number) => boolean, what: string): number => {
    const v = flags[name];
    if (typeof v !== 'number') return fallback;
    if (!ok(v)) throw new UsageError(SOAK_SPEC.name, `--${name} must be ${what}, got ${v}`);
    return v;
  };
  const minutes = num('minutes', 10, (v) => v > 0 && v <= 24 * 60, 'a number of minutes in (0, 1440]');
  return {
    minutes,
    seed: num(
      'seed',
      Date.now() % 2 ** 31,
      (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32,
      'a whole number in [0, 2^32)',
    ),
    tickets: num(
      'tickets',
      Math.max(50, Math.round(minutes * 15)),
      (v) => Number.isInteger(v) && v > 0,
      'a whole number > 0',
    ),
    maxRuntimes: num('max-runtimes', 4, (v) => Number.isInteger(v) && v > 0 && v <= 32, 'a whole number in 1..32'),
    json: flags['json'] === true,
  };
}

/** Until nothing is in flight (no delivery under way, no drift open) or `ms` passed, sampling as it goes. */
async function settle(world: World, invariants: Invariants, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await invariants.sample();
    const snap = world.snapshot();
    const lastSent = Math.max(0, ...(snap?.messages ?? []).map((m) => (m.sent_at ? Date.parse(m.sent_at) : 0)));
    const busy =
      !snap ||
      snap.messages.some((m) => m.status === 'delivering') ||
      snap.runtimes.some((r) => r.status === 'spawning' || r.status === 'exited') ||
      Date.now() - lastSent < 3000;
    if (!busy) return;
    await sleep(1000);
  }
}

async function soak(o: Options, world: World, stopped: () => boolean): Promise<SoakReport> {
  const started = Date.now();
  const rng = new Prng(o.seed);
  const journal = new Journal();
  const invariants = new Invariants(world, journal);
  const operators = new Operators(world, journal, invariants, rng.fork(), o.tickets);
  const injector = new Injector(world, journal, invariants, operators, rng.fork(), o.maxRuntimes);
  const endAt = started + o.minutes * 60_000;

  const first = await world.mcc(['add', 'soak ticket 0', '--body', 'The first soak work item.']);
  if (first.exitCode !== 0) throw new Error(`mcc add failed: ${first.stderr.trim()}`);
  operators.added = 1;
  world.startDaemon(o.maxRuntimes);
  journal.healingSince = Date.now();

  const monitor = (async () => {
    while (Date.now() < endAt && !stopped()) {
      await invariants.sample();
      await sleep(900);
    }
  })();
  let watching = true;
  const passes = invariants.watchPasses(() => !watching || stopped());
  await Promise.all([monitor, operators.run('operator', endAt, stopped), injector.run(endAt, stopped)]);
  if (!stopped()) await settle(world, invariants, 45_000);
  await invariants.sample();
  const messages = invariants.tallyMessages();
  watching = false;
  await passes;
  await world.stopDaemon();

  const snap = world.snapshot();
  const byStatus: Record<string, number> = {};
  for (const t of snap?.tickets ?? []) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const checks = Object.fromEntries(invariants.runs) as Record<InvariantName, number>;
  return {
    seed: o.seed,
    minutes: o.minutes,
    durationMs: Date.now() - started,
    tickets: { created: snap?.tickets.length ?? 0, byStatus },
    faults: injector.counts,
    skippedFaults: injector.skipped,
    faultLog: journal.faults.map((f) => ({ kind: f.kind, at: new Date(f.at).toISOString(), detail: f.detail })),
    checks,
    checksRun: Object.values(checks).reduce((s, n) => s + n, 0),
    violations: invariants.violations,
    messages,
    worstDriftAfterTtlMs: Math.max(0, invariants.worstDrift.ms),
    worstDrift: invariants.worstDrift.what,
    longestPassGapMs: invariants.longestPassGapMs,
    daemonRecoveryMs: journal.daemonRestarts.map((r) =>
      r.firstPassAt === null ? null : r.firstPassAt - r.restartedAt,
    ),
    operatorCommands: journal.ops.length,
    races: operators.races,
    unexpectedOperatorExits: operators.unexpected,
    foundDead: invariants.foundDead,
    storeOnTmpfs: world.mountError === null,
    socket: world.socket,
  };
}

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`soak: ${e.message}\n${helpOf(SOAK_SPEC, HELP_FLAG)}\n`);
    return 2;
  }
  if (!options) return 0;
  const o = options;
  const world = new World(64 * 1024 * 1024);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nsoak: ${signal}: cleaning up\n`);
    void world.cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  // `on`, not `once`: execa's exit hook re-raises a signal it believes nobody else handles.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!o.json)
    process.stderr.write(
      `soak: seed ${o.seed}, ${o.minutes} min, dir ${world.dir}, socket ${world.socket}${world.mountError ? ` (${world.mountError}: disk-full skipped)` : ''}\n`,
    );
  try {
    const report = await soak(o, world, () => stopping);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the signal handler meanwhile
    if (stopping) return new Promise<number>(() => undefined);
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return report.violations.length === 0 ? 0 : 1;
  } catch (e) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the signal handler meanwhile
    if (stopping) return new Promise<number>(() => undefined);
    process.stderr.write(`soak FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  } finally {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the signal handler meanwhile
    if (!stopping) await world.cleanup();
  }
}

void main().then((code) => {
  process.exitCode = code;
});
