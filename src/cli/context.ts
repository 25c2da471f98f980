import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../core/clock.port.js';
import { parseConfig, type Config } from '../core/config.js';
import { parseFailpoints, type Failpoints } from '../core/failpoints.js';
import type { HostIdentity } from '../core/hosts.js';
import { fail, ok, StoreError, type Result } from '../core/result.js';
import { MissionControl, type ServiceDeps } from '../core/service.js';
import type { StorePort } from '../core/store.port.js';
import { NodeCommandRunner } from '../probes/command-runner.node.js';
import { GitProbe } from '../probes/git.probe.js';
import { createProcessProbe } from '../probes/process.probe.js';
import { ChecksProbe } from '../probes/checks.probe.js';
import { TmuxProbe } from '../probes/tmux.probe.js';
import { isServerStore, resolveDbPath } from '../store/paths.js';
import { resolveHostIdentity } from './host-id.js';
import { openSqliteStore } from '../store/ticket-store.sqlite.js';

// Wiring: config, store, probes and the core service, from flags and environment. The only place that
// knows every adapter.

export interface ContextOptions {
  db?: string;
  socket?: string;
  config?: string;
  /** `--host NAME`: this host's id (else MCC_HOST, else hostname plus machine id). */
  host?: string;
  env: NodeJS.ProcessEnv;
  actor?: string;
  clock?: Clock;
  /** One tmux process per command instead of the persistent control client (`--tmux-exec`; env MCC_TMUX_EXEC=1). */
  tmuxExec?: boolean;
}

export interface McContext {
  /** What commands use: every change and every read goes through it. */
  service: MissionControl;
  /** The adapters the service was built from, for tests and the bench that build their own fixtures or services. */
  deps: ServiceDeps;
  /** The same store as `deps.store` (test fixtures); commands never use it. */
  store: StorePort;
  config: Config;
  /** Which host this process is, and the legacy name its old rows carry. */
  host: HostIdentity;
  dbPath: string;
  /** The store is a PostgreSQL server (dbPath is then its URL without the password), not an SQLite file. */
  serverStore: boolean;
  /** The tmux adapter itself: `mcc doctor` asks it whether the control client is used. */
  tmux: TmuxProbe;
  close(): void;
}

/**
 * How tmux is driven: `--tmux-exec` / MCC_TMUX_EXEC=1 one process per command; MCC_TMUX_CONTROL=1 the control
 * client whatever the tmux version (before 3.7 that risks the server: see controlModeSafe); else `auto`.
 */
function tmuxMode(opts: ContextOptions): 'exec' | 'control' | 'auto' {
  if (opts.tmuxExec === true || opts.env['MCC_TMUX_EXEC'] === '1') return 'exec';
  return opts.env['MCC_TMUX_CONTROL'] === '1' ? 'control' : 'auto';
}

/** The argv that runs this very program: node + the compiled entry point. */
export function selfArgv(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [process.execPath, resolve(here, 'bin.js')];
}

export function operatorActor(env: NodeJS.ProcessEnv, prefix = 'operator'): string {
  let user = env['USER'] ?? '';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): the env name, or uid, is still better than nothing.
  }
  return `${prefix}:${user || process.getuid?.() || 'unknown'}`;
}

function configPath(opts: ContextOptions): { path: string; explicit: boolean } {
  const explicit = opts.config ?? opts.env['MCC_CONFIG'];
  if (explicit) return { path: resolve(explicit), explicit: true };
  const base = opts.env['XDG_CONFIG_HOME']?.startsWith('/') ? opts.env['XDG_CONFIG_HOME'] : join(homedir(), '.config');
  return { path: join(base, 'mcc', 'config.json'), explicit: false };
}

