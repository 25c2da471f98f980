import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';
import { ConsoleSession, type ConsoleTarget } from './console-session.js';
import { bulkInsertTickets, privateTmux, writeBenchConfig, type Cleanup, type PrivateTmux } from './fixtures.js';
import { clockTicks, descendantCommands, ownTicks, peakRssMb, treeTicks } from './proc.js';
import { resultRow, skippedRow, summarize, type ResultRow } from './stats.js';

// Section 3: the console from an operator's terminal. Start-up to first frame, key-to-frame latency while
// scrolling and filtering, idle CPU with many live runtimes, and peak RSS.

export const S3 = '3. Console (node dist/cli/bin.js in node-pty 80x24, read through @xterm/headless)';

export interface ConsolePlan {
  startupRuns: number;
  ticketCounts: number[];
  scrollKeys: number;
  filterCycles: number;
  idleSeconds: number;
  idleWarmupSeconds: number;
  idleWindowSeconds: number;
  /** Tickets at which the keypress target is defined (10,000). */
  targetTickets: number;
}

const FIRST_FRAME_MS = 20_000;
const HEADER = /mcc/i;
const TICKET_ROW = /\bMC-[0-9]+\b/;

/** Titles: every tenth ticket has a `z`, so typing `z` in the filter keeps a tenth of the rows. */
const title = (seq: number) => (seq % 10 === 0 ? `zebra crossing ${seq}` : `bench ticket ${seq}`);

async function waitData(s: ConsoleSession): Promise<{ header: number | null; data: number | null }> {
  const header = await s.until(
    () =>
      s
        .lines()
        .slice(0, 3)
        .some((l) => HEADER.test(l)),
    FIRST_FRAME_MS,
  );
  const data = await s.until(() => s.lines().some((l) => TICKET_ROW.test(l)), FIRST_FRAME_MS);
  return { header: header === null ? null : header - s.startedAt, data: data === null ? null : data - s.startedAt };
}

function failedStart(s: ConsoleSession): Error {
  return new Error(
    `bench: the console showed no ${s.alive ? 'frame' : 'frame and exited'}; screen:\n${s.lines().join('\n')}`,
  );
}

/** A store of `count` todo tickets for the console, on a socket of its own with no server. */
function ticketStore(cleanup: Cleanup, dir: string, count: number, tmux: PrivateTmux): ConsoleTarget {
  const db = join(dir, `console-${count}.db`);
  openSqliteStore(db).close();
  bulkInsertTickets(db, { count, status: 'todo', title });
  return { db, socket: tmux.name, config: writeBenchConfig(dir, tmux.name), intervalSeconds: 1 };
}

/** Start-up to first frame, and keypress-to-frame latency, at each ticket count. */
export async function measureConsoleKeys(
  cleanup: Cleanup,
  dir: string,
  plan: ConsolePlan,
  rows: ResultRow[],
): Promise<void> {
  const tmux = privateTmux(cleanup, 'mcc-bench-console');
  for (const count of plan.ticketCounts) {
    const target = ticketStore(cleanup, dir, count, tmux);
    const n = `${count.toLocaleString('en-US')} tickets`;
    const headers: number[] = [];
    const datas: number[] = [];
    for (let i = 0; i < plan.startupRuns; i++) {
      const s = await ConsoleSession.start(target, cleanup);
      const { header, data } = await waitData(s);
      await s.quit();
      if (header === null || data === null) throw failedStart(s);
      headers.push(header);
      datas.push(data);
    }
    const atTarget = count === Math.max(...plan.ticketCounts);
    rows.push(
      resultRow({
        section: S3,
        name: `process start to first frame (header), ${n}`,
        unit: 'ms',
        summary: summarize(headers),
        target: { op: '<', limit: 1000 },
      }),
      resultRow({
        section: S3,
        name: `process start to first frame with ticket rows, ${n}`,
        unit: 'ms',
        summary: summarize(datas),
      }),
    );
    const s = await ConsoleSession.start(target, cleanup);
    if ((await waitData(s)).data === null) throw failedStart(s);
    await s.quiet(300, 5000);
    const scroll: number[] = [];
    for (let i = 0; i < plan.scrollKeys; i++) scroll.push(await s.press('j'));
    const open: number[] = [];
    const filter: number[] = [];
    for (let i = 0; i < plan.filterCycles; i++) {
      open.push(await s.press('/'));
      filter.push(await s.press('z'));
      filter.push(await s.press('\x1b'));
    }
    const rss = s.alive ? peakRssMb(s.pid) : null;
    await s.quit();
    const keyTarget = atTarget ? { target: { op: '<' as const, limit: 50, of: 'p95' as const } } : {};
    const proxy =
      atTarget && count !== plan.targetTickets
        ? `target defined at ${plan.targetTickets.toLocaleString('en-US')} tickets`
        : null;
    const notes = (xs: number[], ...more: (string | null)[]) => {
      const missed = xs.filter(Number.isNaN).length;
      const all = [
        missed > 0 ? `${missed} of ${xs.length} keys changed nothing on screen within 5 s` : null,
        ...more,
      ].filter((x) => x !== null);
      return all.length > 0 ? { note: all.join('; ') } : {};
    };
    rows.push(
      resultRow({
        section: S3,
        name: `key to frame, scrolling (j), ${n}`,
        unit: 'ms',
        summary: summarize(scroll),
        showP95: true,
        ...keyTarget,
        ...notes(scroll, proxy),
      }),
      resultRow({
        section: S3,
        name: `key to frame, opening the filter (/), ${n}`,
        unit: 'ms',
        summary: summarize(open),
        showP95: true,
        ...notes(open),
      }),
      resultRow({
        section: S3,
        name: `key to frame, filtering (typing z: a tenth of the rows stay; Esc: all come back), ${n}`,
        unit: 'ms',
        summary: summarize(filter),
        showP95: true,
        ...keyTarget,
        ...notes(filter, proxy),
      }),
      rss === null
        ? skippedRow(S3, `peak RSS (VmHWM), ${n}`, 'MiB', 'the console had exited')
        : resultRow({ section: S3, name: `peak RSS (VmHWM), ${n}`, unit: 'MiB', summary: summarize([rss]) }),
    );
  }
}

