import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ProcessPort } from '../core/process.port.js';
import type { StorePort } from '../core/store.port.js';
import { sessionName, type EventInput, type ProcessIdentity } from '../core/types.js';

// Throwaway worlds for the bench: a temp dir, a private tmux server, stores filled fast, and live runtimes
// made through the store port exactly as a pickup makes them. Everything made here is registered with a
// Cleanup, which runs on normal exit, on errors and on SIGINT/SIGTERM.

/**
 * Synchronous cleanups run once, newest first; sync so they also run from a signal handler. A cleanup
 * throws when it could not remove what it owns; those become `leftovers`, which the bench reports.
 */
export class Cleanup {
  private readonly fns: { what: string; fn: () => void }[] = [];
  private done = false;
  readonly leftovers: string[] = [];

  add(what: string, fn: () => void): void {
    this.fns.push({ what, fn });
  }

  runAll(): void {
    if (this.done) return;
    this.done = true;
    for (const { what, fn } of this.fns.reverse()) {
      try {
        fn();
      } catch (e) {
        this.leftovers.push(`${what}: ${(e as Error).message}`);
        process.stderr.write(`bench: cleanup of ${what} failed: ${(e as Error).message}\n`);
      }
    }
  }

  /** Clean up and exit on SIGINT/SIGTERM (130/143). */
  onSignals(): void {
    for (const [sig, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}: cleaning up\n`);
        this.runAll();
        process.exit(code);
      });
    }
  }
}

/** A fresh private temp dir, removed by the cleanup. */
export function tempDir(cleanup: Cleanup, prefix = 'mcc-bench-'): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  cleanup.add(`temp dir ${path}`, () => {
    rmSync(path, { recursive: true, force: true });
    if (existsSync(path)) throw new Error('still there');
  });
  return path;
}

/** Where tmux keeps the socket file of `-L name` for this user. */
export function socketPath(name: string): string {
  return join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`, name);
}

export interface PrivateTmux {
  name: string;
  /** `tmux -L name ...args`; rejects on a non-zero exit. */
  run(args: readonly string[]): Promise<string>;
  /** The server's pid, or null when no server runs. */
  serverPid(): Promise<number | null>;
}

/** A uniquely named tmux socket whose server is killed, and socket file removed, by the cleanup. */
export function privateTmux(cleanup: Cleanup, prefix = 'mcc-bench'): PrivateTmux {
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  cleanup.add(`tmux server ${name}`, () => {
    let pid = 0;
    try {
      const opts = {
        encoding: 'utf8' as const,
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[],
      };
      pid = Number(execFileSync('tmux', ['-L', name, 'display-message', '-p', '#{pid}'], opts).trim());
      execFileSync('tmux', ['-L', name, 'kill-server'], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // No server was started on this socket (or it is already gone): nothing to kill.
    }
    // kill-server leaves the socket file behind.
    rmSync(socketPath(name), { force: true });
    // A server with a thousand panes, on a loaded machine, takes seconds to hang them all up.
    const deadline = Date.now() + 30_000;
    while (pid > 0 && existsSync(`/proc/${pid}`) && Date.now() < deadline)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    if (pid > 0 && existsSync(`/proc/${pid}`)) throw new Error(`server pid ${pid} still running`);
  });
  const run = (args: readonly string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('tmux', ['-L', name, ...args], { maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tmux ${args[0] ?? ''}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      });
    });
  return {
    name,
    run,
    async serverPid() {
      try {
        return Number((await run(['display-message', '-p', '#{pid}'])).trim()) || null;
      } catch {
        return null;
      }
    },
  };
}

/** A config for the bench's stores: the private socket, and a `sleep` profile as the default. */
export function writeBenchConfig(dir: string, socket: string): string {
  const path = join(dir, 'config.json');
  const config = { socket, defaultProfile: 'sleep', profiles: { sleep: { command: ['sleep', '100000'] } } };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

export interface BulkTickets {
  count: number;
  status: 'todo' | 'done';
  /** Title of the ticket with sequence number `seq`. */
  title?: (seq: number) => string;
  /** Also write the history a done ticket has: a closed runtime and its created/closed events. */
  history?: { host: string; socket: string };
}

/**
 * Insert tickets straight into SQLite with prepared statements in ONE transaction (the port would take one
 * transaction per ticket). Keys continue after the highest existing seq; returns the keys' first seq.
 */
export function bulkInsertTickets(dbPath: string, b: BulkTickets, now = Date.now()): number {
  const db = new Database(dbPath);
  try {
    const at = new Date(now).toISOString();
    const first = (db.prepare('SELECT coalesce(max(seq), 0) + 1 AS s FROM tickets').get() as { s: number }).s;
    const ticket = db.prepare(
      `INSERT INTO tickets (key, seq, title, body, status, profile, attempts, human_input_required, version, created_at, updated_at)
       VALUES (?, ?, ?, '', ?, 'sleep', ?, 0, 1, ?, ?)`,
    );
    const runtime = db.prepare(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, status, created_at, closed_at, closed_reason, version)
       VALUES (?, ?, ?, ?, 'closed', ?, ?, 'ticket done', 2)`,
    );
    const event = db.prepare(
      `INSERT INTO events (at, ticket_key, actor, kind, status, summary) VALUES (?, ?, 'bench', ?, 'ok', ?)`,
    );
    const title = b.title ?? ((seq: number) => `bench ticket ${seq}`);
    db.transaction(() => {
      for (let seq = first; seq < first + b.count; seq++) {
        const key = `MC-${seq}`;
        ticket.run(key, seq, title(seq), b.status, b.history ? 1 : 0, at, at);
        event.run(at, key, 'ticket.created', `created ${key}`);
        if (!b.history) continue;
        runtime.run(key, b.history.host, b.history.socket, sessionName(key), at, at);
        event.run(at, key, 'ticket.move', 'in_review -> done');
      }
      db.prepare("UPDATE sequences SET value = max(value, ?) WHERE name = 'ticket'").run(first + b.count - 1);
    })();
    return first;
  } finally {
    db.close();
  }
}

const bench = (key: string | null, runtimeId: number | null, kind: string, summary: string): EventInput => ({
  ticketKey: key,
  runtimeId,
  actor: 'bench',
  kind,
  status: 'ok',
  summary,
});

/** Sessions per tmux invocation: tmux refuses a command list longer than its message size (~16 KiB). */
const SESSIONS_PER_CALL = 60;

export interface LiveDeps {
  store: StorePort;
  /**
   * Other stores that record the same world: the same claims, spawns and deliveries are made in each (they must
   * hold the same todo tickets and carry `store`'s store id, since one session can carry one tag).
   */
  mirrors?: readonly StorePort[];
  processes: ProcessPort;
  tmux: PrivateTmux;
  host: string;
  /** The server config (`-f`), read when the first call starts the server. */
  tmuxConfig: string;
}

interface Claimed {
  runtimeId: number;
  runtimeVersion: number;
  ticketVersion: number;
  promptId: number;
}

async function claimAll(store: StorePort, d: LiveDeps, keys: readonly string[]): Promise<Map<string, Claimed>> {
  const claimed = new Map<string, Claimed>();
  for (const key of keys) {
    const t = await store.getTicket(key);
    if (!t) throw new Error(`bench: no ticket ${key}`);
    const res = await store.claim({
      key,
      ticketVersion: t.version,
      runtime: { host: d.host, tmuxSocket: d.tmux.name, tmuxSession: sessionName(key) },
      promptBody: `${key}: bench agent`,
      now: Date.now(),
      event: bench(key, null, 'pickup.claim', `claimed ${key}`),
    });
    if (!res.ok) throw new Error(`bench: claim ${key}: ${res.message}`);
    const { runtime, ticket, prompt } = res.value;
    claimed.set(key, {
      runtimeId: runtime.id,
      runtimeVersion: runtime.version,
      ticketVersion: ticket.version,
      promptId: prompt.id,
    });
  }
  return claimed;
}

/** recordSpawn with the pane's real identity, and the prompt delivered. */
async function recordLive(
  store: StorePort,
  key: string,
  c: Claimed,
  pane: { paneId: string; pid: number },
  identity: ProcessIdentity,
  now: number,
): Promise<void> {
  const rec = await store.recordSpawn({
    runtimeId: c.runtimeId,
    runtimeVersion: c.runtimeVersion,
    ticketKey: key,
    ticketVersion: c.ticketVersion,
    paneId: pane.paneId,
    identity,
    now,
    event: bench(key, c.runtimeId, 'pickup.spawn', `${sessionName(key)} running, agent pid ${pane.pid}`),
  });
  if (!rec.ok) throw new Error(`bench: recordSpawn ${key}: ${rec.message}`);
  const begun = await store.beginDelivery({ messageId: c.promptId, runtimeId: c.runtimeId, token: 'bench', now });
  if (!begun.ok) throw new Error(`bench: beginDelivery ${key}: ${begun.message}`);
  const sent = await store.finishDelivery({
    messageId: c.promptId,
    now,
    event: bench(key, c.runtimeId, 'message.sent', 'prompt sent'),
  });
  if (!sent.ok) throw new Error(`bench: finishDelivery ${key}: ${sent.message}`);
}

/**
 * Make `keys` (todo tickets) live exactly as a pickup leaves them: claim (runtime row `spawning`, prompt
 * queued), a `sleep` agent in session mc-<key> tagged with the store id, recordSpawn with the pane pid's
 * real identity from /proc, and the prompt delivered (so no pass sees a pending message). Sessions are
 * made many per tmux invocation: the argv is our own constant, no ticket text reaches tmux.
 */
export async function makeLive(d: LiveDeps, keys: readonly string[]): Promise<void> {
  const stores = [d.store, ...(d.mirrors ?? [])];
  const claimedIn = new Map<StorePort, Map<string, Claimed>>();
  for (const store of stores) {
    if (store.storeId !== d.store.storeId) throw new Error('bench: a mirror store must carry the same store id');
    claimedIn.set(store, await claimAll(store, d, keys));
  }
  for (let i = 0; i < keys.length; i += SESSIONS_PER_CALL) {
    const args: string[] = ['-f', d.tmuxConfig];
    for (const key of keys.slice(i, i + SESSIONS_PER_CALL)) {
      const s = sessionName(key);
      args.push(
        'new-session',
        '-d',
        '-s',
        s,
        '-x',
        '200',
        '-y',
        '50',
        '-e',
        `MCC_TICKET=${key}`,
        '--',
        'sleep',
        '100000',
        ';',
      );
      args.push('set-option', '-t', `=${s}:`, '@mcc_store', d.store.storeId, ';');
    }
    await d.tmux.run(args);
  }
  const panes = new Map<string, { paneId: string; pid: number }>();
  for (const line of (await d.tmux.run(['list-panes', '-a', '-F', '#{session_name} #{pane_id} #{pane_pid}'])).split(
    '\n',
  )) {
    const [session, paneId, pid] = line.split(' ');
    if (session && paneId && pid) panes.set(session, { paneId, pid: Number(pid) });
  }
  const ids = await d.processes.inspect(keys.map((k) => panes.get(sessionName(k))?.pid ?? 0));
  // Recorded after the spawn, as the service records it: the pane then vouches for its pid (observe.ts).
  const now = Date.now();
  for (const key of keys) {
    const pane = panes.get(sessionName(key));
    const obs = pane ? ids.get(pane.pid) : undefined;
    if (!pane || obs?.kind !== 'alive')
      throw new Error(`bench: session for ${key} did not come up (${JSON.stringify(obs)})`);
    for (const store of stores) await recordLive(store, key, claimedIn.get(store)!.get(key)!, pane, obs.identity, now);
  }
}
