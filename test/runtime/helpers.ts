// The runtime harness: a temp dir with a store path and a config file, a private tmux socket, the compiled
// `mcc` run as a child process, read-only SQLite views of the rows, and tmux views of the sessions. Every
// harness removes its own tmux server (by its -L name) and its temp dir when the test ends.
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { isDaemonLease } from '../../src/core/console-controller.js';
import type { DemoFooter, DemoLayout } from '../../src/demo-agent/args.js';
import { DEMO_LAYOUT_PATTERNS } from '../../src/demo-agent/layouts.js';
import type { InputLogEntry, PromptLogEntry } from '../../src/demo-agent/logs.js';
import type { EventRow, LeaseRow, MessageRow, RuntimeRow, TicketRow } from '../../src/store/rows.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket } from '../helpers/tmux-socket.js';
import { waitFor as pollFor } from '../helpers/wait.js';
import { BIN, ROOT } from '../global-setup.js';

export { BIN, ROOT };
export type { EventRow, InputLogEntry, LeaseRow, MessageRow, PromptLogEntry, RuntimeRow, TicketRow };

/** Readiness fields of a profile, as the config file spells them (src/core/config.ts). */
export interface ReadinessSpec {
  ready?: string;
  busy?: string;
  question?: string;
  blocked?: string;
  promptLines?: number;
  tailLines?: number;
  quietMs?: number;
  readyTimeoutSeconds?: number;
}

export interface DemoSpec extends ReadinessSpec {
  bootMs?: number;
  workMs?: number;
  outcome?: 'review' | 'done' | 'question' | 'crash';
  /** `--layout`; the profile's ready and busy patterns default to the layout's (DEMO_LAYOUT_PATTERNS). */
  layout?: DemoLayout;
  /** `--footer` (box layout only). */
  footer?: DemoFooter;
  /** `--signin`: start behind the sign-in menu that only C-o leaves. */
  signin?: boolean;
  /** `--input-log PATH` / `--prompt-log PATH`. */
  inputLog?: string;
  promptLog?: string;
  /** Let the harness name both logs in its temp dir (read them with `h.demoLogs(profile)`). */
  logs?: boolean;
}

export interface HarnessOptions {
  ttlSeconds?: number;
  retryLimit?: number;
  /** Profiles by name, each a demo agent; `demo` (boot 1500 ms, work 800 ms, review) is there unless overridden. */
  profiles?: Record<string, DemoSpec>;
  /**
   * Profiles by name written to the config as they are (any program: `command`, `ready`, ...); a function is
   * given the harness's temp dir, for programs that write files there.
   */
  customProfiles?: Record<string, Record<string, unknown>> | ((dir: string) => Record<string, Record<string, unknown>>);
}

