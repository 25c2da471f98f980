// The soak's world: one temp dir holding everything it makes (a small tmpfs for the store, a throwaway git
// repository, the demo agents' logs, the config, and our private tmux server's socket via TMUX_TMPDIR), the
// compiled `mcc` run as child processes, read-only views of the store, and /proc. Cleanup stops every child,
// every demo agent it started, our tmux server (by its -L name), unmounts the tmpfs and removes the dir.
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { defaultHostId } from '../cli/host-id.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_LEASE } from '../core/console-controller.js';

/** The daemon's lease row, whichever host's it is (one daemon per host: `auto-daemon:<host>`). */
const DAEMON_LEASE_SQL =
  'SELECT holder, expires_at FROM leases WHERE name = ? OR name LIKE ? ORDER BY expires_at DESC LIMIT 1';
import { removeFreezer } from './faults.js';
import { DEMO_LAYOUT_PATTERNS } from '../demo-agent/layouts.js';
import type { EventRow, MessageRow, RuntimeRow, TicketRow, WorkspaceRow } from '../store/rows.js';

export type { EventRow, MessageRow, RuntimeRow, TicketRow, WorkspaceRow };

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/bin.js');

/** The timing of the soak's mcc config: short, so drift and its healing happen many times a minute. */
export const SOAK_CONFIG = {
  ttlSeconds: 3,
  retryLimit: 4,
  intervalSeconds: 0.5,
  readyTimeoutSeconds: 4,
  reviewIdleSeconds: 8,
  quietMs: 400,
} as const;

/** Agent outcomes by profile name: most tickets go to review, some finish, some ask a question. */
export const PROFILES = { review: 'review', done: 'done', question: 'question' } as const;
export type ProfileName = keyof typeof PROFILES;

export interface CliResult {
  args: string[];
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

export interface AgentProc {
  pid: number;
  /** /proc state letter: R, S, T (stopped), Z... */
  state: string;
  /** The agent's working directory: its ticket's worktree. */
  cwd: string | null;
}

export interface Snapshot {
  at: number;
  tickets: TicketRow[];
  runtimes: RuntimeRow[];
  messages: MessageRow[];
  workspaces: WorkspaceRow[];
  lease: { holder: string; expires_at: string } | null;
}

/** Whether a pid is a running process (not gone, not a zombie); a stopped one is alive. */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
  } catch {
    return null;
  }
}

/** Live processes whose argv contains `word` (a path or socket name unique to this run). */
export function processesNaming(word: string, exact = true): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const hit = exact ? argv.includes(word) : argv.some((a) => a.includes(word));
      if (hit && pidAlive(Number(entry))) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env }) };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, out: String(err.stderr ?? '').trim() || err.message };
  }
}

