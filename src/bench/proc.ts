import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// CPU and memory of a process tree from /proc (Linux), for the console's idle CPU and peak RSS.

export interface ProcTimes {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, in clock ticks. */
  own: number;
  /** cutime + cstime: children it has waited for (tmux clients a poll ran and reaped). */
  reaped: number;
}

/** Parse /proc/PID/stat; comm may hold spaces and `)`, so fields are counted after the LAST `)`. */
export function parseStatTimes(text: string): ProcTimes | null {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return null;
  // rest[0] is field 3 (state); field k is rest[k - 3].
  const rest = text.slice(close + 2).split(' ');
  const f = (k: number) => Number(rest[k - 3]);
  const [ppid, utime, stime, cutime, cstime] = [f(4), f(14), f(15), f(16), f(17)];
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return { pid, ppid, own: utime + stime, reaped: cutime + cstime };
}

/** A `kB` line of /proc/PID/status (VmHWM, VmRSS) in MiB, or null. */
export function parseStatusKb(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+([0-9]+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) / 1024 : null;
}

function readTimes(pid: number): ProcTimes | null {
  try {
    return parseStatTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every live process, for finding a tree's descendants. */
function allTimes(): ProcTimes[] {
  const out: ProcTimes[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const t = readTimes(Number(name));
    if (t) out.push(t);
  }
  return out;
}

/** CPU ticks of a process tree, split between its root and the rest. */
export interface TreeTicks {
  /** utime + stime of the root itself. */
  own: number;
  /** Everything else: its live descendants' own time and what the tree reaped from exited children. */
  children: number;
  /** The names (comm) of the live descendants, e.g. the `sh` watchdog and `tmux` of a control client. */
  descendants: string[];
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * CPU ticks used so far by `root` and its descendants (however deep: a control client's `tmux -C` is a
 * grandchild, under its `sh` watchdog): their own time, plus what they reaped from exited children. Returns
 * null once root is gone.
 */
export function treeTicks(root: number): TreeTicks | null {
  const all = allTimes();
  const byParent = new Map<number, ProcTimes[]>();
  for (const t of all) (byParent.get(t.ppid) ?? byParent.set(t.ppid, []).get(t.ppid)!).push(t);
  const top = all.find((t) => t.pid === root);
  if (!top) return null;
  let children = top.reaped;
  const descendants: string[] = [];
  const stack = [...(byParent.get(top.pid) ?? [])];
  while (stack.length > 0) {
    const t = stack.pop()!;
    children += t.own + t.reaped;
    descendants.push(commOf(t.pid));
    stack.push(...(byParent.get(t.pid) ?? []));
  }
  return { own: top.own, children, descendants };
}

/** The argv of every live descendant of `root`, joined with spaces (a process that just exited is skipped). */
export function descendantCommands(root: number): string[] {
  const all = allTimes();
  const byParent = new Map<number, number[]>();
  for (const t of all) (byParent.get(t.ppid) ?? byParent.set(t.ppid, []).get(t.ppid)!).push(t.pid);
  const out: string[] = [];
  const stack = [...(byParent.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // Gone since the listing.
    }
    stack.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

/** utime + stime of one process (e.g. the tmux server), or null. */
export function ownTicks(pid: number): number | null {
  return readTimes(pid)?.own ?? null;
}

/** Peak resident set (VmHWM) of a live process in MiB, or null. */
export function peakRssMb(pid: number): number | null {
  try {
    return parseStatusKb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
  } catch {
    return null;
  }
}

let tck: number | null = null;

/** Clock ticks per second (USER_HZ), usually 100. */
export function clockTicks(): number {
  if (tck !== null) return tck;
  try {
    tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    tck = 100;
  }
  return tck;
}