interface IdleRun {
  /** From the first frame with data to the first window. */
  warmupSeconds: number;
  /** % of a core per window: the console's tree, its children alone, the tmux server. */
  tree: number[];
  children: number[];
  server: number[];
  /** The server's CPU over all windows, in clock ticks. */
  serverTicks: number;
  /** Live processes under the console at the end (comm names), to show a control client was counted. */
  descendants: string[];
  rssMb: number | null;
}

/** One idle console in `mode`: CPU per window of its process tree and of the tmux server, and its peak RSS. */
async function idleRun(
  cleanup: Cleanup,
  target: ConsoleTarget,
  server: PrivateTmux,
  plan: ConsolePlan,
  mode: 'control' | 'exec',
): Promise<IdleRun> {
  const s = await ConsoleSession.start({ ...target, tmuxExec: mode === 'exec' }, cleanup);
  if ((await waitData(s)).data === null) throw failedStart(s);
  const t0 = performance.now();
  // Let the first passes capture every pane's screen (64 a pass) before calling the console idle. Over exec
  // each capture is a process, so a pass takes seconds and warming up takes longer: wait until no
  // capture-pane has run under the console for a while (over the control client captures are invisible
  // here, but a pass takes milliseconds and the fixed warm-up covers them).
  await new Promise((r) => setTimeout(r, plan.idleWarmupSeconds * 1000));
  if (!(await capturesQuiet(s.pid, CAPTURES_QUIET_MS, CAPTURES_QUIET_MAX_MS)))
    throw new Error(`bench: the ${mode} console still captured screens after ${CAPTURES_QUIET_MAX_MS / 1000} s`);
  const serverPid = await server.serverPid();
  const hz = clockTicks();
  const run: IdleRun = {
    warmupSeconds: (performance.now() - t0) / 1000,
    tree: [],
    children: [],
    server: [],
    serverTicks: 0,
    descendants: [],
    rssMb: null,
  };
  const pct = (ticks: number, secs: number) => (ticks / hz / secs) * 100;
  for (let left = plan.idleSeconds; left > 0; left -= plan.idleWindowSeconds) {
    const t0 = performance.now();
    const c0 = treeTicks(s.pid);
    const s0 = serverPid ? ownTicks(serverPid) : null;
    await new Promise((r) => setTimeout(r, Math.min(left, plan.idleWindowSeconds) * 1000));
    const c1 = treeTicks(s.pid);
    const s1 = serverPid ? ownTicks(serverPid) : null;
    const secs = (performance.now() - t0) / 1000;
    if (c0 === null || c1 === null)
      throw new Error(`bench: the ${mode} console exited while idle; screen:\n${s.lines().join('\n')}`);
    run.tree.push(pct(c1.own + c1.children - c0.own - c0.children, secs));
    run.children.push(pct(c1.children - c0.children, secs));
    if (s0 !== null && s1 !== null) {
      run.server.push(pct(s1 - s0, secs));
      run.serverTicks += s1 - s0;
    }
    run.descendants = c1.descendants;
  }
  run.rssMb = peakRssMb(s.pid);
  await s.quit();
  return run;
}