export class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'mcc-soak-'));
  readonly socket = `mcc-soak-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  readonly diskDir = join(this.dir, 'disk');
  readonly db: string;
  readonly repo = join(this.dir, 'repo');
  readonly promptLog = join(this.dir, 'agent-prompts.jsonl');
  readonly inputLog = join(this.dir, 'agent-not-ready-input.jsonl');
  /** This machine's host id as the daemon names itself (hostname plus machine-id), given to every child as MCC_HOST. */
  readonly host = defaultHostId();
  /** Why the store is not on its own small file system (the disk-full fault is then skipped), or null. */
  readonly mountError: string | null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly children = new Set<ResultPromise>();
  private daemonChild: ResultPromise | null = null;
  private cleaning: Promise<void> | null = null;

  constructor(readonly tmpfsBytes: number) {
    mkdirSync(this.diskDir);
    const mounted = sh('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsBytes},mode=0700`, 'soak-store', this.diskDir]);
    this.mountError = mounted.ok ? null : `mount -t tmpfs failed: ${mounted.out}`;
    this.db = join(this.diskDir, 'state', 'mcc.db');
    this.makeRepo();
    const config = join(this.dir, 'config.json');
    writeFileSync(config, JSON.stringify(this.config(), null, 2));
    mkdirSync(join(this.dir, 'tmux'), { mode: 0o700 });
    const { TMUX: _t, TMUX_PANE: _p, MCC_FAILPOINTS: _f, MCC_TMUX_BIN: _b, ...inherited } = process.env;
    this.env = {
      ...inherited,
      MCC_DB: this.db,
      // Every process of the run is this one host, named as `host` above (an inherited MCC_HOST would not be).
      MCC_HOST: this.host,
      MCC_TMUX_SOCKET: this.socket,
      MCC_CONFIG: config,
      TMUX_TMPDIR: join(this.dir, 'tmux'),
      XDG_STATE_HOME: join(this.dir, 'xdg-state'),
      XDG_CONFIG_HOME: join(this.dir, 'xdg-config'),
      NO_COLOR: '1',
    };
  }

  private makeRepo(): void {
    mkdirSync(this.repo);
    const git = (args: string[]) => execFileSync('git', ['-C', this.repo, ...args], { stdio: 'ignore' });
    git(['init', '-q', '-b', 'main']);
    git(['config', 'user.name', 'mcc soak']);
    git(['config', 'user.email', 'soak@example.invalid']);
    writeFileSync(join(this.repo, 'README'), 'soak\n');
    git(['add', 'README']);
    git(['commit', '-q', '-m', 'first']);
  }

  private config(): Record<string, unknown> {
    const profile = (outcome: string, bootMs: number, workMs: number) => ({
      command: [
        process.execPath,
        BIN,
        'demo-agent',
        '--boot-ms',
        String(bootMs),
        '--work-ms',
        String(workMs),
        '--outcome',
        outcome,
        '--input-log',
        this.inputLog,
        '--prompt-log',
        this.promptLog,
      ],
      ready: DEMO_LAYOUT_PATTERNS.plain.ready,
      busy: DEMO_LAYOUT_PATTERNS.plain.busy,
      question: '^QUESTION:',
      interrupt: ['Escape'],
      quietMs: SOAK_CONFIG.quietMs,
      readyTimeoutSeconds: SOAK_CONFIG.readyTimeoutSeconds,
      reviewIdleSeconds: SOAK_CONFIG.reviewIdleSeconds,
      workspace: { repo: this.repo, mode: 'worktree', base: 'main' },
    });
    return {
      ttlSeconds: SOAK_CONFIG.ttlSeconds,
      retryLimit: SOAK_CONFIG.retryLimit,
      intervalSeconds: SOAK_CONFIG.intervalSeconds,
      defaultProfile: 'review',
      profiles: {
        review: profile(PROFILES.review, 1200, 1500),
        done: profile(PROFILES.done, 800, 1200),
        question: profile(PROFILES.question, 1000, 1000),
      },
    };
  }

  /** Run the compiled binary; never rejects. */
  async mcc(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    const startedAt = Date.now();
    const child = this.spawn(args, timeoutMs);
    const r = await child;
    return {
      args,
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
      startedAt,
      endedAt: Date.now(),
    };
  }

  private spawn(args: string[], timeoutMs: number): ResultPromise {
    if (this.cleaning) throw new Error('the soak is stopping');
    const child = execa(process.execPath, [BIN, ...args], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: timeoutMs,
      cwd: this.dir,
      stdin: 'ignore',
    });
    this.children.add(child);
    void child.finally(() => this.children.delete(child));
    return child;
  }

  /** `tmux -L <ours> ...`: its stdout, or null on a non-zero exit (no server, no such session). */
  async tmux(args: string[]): Promise<string | null> {
    const r = await execa('tmux', ['-L', this.socket, ...args], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 10_000,
      stdin: 'ignore',
    });
    return r.exitCode === 0 ? String(r.stdout) : null;
  }

  /** Session names on our socket; null when tmux could not be read, [] when no server runs. */
  async sessions(): Promise<string[] | null> {
    const r = await execa('tmux', ['-L', this.socket, 'list-sessions', '-F', '#{session_name}'], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 10_000,
      stdin: 'ignore',
    });
    if (r.exitCode === 0) return String(r.stdout).split('\n').filter(Boolean);
    const err = String(r.stderr);
    return /no server running|error connecting|No such file/.test(err) ? [] : null;
  }

  /** The pids of live panes on our socket, by session name; null when tmux could not be read. */
  async panes(): Promise<Map<string, { pid: number; dead: boolean }> | null> {
    const names = await this.sessions();
    if (names === null) return null;
    if (names.length === 0) return new Map();
    const out = await this.tmux(['list-panes', '-a', '-F', '#{session_name} #{pane_pid} #{pane_dead}']);
    if (out === null) return null;
    const m = new Map<string, { pid: number; dead: boolean }>();
    for (const line of out.split('\n').filter(Boolean)) {
      const [name = '', pid = '0', dead = '0'] = line.split(' ');
      m.set(name, { pid: Number(pid), dead: dead === '1' });
    }
    return m;
  }

  /** Every row that can drift, read from a fresh read-only connection; null when the store cannot be read. */
  snapshot(): Snapshot | null {
    if (!existsSync(this.db)) return null;
    let db: Database.Database | null = null;
    try {
      db = new Database(this.db, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const d = db;
      return d.transaction(() => ({
        at: Date.now(),
        tickets: d.prepare('SELECT * FROM tickets ORDER BY seq').all() as TicketRow[],
        runtimes: d.prepare('SELECT * FROM runtime_sessions ORDER BY id').all() as RuntimeRow[],
        messages: d.prepare('SELECT * FROM messages ORDER BY id').all() as MessageRow[],
        workspaces: d.prepare('SELECT * FROM workspaces ORDER BY id').all() as WorkspaceRow[],
        lease:
          (d.prepare(DAEMON_LEASE_SQL).get(DAEMON_LEASE, `${DAEMON_LEASE}:%`) as
            { holder: string; expires_at: string } | undefined) ?? null,
      }))();
    } catch {
      return null;
    } finally {
      db?.close();
    }
  }

  /** The daemon lease row, or null (no store yet, no daemon yet, unreadable this instant). */
  lease(): { holder: string; expires_at: string } | null {
    if (!existsSync(this.db)) return null;
    let db: Database.Database | null = null;
    try {
      db = new Database(this.db, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 1000');
      return (
        (db.prepare(DAEMON_LEASE_SQL).get(DAEMON_LEASE, `${DAEMON_LEASE}:%`) as
          { holder: string; expires_at: string } | undefined) ?? null
      );
    } catch {
      return null;
    } finally {
      db?.close();
    }
  }

  /** Events after `afterId`, oldest first ([] when the store cannot be read). */
  events(afterId = 0): EventRow[] {
    if (!existsSync(this.db)) return [];
    let db: Database.Database | null = null;
    try {
      db = new Database(this.db, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      return db.prepare('SELECT * FROM events WHERE id > ? ORDER BY id').all(afterId) as EventRow[];
    } catch {
      return [];
    } finally {
      db?.close();
    }
  }

  /**
   * Demo agents of this run, with /proc state and working directory: node running `demo-agent` with our
   * prompt log. Not every process naming the log: a tmux server keeps the argv of the client that started
   * it, agent command and all.
   */
  agents(): AgentProc[] {
    const isAgent = (pid: number): boolean => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[0] === process.execPath && argv[2] === 'demo-agent';
      } catch {
        return false;
      }
    };
    return processesNaming(this.promptLog)
      .filter(isAgent)
      .map((pid) => {
        let cwd: string | null = null;
        try {
          cwd = readlinkSync(`/proc/${pid}/cwd`);
        } catch {
          // gone meanwhile
        }
        return { pid, state: procState(pid) ?? '?', cwd };
      });
  }

  /** Start `mcc --auto --pickup`; returns its pid. */
  startDaemon(maxRuntimes: number): number {
    const child = this.spawn(['--auto', '--pickup', '--max-runtimes', String(maxRuntimes)], 24 * 3600 * 1000);
    this.daemonChild = child;
    const pid = child.pid;
    if (pid === undefined) throw new Error('mcc --auto did not start');
    return pid;
  }

  get daemonPid(): number | null {
    return this.daemonChild?.pid ?? null;
  }

  /** kill -9 the daemon and wait until it is gone. */
  async killDaemon(): Promise<void> {
    const child = this.daemonChild;
    if (!child) return;
    child.kill('SIGKILL');
    await child.catch(() => undefined);
    this.daemonChild = null;
  }

  /** SIGTERM the daemon (it finishes its pass and releases the lease) and wait for it. */
  async stopDaemon(): Promise<void> {
    const child = this.daemonChild;
    if (!child) return;
    child.kill('SIGTERM');
    await child.catch(() => undefined);
    this.daemonChild = null;
  }

  /** How the daemon lease names a pid of this host to people (`holderLabel` of the stored holder). */
  holderOf(pid: number): string {
    return `${this.host}:${pid}`;
  }

  /**
   * Stop our children, wake and kill every demo agent of this run, kill our tmux server until no process
   * names the socket, unmount the tmpfs, remove the temp dir. Idempotent.
   */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const c of this.children) c.kill('SIGKILL');
      await Promise.allSettled([...this.children]);
      // A frozen agent takes no signal until thawed: thaw and release this run's freezer first.
      removeFreezer(this.socket);
      const deadline = Date.now() + 10_000;
      for (;;) {
        for (const pid of this.agents().map((a) => a.pid)) {
          try {
            process.kill(pid, 'SIGCONT');
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        // Our env: TMUX_TMPDIR puts the socket in our temp dir.
        sh('tmux', ['-L', this.socket, 'kill-server'], this.env);
        const left = [...processesNaming(this.socket), ...processesNaming(this.dir, false)];
        if (left.length === 0) break;
        if (Date.now() > deadline) {
          // A server or client that would not go: these name our unique socket or dir, so they are ours.
          for (const pid of left) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone meanwhile
            }
          }
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (this.mountError === null) {
        for (let i = 0; i < 20 && !sh('umount', [this.diskDir]).ok; i++) await new Promise((r) => setTimeout(r, 200));
        if (isMounted(this.diskDir)) sh('umount', ['-l', this.diskDir]);
      }
      if (!isMounted(this.diskDir)) rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

function isMounted(path: string): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[1] === path);
  } catch {
    return false;
  }
}