export interface CliResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** A `demo` profile running the compiled `mcc demo-agent` directly (no shell: the pane pid is the agent). */
export function demoProfile(spec: DemoSpec = {}): Record<string, unknown> {
  const layout = spec.layout ?? 'plain';
  const flags: string[] = [];
  if (spec.layout !== undefined) flags.push('--layout', spec.layout);
  if (spec.footer !== undefined) flags.push('--footer', spec.footer);
  if (spec.signin) flags.push('--signin');
  if (spec.inputLog !== undefined) flags.push('--input-log', spec.inputLog);
  if (spec.promptLog !== undefined) flags.push('--prompt-log', spec.promptLog);
  const optional = {
    blocked: spec.blocked,
    // The box's input line sits above its bottom border and footer: look for it on the last few lines.
    promptLines: spec.promptLines ?? (layout === 'box' ? 4 : undefined),
    tailLines: spec.tailLines,
    quietMs: spec.quietMs,
    readyTimeoutSeconds: spec.readyTimeoutSeconds,
  };
  return {
    command: [
      process.execPath,
      BIN,
      'demo-agent',
      '--boot-ms',
      String(spec.bootMs ?? 1500),
      '--work-ms',
      String(spec.workMs ?? 800),
      '--outcome',
      spec.outcome ?? 'review',
      ...flags,
    ],
    ready: spec.ready ?? DEMO_LAYOUT_PATTERNS[layout].ready,
    busy: spec.busy ?? DEMO_LAYOUT_PATTERNS[layout].busy,
    question: spec.question ?? '^QUESTION:',
    interrupt: ['Escape'],
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/** Parsed JSON lines of a file; [] when it does not exist (nothing was ever written). */
export function jsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

export type Harness = Awaited<ReturnType<typeof makeHarness>>;

/**
 * A fresh harness, cleaned up when the current test finishes. Concurrent tests pass their test context,
 * whose onTestFinished is the one vitest tracks for them.
 */
export function useHarness(opts: HarnessOptions = {}, ctx?: { onTestFinished: typeof onTestFinished }): Harness {
  const h = makeHarness(opts);
  (ctx?.onTestFinished ?? onTestFinished)(() => h.cleanup());
  return h;
}

/** A fresh harness; call cleanup() yourself (or use useHarness inside a test). */
export function makeHarness(opts: HarnessOptions = {}) {
  const tmp = makeTmpDir('mcc-rt-');
  const sock = makeTmuxSocket('mcc-rt');
  const dir = tmp.path;
  const dbPath = join(dir, 'state', 'mcc.db');
  const configPath = join(dir, 'config.json');
  const profiles: Record<string, unknown> = { demo: demoProfile() };
  const specs = new Map<string, DemoSpec>();
  for (const [name, given] of Object.entries(opts.profiles ?? {})) {
    const spec = given.logs
      ? { inputLog: join(dir, `${name}.input.jsonl`), promptLog: join(dir, `${name}.prompt.jsonl`), ...given }
      : given;
    specs.set(name, spec);
    profiles[name] = demoProfile(spec);
  }
  const custom = opts.customProfiles;
  Object.assign(profiles, typeof custom === 'function' ? custom(dir) : (custom ?? {}));
  const config = {
    ttlSeconds: opts.ttlSeconds ?? 2,
    retryLimit: opts.retryLimit ?? 3,
    intervalSeconds: 0.5,
    defaultProfile: 'demo',
    profiles,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const { MCC_FAILPOINTS: _f, MCC_TMUX_BIN: _b, ...inherited } = sock.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    MCC_DB: dbPath,
    MCC_TMUX_SOCKET: sock.name,
    MCC_CONFIG: configPath,
    XDG_STATE_HOME: join(dir, 'xdg-state'),
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    NO_COLOR: '1',
  };
  const children = new Set<ResultPromise>();

  /** Open the store read-only for one read; a fresh connection each time, so no snapshot goes stale. */
  function read<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return fn(db);
    } finally {
      db.close();
    }
  }

  async function tmuxOut(args: string[]): Promise<string | null> {
    try {
      return (await sock.tmux(args)).stdout;
    } catch {
      return null;
    }
  }

  const h = {
    dir,
    dbPath,
    configPath,
    socket: sock.name,
    env,

    /** Run the compiled binary; never rejects. `env` entries are added to (or, when undefined, removed from) the harness env. */
    async mcc(
      args: string[],
      o: { env?: Record<string, string | undefined>; timeoutMs?: number; input?: string } = {},
    ): Promise<CliResult> {
      const r = await h.spawn(args, o);
      return { exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
    },

    /** Start the binary without waiting (racing pickups, `--auto`); killed at cleanup if still running. */
    spawn(args: string[], o: { env?: Record<string, string | undefined>; timeoutMs?: number; input?: string } = {}) {
      const childEnv = { ...env, ...(o.env ?? {}) };
      for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
      const p = execa(process.execPath, [BIN, ...args], {
        env: childEnv,
        extendEnv: false,
        reject: false,
        timeout: o.timeoutMs ?? 30_000,
        cwd: dir,
        ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
      });
      children.add(p);
      void p.finally(() => children.delete(p));
      return p;
    },

    /** Run the binary and require exit 0; the error carries its output. */
    async must(args: string[], o: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
      const r = await h.mcc(args, o);
      if (r.exitCode !== 0)
        throw new Error(`mcc ${args.join(' ')} exited ${r.exitCode ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
      return r;
    },

    /**
     * What the demo agent of a profile logged: input that reached it while not ready, and every prompt it
     * accepted (both [] when nothing was written). The profile must name its logs (`logs: true` or paths).
     */
    demoLogs(profile: string): { inputs: InputLogEntry[]; prompts: PromptLogEntry[] } {
      const spec = specs.get(profile);
      if (spec?.inputLog === undefined || spec.promptLog === undefined)
        throw new Error(`profile ${profile} has no demo-agent logs (set logs: true)`);
      return { inputs: jsonLines<InputLogEntry>(spec.inputLog), prompts: jsonLines<PromptLogEntry>(spec.promptLog) };
    },

    /** `mcc add TITLE` and the new key. */
    async add(title: string, extra: string[] = []): Promise<string> {
      return (await h.must(['add', title, ...extra])).stdout.trim();
    },

    /** Write to the store behind mcc's back (forcing drift, simulating another worker). */
    sql(statement: string, ...params: unknown[]): Database.RunResult {
      const db = new Database(dbPath, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        return db.prepare(statement).run(...params);
      } finally {
        db.close();
      }
    },

    ticket(key: string): TicketRow {
      const row = read((db) => db.prepare('SELECT * FROM tickets WHERE key = ?').get(key) as TicketRow | undefined);
      if (!row) throw new Error(`no ticket row ${key}`);
      return row;
    },
    runtimes(key: string): RuntimeRow[] {
      return read(
        (db) => db.prepare('SELECT * FROM runtime_sessions WHERE ticket_key = ? ORDER BY id').all(key) as RuntimeRow[],
      );
    },
    openRuntimes(key: string): RuntimeRow[] {
      return h.runtimes(key).filter((r) => r.status !== 'closed');
    },
    messages(key: string): MessageRow[] {
      return read(
        (db) => db.prepare('SELECT * FROM messages WHERE ticket_key = ? ORDER BY id').all(key) as MessageRow[],
      );
    },
    /** Events, oldest first; of one ticket, or all. */
    events(key?: string): EventRow[] {
      return read(
        (db) =>
          (key === undefined
            ? db.prepare('SELECT * FROM events ORDER BY id').all()
            : db.prepare('SELECT * FROM events WHERE ticket_key = ? ORDER BY id').all(key)) as EventRow[],
      );
    },
    lastEventId(): number {
      return read((db) => (db.prepare('SELECT coalesce(max(id), 0) AS id FROM events').get() as { id: number }).id);
    },
    leases(): LeaseRow[] {
      // Polled while a daemon may still be creating the store: not there yet = no lease.
      if (!existsSync(dbPath)) return [];
      try {
        return read((db) => db.prepare('SELECT * FROM leases').all() as LeaseRow[]);
      } catch {
        return [];
      }
    },
    /** Everything a pass could change, for "nothing changed" comparisons. */
    dump(): { tickets: TicketRow[]; runtimes: RuntimeRow[]; messages: MessageRow[]; events: number } {
      return read((db) => ({
        tickets: db.prepare('SELECT * FROM tickets ORDER BY seq').all() as TicketRow[],
        runtimes: db.prepare('SELECT * FROM runtime_sessions ORDER BY id').all() as RuntimeRow[],
        messages: db.prepare('SELECT * FROM messages ORDER BY id').all() as MessageRow[],
        events: (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
      }));
    },

    /** Raw `tmux -L <ours> ...`; rejects on a non-zero exit. */
    tmux: (args: string[]) => sock.tmux(args),
    /** Session names on our private socket ([] when no server runs). */
    async sessions(): Promise<string[]> {
      const out = await tmuxOut(['list-sessions', '-F', '#{session_name}']);
      return out === null ? [] : out.split('\n').filter(Boolean).sort();
    },
    async hasSession(session: string): Promise<boolean> {
      return (await h.sessions()).includes(session);
    },
    /** The screen (and a little history) of a session's pane; '' when the session is gone. */
    async capture(session: string): Promise<string> {
      return (await tmuxOut(['capture-pane', '-p', '-J', '-S', '-200', '-t', `=${session}:`])) ?? '';
    },
    /** pane id, pane pid and dead flag of a session's first pane; null when the session is gone. */
    async pane(session: string): Promise<{ id: string; pid: number; dead: boolean } | null> {
      const out = await tmuxOut(['display-message', '-p', '-t', `=${session}:`, '#{pane_id} #{pane_pid} #{pane_dead}']);
      // tmux 3.x answers a missing session here with an empty line and exit 0, not an error.
      if (out === null || out.trim() === '') return null;
      const [id, pid, dead] = out.trim().split(' ');
      return { id: id ?? '', pid: Number(pid), dead: dead === '1' };
    },

    async cleanup(): Promise<void> {
      for (const c of children) c.kill('SIGKILL');
      await Promise.allSettled([...children]);
      // A binary killed mid-command (failpoints, signals) can leave its tmux client running, and that client
      // may start our server again after a first kill-server: repeat until no process names our socket.
      await pollFor(
        `no process left on tmux socket ${sock.name}`,
        async () => {
          await sock.cleanup();
          return processesOnSocket(sock.name);
        },
        (pids) => pids.length === 0,
        10_000,
      ).catch(() => undefined);
      await sock.cleanup();
      tmp.cleanup();
    },
  };
  return h;
}

/** Live processes whose command line names our (unique) tmux socket: our server and stray clients. */
function processesOnSocket(socket: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(socket) && pidAlive(Number(entry))) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether a pid is a running process (not gone, not a zombie). */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Polls `predicate` until it holds; throws naming `what` (and the last value) at the deadline. `intervalMs`
 * spaces the probes of a long wait that spawns a process each time (a tmux capture), so the wait itself does
 * not load the machine it is timing.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (v: T) => boolean = Boolean,
  timeoutMs = 15_000,
  intervalMs?: number,
): Promise<T> {
  if (intervalMs === undefined) return pollFor(what, probe, done, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits (polling the clock against a deadline) until epoch-ms `at` has passed: for TTLs only. */
export async function waitUntilTime(at: number, what = 'the TTL to elapse'): Promise<void> {
  await pollFor(
    what,
    () => Date.now(),
    (now) => now > at,
    Math.max(0, at - Date.now()) + 5_000,
  );
}

/** Epoch ms of a stored ISO time. */
export function ms(iso: string | null): number {
  if (iso === null) throw new Error('time is null');
  return Date.parse(iso);
}

export const count = (text: string, needle: string): number => text.split(needle).length - 1;

export const BUSY_IGNORED = '(busy: input ignored)';
export const isReadyScreen = (screen: string): boolean => {
  const lines = screen.split('\n').filter((l) => l.trim() !== '');
  return /^demo> ?$/.test(lines[lines.length - 1] ?? '');
};

/** Run `mcc reconcile` until `done()` holds; each pass must exit 0. Returns the number of passes. */
export async function reconcileUntil(
  h: Harness,
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<number> {
  let passes = 0;
  await pollFor(
    what,
    async () => {
      if (await done()) return true;
      const r = await h.mcc(['reconcile']);
      passes++;
      if (r.exitCode !== 0) throw new Error(`mcc reconcile exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
      return done();
    },
    Boolean,
    timeoutMs,
  );
  return passes;
}

/**
 * Agreement of the three views for one ticket: either exactly one open runtime that is live (session up,
 * pane pid = recorded pid = worker_pid, process alive) with the ticket in_progress (or in_review/done when
 * `allow`), or no open runtime, no session, and the ticket not in_progress. Returns a list of disagreements.
 */
export async function disagreements(
  h: Harness,
  key: string,
  allow: readonly string[] = ['in_progress'],
): Promise<string[]> {
  const t = h.ticket(key);
  const open = h.openRuntimes(key);
  const session = `mc-${key}`;
  const pane = await h.pane(session);
  const out: string[] = [];
  if (open.length > 1) out.push(`${open.length} open runtime rows`);
  const r = open[0];
  if (r) {
    if (!['running', 'idle', 'waiting'].includes(r.status)) out.push(`runtime status ${r.status}`);
    if (!pane) out.push('open runtime row but no tmux session');
    else {
      if (pane.dead) out.push('pane is dead');
      if (pane.pid !== r.pid) out.push(`pane pid ${pane.pid} != recorded pid ${r.pid}`);
      if (pane.id !== r.pane_id) out.push(`pane id ${pane.id} != recorded ${r.pane_id}`);
    }
    if (!pidAlive(r.pid)) out.push(`recorded pid ${r.pid} is not alive`);
    if (!allow.includes(t.status)) out.push(`ticket ${t.status} with a live runtime`);
    if (t.status === 'in_progress' && t.worker_pid !== r.pid)
      out.push(`worker_pid ${t.worker_pid} != runtime pid ${r.pid}`);
  } else {
    if (pane) out.push(`session ${session} exists without an open runtime row`);
    if (t.status === 'in_progress') out.push('ticket in_progress without a runtime');
  }
  return out;
}

/**
 * `mcc --auto` running in the background. Every pass starts by renewing the daemon lease, so a new expiry in
 * the lease row is a pass that began: `passes(n)` waits for n of them after the call. `stop()` sends SIGTERM
 * and returns how it ended (it finishes the current pass and exits 0).
 */
export function startDaemon(h: Harness, args: string[] = []) {
  const child = h.spawn(['--auto', ...args], { timeoutMs: 180_000 });
  const expiry = (): string | undefined => h.leases().find((l) => isDaemonLease(l.name))?.expires_at;
  return {
    async passes(n: number, timeoutMs = 20_000): Promise<void> {
      const seen = new Set<string>();
      const before = expiry();
      await waitFor(
        `${n} passes of mcc --auto`,
        () => {
          const e = expiry();
          if (e !== undefined && e !== before) seen.add(e);
          return seen.size;
        },
        (count) => count >= n,
        timeoutMs,
        50,
      );
    },
    async stop(): Promise<CliResult> {
      child.kill('SIGTERM');
      const r = await child;
      return { exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
  };
}
