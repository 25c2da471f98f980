import { existsSync, readFileSync } from 'node:fs';
import type { CommandRunner } from '../core/command-runner.port.js';
import type { ProcessObservation, ProcessPort } from '../core/process.port.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './command-runner.node.js';

/** The fields of /proc/PID/stat that identity and liveness need. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** Field 3: R, S, D, Z (zombie), X (dead), ... */
  state: string;
  /** Field 22: start time in clock ticks since boot. */
  start: number;
  /** Field 52 (Linux 3.5+): the wait status a zombie will report to its parent; null when absent. */
  exitCode: number | null;
}

/** Parse /proc/PID/stat; null when it is not in the kernel's shape. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  // comm may itself contain spaces and `)`: it ends at the LAST `)`.
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pidText = text.slice(0, open).trim();
  if (!/^[0-9]+$/.test(pidText)) return null;
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  const state = rest[0] ?? '';
  const start = rest[22 - 3] ?? '';
  if (!/^[A-Za-z]$/.test(state) || !/^[0-9]+$/.test(start)) return null;
  const exit = rest[52 - 3];
  const exitCode = exit !== undefined && /^[0-9]+$/.test(exit) ? Number(exit) : null;
  return { pid: Number(pidText), comm: text.slice(open + 1, close), state, start: Number(start), exitCode };
}

function validPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0;
}

/** Linux: reads <procRoot>/PID/stat directly, synchronously (a pass may inspect a thousand pids). */
export class ProcProcessProbe implements ProcessPort {
  private readonly root: string;
  private cachedBootId: string | null = null;

  constructor(opts: { procRoot?: string } = {}) {
    this.root = opts.procRoot ?? '/proc';
  }

  async bootId(): Promise<string | null> {
    // The boot id cannot change while we run; only a successful read is cached.
    if (this.cachedBootId !== null) return this.cachedBootId;
    try {
      const id = readFileSync(`${this.root}/sys/kernel/random/boot_id`, 'utf8').trim();
      this.cachedBootId = id === '' ? null : id;
    } catch {
      return null;
    }
    return this.cachedBootId;
  }

  async inspect(pids: readonly number[]): Promise<Map<number, ProcessObservation>> {
    const out = new Map<number, ProcessObservation>();
    const boot = await this.bootId();
    for (const pid of pids) out.set(pid, this.inspectOne(pid, boot));
    return out;
  }

  private inspectOne(pid: number, boot: string | null): ProcessObservation {
    if (!validPid(pid)) return { kind: 'unknown', reason: `invalid pid ${pid}` };
    let text: string;
    try {
      text = readFileSync(`${this.root}/${pid}/stat`, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ESRCH: the process went away while we read. Anything else (EACCES, EIO, ...) is "cannot see".
      if (code === 'ENOENT' || code === 'ESRCH') return { kind: 'dead', reason: 'absent' };
      return { kind: 'unknown', reason: `cannot read ${this.root}/${pid}/stat: ${code ?? String(err)}` };
    }
    const stat = parseProcStat(text);
    if (stat === null || stat.pid !== pid) return { kind: 'unknown', reason: `unparsable ${this.root}/${pid}/stat` };
    if (stat.state === 'Z' || stat.state === 'X') {
      // tmux 3.3a sometimes misses the SIGCHLD of a pane's process, leaving it a zombie with no
      // pane_dead_status: the kernel still knows how it ended.
      return { kind: 'dead', reason: 'zombie', ...(stat.exitCode !== null ? { waitStatus: stat.exitCode } : {}) };
    }
    if (boot === null) return { kind: 'unknown', reason: 'boot id unreadable' };
    return { kind: 'alive', identity: { pid, start: stat.start, bootId: boot }, state: stat.state, comm: stat.comm };
  }
}

/** One line of `ps -o pid=,stat=,lstart=,comm=`; `start` is epoch seconds, null for a zombie without one. */
export interface PsEntry {
  pid: number;
  stat: string;
  start: number | null;
  comm: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PS_LINE_RE = /^\s*([0-9]+)\s+(\S+)\s+(.*)$/;
// lstart in the C locale: `Mon Nov  4 09:01:02 2025` (local time, day padded with a space).
const LSTART_RE =
  /^[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+([0-9]{1,2})\s+([0-9]{1,2}):([0-9]{2}):([0-9]{2})\s+([0-9]{4})(?:\s+(.*))?$/;

/** Parse `ps` output; null when any line is odd or a pid repeats (the whole answer is then unknown). */
export function parsePsOutput(stdout: string): Map<number, PsEntry> | null {
  const out = new Map<number, PsEntry>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const m = PS_LINE_RE.exec(line);
    if (m === null) return null;
    const pid = Number(m[1]);
    const stat = m[2] as string;
    const rest = m[3] as string;
    if (out.has(pid)) return null;
    const t = LSTART_RE.exec(rest);
    if (t === null) {
      // A zombie may have lost its start time; it is dead either way.
      if (!stat.startsWith('Z')) return null;
      out.set(pid, { pid, stat, start: null, comm: rest.trim() });
      continue;
    }
    const month = MONTHS.indexOf(t[1] as string);
    if (month < 0) return null;
    const date = new Date(Number(t[6]), month, Number(t[2]), Number(t[3]), Number(t[4]), Number(t[5]));
    const start = Math.floor(date.getTime() / 1000);
    if (!Number.isFinite(start)) return null;
    out.set(pid, { pid, stat, start, comm: t[7] ?? '' });
  }
  return out;
}

/** Parse `sysctl -n kern.boottime` (`{ sec = 1700000000, usec = 123 } Tue Nov 14 ...`) to its seconds. */
export function parseBootTime(text: string): number | null {
  const m = /\bsec\s*=\s*([0-9]+)/.exec(text);
  return m === null ? null : Number(m[1]);
}

/**
 * Systems without /proc (macOS, BSD): ONE `ps` call per inspection. Identity start is lstart in epoch seconds.
 * A command name can hold a newline and so forge a line; every line must parse and no pid may repeat, which
 * turns a garbled answer into unknown. comm is last because it may contain spaces.
 */
export class PsProcessProbe implements ProcessPort {
  private readonly runner: CommandRunner;
  private readonly timeoutMs: number;
  private cachedBootId: string | null = null;

