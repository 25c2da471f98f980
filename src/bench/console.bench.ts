import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';
import { ConsoleSession, type ConsoleTarget } from './console-session.js';
import { bulkInsertTickets, privateTmux, writeBenchConfig, type Cleanup, type PrivateTmux } from './fixtures.js';
import { clockTicks, ownTicks, peakRssMb, treeTicks } from './proc.js';
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

/** Idle CPU of a console watching `live` runtimes at a 1 s poll, in windows, and its peak RSS. */
export async function measureConsoleIdle(
  cleanup: Cleanup,
  target: ConsoleTarget,
  server: PrivateTmux,
  live: number,
  tickets: number,
  plan: ConsolePlan,
  rows: ResultRow[],
): Promise<void> {
  const s = await ConsoleSession.start(target, cleanup);
  if ((await waitData(s)).data === null) throw failedStart(s);
  // Let the first passes capture every pane's screen (64 a pass) before calling the console idle.
  await new Promise((r) => setTimeout(r, plan.idleWarmupSeconds * 1000));
  const serverPid = await server.serverPid();
  const hz = clockTicks();
  const windows: number[] = [];
  let serverTicks = 0;
  let wall = 0;
  for (let left = plan.idleSeconds; left > 0; left -= plan.idleWindowSeconds) {
    const t0 = performance.now();
    const c0 = treeTicks(s.pid);
    const s0 = serverPid ? ownTicks(serverPid) : null;
    await new Promise((r) => setTimeout(r, Math.min(left, plan.idleWindowSeconds) * 1000));
    const c1 = treeTicks(s.pid);
    const s1 = serverPid ? ownTicks(serverPid) : null;
    const secs = (performance.now() - t0) / 1000;
    if (c0 === null || c1 === null)
      throw new Error(`bench: the console exited while idle; screen:\n${s.lines().join('\n')}`);
    windows.push(((c1 - c0) / hz / secs) * 100);
    if (s0 !== null && s1 !== null) serverTicks += s1 - s0;
    wall += secs;
  }
  const rss = peakRssMb(s.pid);
  await s.quit();
  const at = `${live.toLocaleString('en-US')} live runtimes, ${tickets.toLocaleString('en-US')} tickets, 1 s poll`;
  const note = `${windows.length} windows of ${plan.idleWindowSeconds} s after ${plan.idleWarmupSeconds} s warm-up; console process + its children (tmux clients it ran)`;
  rows.push(
    resultRow({
      section: S3,
      name: `idle CPU, ${at}`,
      unit: '% core',
      summary: summarize(windows),
      target: { op: '<', limit: 3 },
      note,
    }),
    resultRow({
      section: S3,
      name: 'tmux server CPU while that console polls it (not the console; for context)',
      unit: '% core',
      summary: summarize(serverPid ? [(serverTicks / hz / wall) * 100] : []),
    }),
    rss === null
      ? skippedRow(S3, 'peak RSS (VmHWM), idle run', 'MiB', 'the console had exited')
      : resultRow({ section: S3, name: `peak RSS (VmHWM), ${at}`, unit: 'MiB', summary: summarize([rss]) }),
  );
}