/** Read and validate the config; nothing is opened or written before this succeeds. */
export function loadConfig(opts: ContextOptions): Result<Config> {
  const { path, explicit } = configPath(opts);
  let text: string | null = null;
  if (existsSync(path)) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return fail('invalid', `config ${path}: cannot read: ${(e as Error).message}`);
    }
  } else if (explicit) {
    return fail('invalid', `config ${path}: no such file`);
  }
  const parsed = parseConfig(text, text === null ? null : path, { argv: selfArgv() });
  if (!parsed.ok) return parsed;
  const socket = opts.socket ?? opts.env['MCC_TMUX_SOCKET'] ?? parsed.value.socket;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(socket))
    return fail('invalid', `socket "${socket}": letters, digits, dash and underscore only`);
  return ok({ ...parsed.value, socket });
}

function failpointsFrom(env: NodeJS.ProcessEnv): Result<Failpoints> {
  const spec = env['MCC_FAILPOINTS'];
  if (!spec) return ok({ hit: () => undefined });
  let armed;
  try {
    armed = parseFailpoints(spec);
  } catch (e) {
    return fail('invalid', (e as Error).message);
  }
  return ok({
    hit(name) {
      const mode = armed.get(name);
      if (!mode) return;
      process.stderr.write(`mcc: failpoint ${name} (${mode})\n`);
      if (mode === 'crash') process.kill(process.pid, 'SIGKILL');
      if (mode === 'exit') process.exit(99);
      throw new Error(`failpoint ${name}`);
    },
  });
}

/**
 * Open everything a command needs. Errors are `invalid` (bad config or flags) or `store_failed`. The store is
 * SQLite (a file) unless `--db` / MCC_DB is a postgres:// URL; the PostgreSQL adapter (and `pg`) is loaded only
 * then.
 */
export async function openContext(opts: ContextOptions): Promise<Result<McContext>> {
  const config = loadConfig(opts);
  if (!config.ok) return config;
  const failpoints = failpointsFrom(opts.env);
  if (!failpoints.ok) return failpoints;
  const host = resolveHostIdentity({ ...(opts.host !== undefined ? { flag: opts.host } : {}), env: opts.env });
  if (!host.ok) return host;
  const spec = resolveDbPath({ ...(opts.db ? { flag: opts.db } : {}), env: opts.env });
  const server = isServerStore(spec);
  let store: StorePort;
  try {
    store = server
      ? await (
          await import('../store/ticket-store.pg.js')
        ).openPgStore(spec, { log: (m) => process.stderr.write(`mcc: ${m}\n`) })
      : openSqliteStore(resolve(spec));
  } catch (e) {
    return fail(e instanceof StoreError ? 'store_failed' : 'invalid', (e as Error).message);
  }
  // What names the store to people: the file, or the URL without its password.
  const dbPath = server ? store.location : resolve(spec);
  // Where mcc keeps its own files (tmux.conf): beside the SQLite file, else the default state directory.
  const stateDir = dirname(server ? resolveDbPath({ env: { ...opts.env, MCC_DB: '' } }) : dbPath);
  const runner = new NodeCommandRunner();
  const clock = opts.clock ?? systemClock;
  const tmux = new TmuxProbe({
    socket: config.value.socket,
    runner,
    tmuxBin: opts.env['MCC_TMUX_BIN'] || 'tmux',
    configFile: join(stateDir, 'tmux.conf'),
    now: () => clock.now(),
    mode: tmuxMode(opts),
  });
  const deps: ServiceDeps = {
    store,
    tmux,
    processes: createProcessProbe(runner),
    clock,
    config: config.value,
    host: host.value.id,
    hostAliases: host.value.aliases,
    actor: opts.actor ?? operatorActor(opts.env),
    failpoints: failpoints.value,
    // `worktree add` checks a whole tree out: a large repository takes far longer than a tmux call.
    git: new GitProbe({ runner: new NodeCommandRunner({ timeoutMs: 120_000 }) }),
    checks: new ChecksProbe(runner),
  };
  return ok({
    service: new MissionControl(deps),
    deps,
    store,
    config: config.value,
    host: host.value,
    dbPath,
    serverStore: server,
    tmux,
    close: () => {
      // Ends the control client's stdin; the client is unref'd, so this never holds a one-shot command open.
      void tmux.close();
      store.close();
    },
  });
}
