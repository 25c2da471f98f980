// The invariants of the model test: those that hold after every command, and those that hold once the world
// has settled (time past the TTL, passes run until nothing is left to do).
import { findMarker } from '../../src/core/screen.js';
import type { Finding } from '../../src/core/findings.js';
import type { RuntimeSession, Ticket } from '../../src/core/types.js';
import { RETRY_LIMIT, TTL_MS, type Env, type Rows } from './model-env.js';

export class InvariantViolation extends Error {}

function fail(env: Env, what: string): never {
  throw new InvariantViolation(`${what}\n  after: ${env.log.join(' ; ')}`);
}

const LIVE_STATUSES = new Set(['running', 'idle', 'waiting']);

export interface Before {
  rows: Rows;
  kills: number;
}

export async function before(env: Env): Promise<Before> {
  return { rows: await env.rows(), kills: env.world.tmux.kills.length };
}

/** The row's recorded agent is really there: its pane, its pid, its start time, this boot. */
function rowIsLive(env: Env, r: RuntimeSession): boolean {
  const pane = r.paneId ? env.world.tmux.paneById(r.paneId) : undefined;
  return (
    pane !== undefined &&
    pane.session === r.tmuxSession &&
    !pane.dead &&
    pane.pid === r.pid &&
    r.bootId === env.world.procs.boot &&
    env.world.procs.alive(pane.pid, r.pidStart)
  );
}

function openRows(rows: Rows, key: string): RuntimeSession[] {
  return rows.runtimes.filter((r) => r.ticketKey === key && r.status !== 'closed');
}

/** After every command. `operatorKey`: the ticket an operator command moved or retired, which may change. */
export async function checkAlways(env: Env, prev: Before, operatorKey: string | null, racy = false): Promise<void> {
  const now = await env.rows();
  const prevTicket = new Map(prev.rows.tickets.map((t) => [t.key, t]));
  const prevRuntime = new Map(prev.rows.runtimes.map((r) => [r.id, r]));
  for (const t of now.tickets) {
    const was = prevTicket.get(t.key);
    const open = openRows(now, t.key);
    if (open.length > 1) fail(env, `${t.key} has ${open.length} open runtime rows`);
    if (
      was &&
      (was.status === 'in_review' || was.status === 'done') &&
      was.status !== t.status &&
      operatorKey !== t.key
    ) {
      fail(env, `invariant 4: the system moved ${t.key} from ${was.status} to ${t.status}`);
    }
    if (was && t.attempts < was.attempts) {
      // Only the operator's unblock resets the count; spawns are then counted afresh.
      if (operatorKey !== t.key) fail(env, `${t.key} attempts went down ${was.attempts} -> ${t.attempts}`);
      env.spawnBase.set(t.key, env.world.tmux.spawnLog.filter((s) => s === `mc-${t.key}`).length);
    }
    if (t.status === 'blocked' && !t.blockedReason) fail(env, `${t.key} is blocked without a reason`);
    if (t.status === 'blocked' && t.attempts < RETRY_LIMIT && !env.operatorBlocked.has(t.key)) {
      fail(env, `invariant 10: ${t.key} blocked with attempts ${t.attempts}/${RETRY_LIMIT}, reason ${t.blockedReason}`);
    }
    const spawns = env.world.tmux.spawnLog.filter((s) => s === `mc-${t.key}`).length - (env.spawnBase.get(t.key) ?? 0);
    if (spawns > t.attempts)
      fail(env, `invariant 8: ${spawns} sessions spawned for ${t.key} in ${t.attempts} attempts`);
    if (t.status === 'todo' && env.world.ourLiveSession(t.key, env.store.storeId))
      fail(env, `invariant 1: ${t.key} is todo while mc-${t.key} lives`);
    const liveRow = open.find((r) => LIVE_STATUSES.has(r.status) && r.pid !== null);
    if (t.status === 'in_progress' && liveRow && t.workerPid !== liveRow.pid) {
      fail(env, `${t.key} in_progress with worker_pid ${t.workerPid} but its running runtime has pid ${liveRow.pid}`);
    }
    checkMessages(env, now, t);
  }
  for (const r of now.runtimes) {
    const old = prevRuntime.get(r.id);
    const written = !old || old.version !== r.version;
    if (!racy && written && LIVE_STATUSES.has(r.status) && !rowIsLive(env, r)) {
      fail(
        env,
        `invariant 6: runtime ${r.id} of ${r.ticketKey} was just written as ${r.status} (pid ${r.pid}) but is not live`,
      );
    }
  }
  for (const k of env.world.tmux.kills.slice(prev.kills)) {
    const key = k.session.slice(3);
    const t = now.tickets.find((x) => x.key === key);
    if (k.wasLive && operatorKey !== key && t?.status !== 'done')
      fail(env, `a live agent in ${k.session} was killed by the system (ticket ${t?.status})`);
  }
  checkDeliveries(env);
}

