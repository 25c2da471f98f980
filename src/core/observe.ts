import type { Config } from './config.js';
import { bufferName } from './delivery.js';
import { hostViews } from './hosts.js';
import type { Snapshot } from './findings.js';
import { panesBySession, type Where } from './liveness.js';
import type { ProcessObservation, ProcessPort } from './process.port.js';
import { CAPTURE_LINES } from './screen.js';
import type { ActiveRows, StorePort } from './store.port.js';
import type { PaneInfo, TmuxPort } from './tmux.port.js';
import { keyOfSession, sessionName, type RuntimeSession } from './types.js';

// Gathering one snapshot: ONE tmux list-panes, one batch of process identities, the store rows that can
// drift, and pane captures only where something changed. This is the per-pass cost the bench measures.

/** Captures per pass are bounded so a thousand busy panes never stall a pass; the rest wait a pass. */
const MAX_CAPTURES_PER_PASS = 64;

export interface ObserveDeps {
  store: StorePort;
  tmux: TmuxPort;
  processes: ProcessPort;
  config: Config;
  host: string;
  /** Legacy names of this host (see Where.aliases). */
  hostAliases?: readonly string[];
}

/**
 * The last screen captured of each pane, with the window activity it showed and when it was taken. A pane
 * is captured again only when tmux reports newer activity; otherwise its last screen still stands and is
 * reused, so a marker or a ready prompt is never lost because no action was taken on the pass that saw it.
 * tmux reports activity in whole seconds: a capture taken within the same second as the last output may
 * have missed the rest of that second, so such a pane is captured once more.
 */
export class CaptureCache {
  private readonly seen = new Map<
    string,
    { activity: number; capturedAt: number; changedAt: number; lines: readonly string[] }
  >();
  changed(paneId: string, activity: number): boolean {
    const e = this.seen.get(paneId);
    return e === undefined || e.activity !== activity || e.capturedAt < activity + 1000;
  }
  /**
   * Keep a fresh capture. A screen equal to the last one keeps its change time: output that redraws the same
   * screen (a title, a cursor move) is not a change. A screen cannot have changed after the window's last
   * activity (whole seconds, so before activity + 1 s), which also dates a pane seen for the first time.
   */
  remember(paneId: string, activity: number, capturedAt: number, lines: readonly string[]): void {
    const e = this.seen.get(paneId);
    const same = e !== undefined && e.lines.length === lines.length && e.lines.every((l, i) => l === lines[i]);
    const changedAt = Math.min(same ? e.changedAt : capturedAt, activity + 1000);
    this.seen.set(paneId, { activity, capturedAt, changedAt, lines });
  }
  lines(paneId: string): readonly string[] | undefined {
    return this.seen.get(paneId)?.lines;
  }
  /** When the pane's screen last changed, as far as the captures show. */
  changedAt(paneId: string): number | undefined {
    return this.seen.get(paneId)?.changedAt;
  }
  /** Capture this pane again next pass. */
  invalidate(paneId: string): void {
    this.seen.delete(paneId);
  }
  forget(paneIds: ReadonlySet<string>): void {
    for (const id of this.seen.keys()) if (!paneIds.has(id)) this.seen.delete(id);
  }
  /**
   * The active rows of the last pass, tagged with the store's change token read before they were loaded and the
   * session keys they were loaded for. Rows are plain data nobody mutates, so equal tags mean equal rows: a
   * commit after the token was read (ours or another process's) moves the token and the next pass reloads.
   */
  private rows: { token: number; keys: string; rows: ActiveRows } | null = null;
  /** The store's active rows for these session keys, reloaded only when the store changed since the last load. */
  async activeRows(store: StorePort, sessionKeys: readonly string[]): Promise<ActiveRows> {
    const token = await store.changeToken();
    const keys = sessionKeys.join('\n');
    if (this.rows !== null && this.rows.token === token && this.rows.keys === keys) return this.rows.rows;
    const rows = await store.loadActive(sessionKeys);
    this.rows = { token, keys, rows };
    return rows;
  }
}

/**
 * Whether a live pane proves the recorded agent identity without reading /proc: the pane is the recorded
 * one, its first process is the recorded pid, it is not dead, the boot is the same, and the session was
 * created no later than the agent was last seen alive (a session re-created since is a different process).
 */
export function paneVouches(pane: PaneInfo, r: RuntimeSession, bootId: string | null): boolean {
  const seen = r.lastSeenAt ?? r.createdAt;
  return (
    !pane.paneDead &&
    pane.paneId === r.paneId &&
    pane.panePid === r.pid &&
    bootId !== null &&
    r.bootId === bootId &&
    pane.sessionCreated <= seen + 1000
  );
}