const CAPTURES_QUIET_MS = 3000;
const CAPTURES_QUIET_MAX_MS = 180_000;

/** Whether, within `maxMs`, no `capture-pane` process was seen under `root` for `quietMs` on end (sampled every 50 ms). */
async function capturesQuiet(root: number, quietMs: number, maxMs: number): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  let lastSeen = performance.now();
  while (performance.now() < deadline) {
    if (descendantCommands(root).some((c) => c.includes('capture-pane'))) lastSeen = performance.now();
    else if (performance.now() - lastSeen >= quietMs) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `sh, tmux: client, sh` -> `sh x2, "tmux: client"`: what ran under the console, in a note. */
function tally(names: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const parts = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, c]) => `${n.includes(' ') ? JSON.stringify(n) : n}${c > 1 ? ` x${c}` : ''}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * Idle CPU of a console watching `live` runtimes at a 1 s poll, over its control client and then with
 * MCC_TMUX_EXEC=1, one after the other on the same server; the tmux server's CPU beside each.
 */
export async function measureConsoleIdle(
  cleanup: Cleanup,
  target: ConsoleTarget,
  server: PrivateTmux,
  live: number,
  tickets: number,
  plan: ConsolePlan,
  rows: ResultRow[],
  idleTarget: number,
): Promise<void> {
  const control = await idleRun(cleanup, target, server, plan, 'control');
  const exec = await idleRun(cleanup, target, server, plan, 'exec');
  const at = `${live.toLocaleString('en-US')} live runtimes, ${tickets.toLocaleString('en-US')} tickets, 1 s poll`;
  const windows = (r: IdleRun) =>
    `${r.tree.length} windows of ${plan.idleWindowSeconds} s after ${r.warmupSeconds.toFixed(0)} s of warm-up (at least ${plan.idleWarmupSeconds} s, and until no capture-pane ran for ${CAPTURES_QUIET_MS / 1000} s)`;
  const proxy =
    live !== idleTarget
      ? `; target defined at ${idleTarget.toLocaleString('en-US')} runtimes, --quick judges ${live}`
      : '';
  // tmux sets its client's process title to `tmux: client`.
  const hasClient = control.descendants.some((d) => d.startsWith('tmux'));
  const serverRatio = exec.server.length > 0 ? control.serverTicks / exec.serverTicks : Number.NaN;
  rows.push(
    resultRow({
      section: S3,
      name: `idle CPU, console + its children, ${at}, control client`,
      unit: '% core',
      summary: summarize(control.tree),
      target: { op: '<', limit: 1 },
      note: `${windows(control)}; processes under the console: ${tally(control.descendants)}${hasClient ? '' : ' (NO tmux -C client: it ran on exec fallbacks)'}${proxy}`,
    }),
    resultRow({
      section: S3,
      name: '  of which its children (sh watchdog + tmux -C client, and any tmux it ran and reaped)',
      unit: '% core',
      summary: summarize(control.children),
    }),
    resultRow({
      section: S3,
      name: `idle CPU, console + its children, ${at}, exec (MCC_TMUX_EXEC=1)`,
      unit: '% core',
      summary: summarize(exec.tree),
      target: { op: '<', limit: 3 },
      note: `${windows(exec)}, right after the control run; the earlier target for the exec console${proxy}`,
    }),
    resultRow({
      section: S3,
      name: '  of which its children (the tmux processes it ran and reaped)',
      unit: '% core',
      summary: summarize(exec.children),
    }),
    resultRow({
      section: S3,
      name: 'tmux server CPU while the control-client console polls it',
      unit: '% core',
      summary: summarize(control.server),
    }),
    resultRow({
      section: S3,
      name: 'tmux server CPU while the exec console polls it',
      unit: '% core',
      summary: summarize(exec.server),
    }),
    resultRow({
      section: S3,
      name: 'tmux server CPU, control client / exec (total ticks of each run)',
      unit: 'x',
      summary: summarize([serverRatio]),
      target: { op: '<', limit: 1 },
      note: `below 1: the server works less for the control client than for a process per command; ${control.serverTicks} vs ${exec.serverTicks} ticks of 1/${clockTicks()} s (a few ticks cannot judge it)`,
    }),
    control.rssMb === null
      ? skippedRow(S3, 'peak RSS (VmHWM), idle run', 'MiB', 'the console had exited')
      : resultRow({
          section: S3,
          name: `peak RSS (VmHWM), ${at}, control client`,
          unit: 'MiB',
          summary: summarize([control.rssMb]),
        }),
  );
}