function checkMessages(env: Env, rows: Rows, t: Ticket): void {
  const msgs = rows.messages.filter((m) => m.ticketKey === t.key);
  const openPrompts = msgs.filter((m) => m.kind === 'prompt' && (m.status === 'pending' || m.status === 'delivering'));
  if (openPrompts.length > 1) fail(env, `${t.key} has ${openPrompts.length} undelivered prompts`);
  if (t.attempts > 0 && !msgs.some((m) => m.kind === 'prompt' && m.status !== 'cancelled'))
    fail(env, `${t.key}'s prompt was lost`);
  for (const m of msgs.filter((x) => x.status === 'sent')) {
    const r = rows.runtimes.find((x) => x.id === m.runtimeId);
    const pane = r?.paneId ? env.world.tmux.panes.get(r.paneId) : undefined;
    if (!pane || !pane.agent.received.includes(m.body)) {
      fail(
        env,
        `message ${m.id} of ${t.key} is recorded sent to runtime ${m.runtimeId} (${r?.paneId}) but that agent never got it`,
      );
    }
  }
}

/** No agent ever took the same text twice. */
function checkDeliveries(env: Env): void {
  for (const pane of env.world.tmux.panes.values()) {
    const seen = new Set<string>();
    for (const text of pane.agent.received) {
      if (seen.has(text))
        fail(
          env,
          `${pane.session} (${pane.paneId}) was given the same text twice: ${JSON.stringify(text.slice(0, 40))}`,
        );
      seen.add(text);
    }
  }
}

const isDrift = (f: Finding) => f.drift !== null && f.drift !== 'NEEDS-OPERATOR';

/**
 * Advance past the TTL and run passes until one finds no drift and applies nothing. Invariant 3 on the way:
 * a pass right after a pass that fixed drift finds no drift but TTL waits, and writes no new warning.
 */
export async function settle(env: Env, maxPasses = 8): Promise<void> {
  env.world.tmux.failing = false;
  env.world.procs.unknown = false;
  env.world.clock.advance(TTL_MS + 1000);
  // Tickets whose drift the previous pass fixed with drift actions alone (a marker legitimately leads to more).
  let fixed = new Set<string>();
  for (let i = 0; i < maxPasses; i++) {
    const warned = (await env.warnings()).length;
    const rep = await env.pass();
    if (!rep) fail(env, 'settle pass crashed');
    const bad = rep.applied.filter((a) => a.outcome === 'failed');
    if (bad.length) fail(env, `settle pass failed: ${bad.map((a) => `${a.finding.summary}: ${a.detail}`).join('; ')}`);
    const drift = rep.findings.filter(isDrift);
    const again = drift.filter((f) => f.action.type !== 'wait' && fixed.has(f.ticketKey ?? ''));
    if (again.length)
      fail(
        env,
        `invariant 3: the pass after a fix found ${again.map((f) => `${f.ticketKey} ${f.drift}: ${f.summary}`).join('; ')}`,
      );
    const w = await env.warnings();
    const rewarned = w.slice(warned).filter((e) => fixed.has(e.ticketKey ?? ''));
    if (rewarned.length)
      fail(env, `invariant 3: the pass after a fix warned: ${rewarned.map((e) => e.summary).join('; ')}`);
    const acted = rep.applied.filter((a) => a.outcome === 'applied' || a.outcome === 'declined');
    if (acted.length === 0 && drift.length === 0) return checkSettled(env, rep.findings);
    // Only a pass at the same instant must be quiet: once time moves, a TTL may legitimately run out.
    const wait = drift.some((f) => f.action.type === 'wait');
    const routineKeys = new Set(acted.filter((a) => !isDrift(a.finding)).map((a) => a.finding.ticketKey));
    fixed = new Set(
      wait
        ? []
        : acted
            .filter((a) => isDrift(a.finding) && !routineKeys.has(a.finding.ticketKey))
            .map((a) => a.finding.ticketKey ?? ''),
    );
    if (wait) env.world.clock.advance(TTL_MS + 1000);
  }
  const rep = await env.pass();
  fail(
    env,
    `no settled state after ${maxPasses} passes; still: ${rep?.findings.map((f) => `${f.ticketKey} ${f.drift}: ${f.summary}`).join('; ')}`,
  );
}