/** Observe the world once and return the snapshot `diagnose` judges. */
export async function observe(deps: ObserveDeps, cache: CaptureCache, now: () => number): Promise<Snapshot> {
  const tmux = await deps.tmux.observe();
  const panes = panesBySession(tmux);
  const sessionKeys: string[] = [];
  for (const name of panes.keys()) {
    const key = keyOfSession(name);
    if (key) sessionKeys.push(key);
  }
  const rows = await cache.activeRows(deps.store, sessionKeys);
  const bootId = await deps.processes.bootId();
  const where: Where = {
    host: deps.host,
    aliases: deps.hostAliases ?? [],
    socket: deps.config.socket,
    storeId: deps.store.storeId,
    bootId,
  };
  // Other hosts' heartbeats: a runtime of an UNREACHABLE host is shown `?` with its age, and never judged.
  const hosts = hostViews(await deps.store.listHosts(), rows.runtimes, now(), deps.config.hostTtlSeconds);

  // A pane vouches for its first process: while the pane is not dead, tmux has not reaped that child, so
  // its pid cannot have been reused. Only pids the pane cannot vouch for are read from /proc.
  const processes = new Map<number, ProcessObservation>();
  const toInspect = new Set<number>();
  for (const r of rows.runtimes) {
    if (r.pid === null || r.status === 'closed') continue;
    const pane = panes.get(r.tmuxSession)?.find((p) => p.paneId === r.paneId);
    const vouched = pane !== undefined && paneVouches(pane, r, bootId);
    if (vouched && r.pidStart !== null && r.bootId !== null) {
      processes.set(r.pid, {
        kind: 'alive',
        identity: { pid: r.pid, start: r.pidStart, bootId: r.bootId },
        state: 'pane',
        comm: pane.currentCommand,
      });
    } else toInspect.add(r.pid);
  }
  for (const key of sessionKeys) {
    const p = panes.get(sessionName(key))?.[0];
    if (p && !p.paneDead && !processes.has(p.panePid)) toInspect.add(p.panePid);
  }
  for (const pid of processes.keys()) toInspect.delete(pid);
  if (toInspect.size > 0)
    for (const [pid, obs] of await deps.processes.inspect([...toInspect])) processes.set(pid, obs);

  const captures = new Map<string, readonly string[]>();
  const screenChangedAt = new Map<string, number>();
  const buffers = new Set<string>();
  if (tmux.kind === 'ok') {
    const withMessages = new Set(rows.messages.map((m) => m.ticketKey));
    const stale: { paneId: string; activity: number; urgent: boolean }[] = [];
    for (const t of rows.tickets) {
      if (t.status !== 'in_progress' && t.status !== 'todo') continue;
      const pane = panes.get(sessionName(t.key))?.[0];
      if (!pane || pane.paneDead) continue;
      if (cache.changed(pane.paneId, pane.windowActivity)) {
        // An out-of-date screen is never used: a pane left uncaptured this pass has no screen at all, so
        // nothing is typed into it on the strength of what it showed before.
        stale.push({ paneId: pane.paneId, activity: pane.windowActivity, urgent: withMessages.has(t.key) });
        continue;
      }
      const cached = cache.lines(pane.paneId);
      if (cached) captures.set(pane.paneId, cached);
      const changedAt = cache.changedAt(pane.paneId);
      if (changedAt !== undefined) screenChangedAt.set(pane.paneId, changedAt);
    }
    // Panes with queued text first: they are the ones waiting for a ready prompt.
    stale.sort((a, b) => Number(b.urgent) - Number(a.urgent));
    for (const c of stale.slice(0, MAX_CAPTURES_PER_PASS)) {
      const capturedAt = now();
      const res = await deps.tmux.capture(c.paneId, CAPTURE_LINES);
      if (res.ok) {
        captures.set(c.paneId, res.value);
        cache.remember(c.paneId, c.activity, capturedAt, res.value);
        const changedAt = cache.changedAt(c.paneId);
        if (changedAt !== undefined) screenChangedAt.set(c.paneId, changedAt);
      }
    }
    cache.forget(new Set(tmux.panes.map((p) => p.paneId)));
    for (const m of rows.messages) {
      if (m.status !== 'delivering' || !m.deliveryToken) continue;
      const name = bufferName(m.id, m.deliveryToken);
      const res = await deps.tmux.hasBuffer(name);
      if (!res.ok) return { ...base(), buffers: null };
      if (res.value) buffers.add(name);
    }
  }
  return base();

  function base(): Snapshot {
    return {
      at: now(),
      where,
      hosts,
      policy: { ttlMs: deps.config.ttlSeconds * 1000, retryLimit: deps.config.retryLimit },
      rows,
      tmux,
      processes,
      captures,
      screenChangedAt,
      buffers,
      profiles: deps.config.profiles,
      defaultProfile: deps.config.defaultProfile,
    };
  }
}