  constructor(opts: { runner: CommandRunner; timeoutMs?: number }) {
    this.runner = opts.runner;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  async bootId(): Promise<string | null> {
    if (this.cachedBootId !== null) return this.cachedBootId;
    // macOS moves kern.boottime when the wall clock is stepped; its per-boot UUID does not move. BSDs lack it.
    const uuid = await this.runner.run({
      file: 'sysctl',
      args: ['-n', 'kern.bootsessionuuid'],
      timeoutMs: this.timeoutMs,
    });
    const id = uuid.exitCode === 0 && uuid.failure === undefined ? uuid.stdout.trim() : '';
    if (/^[0-9A-Fa-f-]{8,}$/.test(id)) return (this.cachedBootId = id);
    const bt = await this.runner.run({ file: 'sysctl', args: ['-n', 'kern.boottime'], timeoutMs: this.timeoutMs });
    const sec = bt.exitCode === 0 && bt.failure === undefined ? parseBootTime(bt.stdout) : null;
    return sec === null ? null : (this.cachedBootId = `boottime:${sec}`);
  }

  async inspect(pids: readonly number[]): Promise<Map<number, ProcessObservation>> {
    const out = new Map<number, ProcessObservation>();
    const wanted = [...new Set(pids.filter(validPid))];
    for (const pid of pids) if (!validPid(pid)) out.set(pid, { kind: 'unknown', reason: `invalid pid ${pid}` });
    if (wanted.length === 0) return out;
    const boot = await this.bootId();
    const res = await this.runner.run({
      // LC_ALL=C: lstart's month and day names are parsed as English.
      file: 'env',
      args: ['LC_ALL=C', 'ps', '-o', 'pid=,stat=,lstart=,comm=', '-p', wanted.join(',')],
      timeoutMs: this.timeoutMs,
    });
    // ps exits 1 with nothing on stderr when none of the pids exists.
    const answered =
      res.failure === undefined && (res.exitCode === 0 || (res.exitCode === 1 && res.stderr.trim() === ''));
    const parsed = answered ? parsePsOutput(res.stdout) : null;
    const unreadable = answered
      ? 'unparsable ps output'
      : `ps failed: ${res.failure ?? (res.stderr.trim() || `exit status ${res.exitCode}`)}`;
    const asked = new Set(wanted);
    const foreign = parsed !== null && [...parsed.keys()].some((p) => !asked.has(p));
    for (const pid of wanted) {
      if (parsed === null || foreign) {
        out.set(pid, { kind: 'unknown', reason: foreign ? 'ps listed a pid not asked for' : unreadable });
        continue;
      }
      const e = parsed.get(pid);
      if (e === undefined) out.set(pid, { kind: 'dead', reason: 'absent' });
      else if (e.stat.startsWith('Z')) out.set(pid, { kind: 'dead', reason: 'zombie' });
      else if (boot === null || e.start === null) out.set(pid, { kind: 'unknown', reason: 'boot id unreadable' });
      else
        out.set(pid, { kind: 'alive', identity: { pid, start: e.start, bootId: boot }, state: e.stat, comm: e.comm });
    }
    return out;
  }
}

/** The process probe for this system: /proc when it exists, else `ps`. */
export function createProcessProbe(runner: CommandRunner): ProcessPort {
  return existsSync('/proc/self/stat') ? new ProcProcessProbe() : new PsProcessProbe({ runner });
}