async function checkSettled(env: Env, findings: readonly Finding[]): Promise<void> {
  const rows = await env.rows();
  for (const t of rows.tickets) {
    const open = openRows(rows, t.key);
    const live = env.world.liveSession(t.key);
    for (const r of open) {
      // Tolerated: the live runtime of an in_review or blocked ticket is left alone, so a `spawning` row stays so.
      const leftAlone =
        (t.status === 'in_review' || t.status === 'blocked') && r.status === 'spawning' && live !== undefined;
      if (!rowIsLive(env, r) && !leftAlone)
        fail(env, `settled, yet ${t.key}'s open runtime ${r.id} (${r.status}) is not live`);
    }
    switch (t.status) {
      case 'in_progress':
        if (open.length !== 1)
          fail(env, `invariant 2: settled ${t.key} is in_progress with ${open.length} live runtimes`);
        if (t.workerPid !== open[0]!.pid)
          fail(env, `settled ${t.key}: worker_pid ${t.workerPid} != runtime pid ${open[0]!.pid}`);
        break;
      case 'blocked':
        // Blocked with a runtime is the operator's call: allowed only while a finding shows it (invariant 1).
        if ((open.length > 0 || live) && !findings.some((f) => f.ticketKey === t.key && f.drift === 'NEEDS-OPERATOR')) {
          fail(env, `invariant 1: settled ${t.key} is blocked with a live runtime and no finding says so`);
        }
        break;
      case 'todo':
      case 'done': {
        // A session made by hand is adopted for a todo ticket, but left to the operator when done.
        const lives = t.status === 'todo' ? live : env.world.ourLiveSession(t.key, env.store.storeId);
        if (open.length > 0 || lives)
          fail(
            env,
            `invariant 1/2: settled ${t.key} is ${t.status} but a runtime lives (${open.length} rows, session ${lives ? 'live' : 'gone'})`,
          );
        break;
      }
      case 'in_review':
        break;
    }
    const agent = live?.agent;
    if (t.status === 'in_progress' && agent && agent.phase === 'ready') {
      const waiting = rows.messages.filter(
        (m) => m.ticketKey === t.key && (m.status === 'pending' || m.status === 'delivering'),
      );
      if (waiting.length)
        fail(
          env,
          `settled ${t.key}: its agent is ready but ${waiting.length} message(s) wait (${waiting.map((m) => `${m.kind} ${m.status}`).join(', ')})`,
        );
      // A marker acts once: one already acted on (then the operator moved the ticket back) stays spent.
      const unspent = findMarker(agent.screen().slice(-40), [], open[0]?.lastMarker ?? null) !== null;
      if (agent.last?.kind === 'marker' && agent.last.marker !== 'QUESTION' && unspent)
        fail(env, `settled ${t.key}: the agent said ${agent.last.marker}: but the ticket is still in_progress`);
    }
  }
  await checkQuietSecondPass(env, rows);
}

/** Invariant 3: a pass right after a settled pass finds nothing, does nothing and warns nothing new. */
async function checkQuietSecondPass(env: Env, rows: Rows): Promise<void> {
  const warnings = (await env.warnings()).length;
  const rep = await env.pass();
  if (!rep) fail(env, 'second pass crashed');
  const drift = rep.findings.filter(isDrift);
  if (drift.length)
    fail(env, `invariant 3: second pass found ${drift.map((f) => `${f.ticketKey} ${f.drift}`).join(', ')}`);
  const acted = rep.applied.filter((a) => a.outcome !== 'skipped');
  if (acted.length) fail(env, `invariant 3: second pass acted: ${acted.map((a) => a.finding.summary).join('; ')}`);
  const after = await env.warnings();
  if (after.length !== warnings) fail(env, `invariant 3: second pass warned again: ${after.slice(-1)[0]?.summary}`);
  if (JSON.stringify(await env.rows()) !== JSON.stringify(rows)) fail(env, 'invariant 3: second pass changed rows');
}
