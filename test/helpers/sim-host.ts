// A simulated host on this machine: its own host id, tmux socket, config and (where the machine allows: root
// and unshare) its own PID namespace with its own /proc, so its daemon, tmux server and agents have pids that
// no other simulated host can see. Each host's namespace has a small init (bash, which reaps what it adopts);
// daemons and one-shot commands enter it with nsenter, so a daemon can be SIGKILLed while the host's tmux
// server and agents live on, exactly as on a real machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTmuxSocket, type TmuxSocket } from './tmux-socket.js';
import { waitFor } from './wait.js';

const BIN = resolve('dist/cli/bin.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface DaemonProc {
  /** The nsenter (or node) process the test spawned, once spawned. */
  child: ChildProcess | null;
  /** Everything the daemon printed so far. */
  output(): string;
  /** The daemon's own pid as this (outer) machine sees it. */
  pid(): Promise<number>;
  exited: Promise<number | null>;
}

export interface SimHost {
  id: string;
  socket: TmuxSocket;
  /** True when the host runs in its own PID namespace. */
  isolated: boolean;
  env: NodeJS.ProcessEnv;
  /** Run a one-shot `mcc` command on this host. */
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Start `mcc --auto` on this host (extra args appended). */
  startDaemon(args?: string[]): DaemonProc;
  /** SIGKILL this host's running daemons (not its tmux server, not its agents). */
  kill9Daemons(): Promise<void>;
  /** Stop everything of this host: daemons, tmux server, namespace. */
  stop(): Promise<void>;
}

let nsChecked: boolean | null = null;

/** Whether PID namespaces can be made here (root, unshare present and permitted). */
export function pidNamespacesAvailable(): boolean {
  if (nsChecked !== null) return nsChecked;
  try {
    const out = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    nsChecked = out.trim() === '1';
  } catch {
    nsChecked = false;
  }
  return nsChecked;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The node process under an nsenter wrapper (or the process itself when not wrapped). */
async function daemonPid(child: ChildProcess, wrapped: boolean): Promise<number> {
  const top = child.pid;
  if (top === undefined) throw new Error('the daemon did not start');
  if (!wrapped) return top;
  return waitFor(
    `the daemon under nsenter ${top}`,
    () => childPids(top)[0] ?? 0,
    (p) => p > 0,
  );
}

/**
 * Make a simulated host `id`, whose store is `db` (a postgres:// URL or an SQLite path). `dir` is the test's
 * temp directory (the host's config file and HOME go under it).
 */
export function simHost(
  id: string,
  opts: { db: string; dir: string; config?: Record<string, unknown>; env?: NodeJS.ProcessEnv },
): SimHost {
  const socket = makeTmuxSocket(`mcc-test-${id}`);
  const home = join(opts.dir, `host-${id}`);
  mkdirSync(home, { recursive: true });
  const configFile = join(home, 'config.json');
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}));
  const env: NodeJS.ProcessEnv = {
    ...socket.env,
    CI: 'true',
    HOME: home,
    MCC_DB: opts.db,
    MCC_HOST: id,
    MCC_TMUX_SOCKET: socket.name,
    MCC_CONFIG: configFile,
    ...opts.env,
  };
  const isolated = pidNamespacesAvailable();
  let init: ChildProcess | null = null;
  if (isolated) {
    // bash as PID 1 reaps every process it adopts; the loop keeps it alive until the host is stopped.
    init = spawn(
      'unshare',
      ['--pid', '--fork', '--mount-proc', 'bash', '-c', 'while :; do sleep 3600 & wait $!; done'],
      {
        env,
        stdio: 'ignore',
      },
    );
  }
  const daemons: DaemonProc[] = [];

  /** The argv that runs `args` on this host. */
  async function argv(args: string[]): Promise<[string, string[]]> {
    if (init === null) return [process.execPath, [BIN, ...args]];
    const unsharePid = init.pid ?? 0;
    // The namespace's PID 1 is unshare's child.
    const nsInit = await waitFor(
      `PID 1 of host ${id}`,
      () => childPids(unsharePid)[0] ?? 0,
      (p) => p > 0,
    );
    return ['nsenter', ['--target', String(nsInit), '--pid', '--mount', '--', process.execPath, BIN, ...args]];
  }

  return {
    id,
    socket,
    isolated,
    env,
    async run(args, runOpts = {}) {
      const [cmd, cmdArgs] = await argv(args);
      return new Promise<RunResult>((resolveRun) => {
        const child = spawn(cmd, cmdArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), runOpts.timeoutMs ?? 60_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolveRun({ code, stdout, stderr });
        });
        child.stdin.end(runOpts.input ?? '');
      });
    },
    startDaemon(args = []) {
      let out = '';
      let wrapped = false;
      let resolveExit: (code: number | null) => void = () => undefined;
      const exited = new Promise<number | null>((r) => (resolveExit = r));
      const ready = argv(['--auto', ...args]).then(([cmd, cmdArgs]) => {
        wrapped = cmd === 'nsenter';
        const child = spawn(cmd, cmdArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolveExit(code));
        proc.child = child;
        return child;
      });
      const proc: DaemonProc = {
        child: null,
        output: () => out,
        pid: async () => daemonPid(await ready, wrapped),
        exited,
      };
      daemons.push(proc);
      return proc;
    },
    async kill9Daemons() {
      for (const d of daemons.splice(0)) {
        const pid = await d.pid().catch(() => 0);
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await d.exited;
      }
    },
    async stop() {
      for (const d of daemons.splice(0)) {
        // Signal the daemon itself: nsenter does not pass signals on to its child.
        const pid = await d.pid().catch(() => 0);
        const signal = (sig: NodeJS.Signals) => {
          try {
            if (pid > 0) process.kill(pid, sig);
          } catch {
            // Gone.
          }
        };
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), 5000);
        await d.exited;
        clearTimeout(timer);
      }
      await socket.cleanup();
      if (init !== null) {
        // Killing the namespace's PID 1 ends everything left inside it.
        const unsharePid = init.pid ?? 0;
        for (const p of childPids(unsharePid)) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // Gone.
          }
        }
        init.kill('SIGKILL');
      }
    },
  };
}
