// The invariants of the model test: those that hold after every command, and those that hold once the world
// has settled (time past the TTL, passes run until nothing is left to do).
import { findMarker } from '../../src/core/screen.js';
import type { Finding } from '../../src/core/findings.js';
import type { McEvent, Message, RuntimeSession, Ticket } from '../../src/core/types.js';
import { READY_TIMEOUT_MS, RETRY_LIMIT, TTL_MS, type Env, type Rows } from './model-env.js';

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
  checkNothingTyped(env);
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
  await checkNotReadyWarnings(env, now);
}

/** The readiness gate: nothing was ever pasted or keyed into an agent that was booting, working or signing in. */
function checkNothingTyped(env: Env): void {
  for (const pane of env.world.tmux.panes.values()) {
    if (pane.agent.intrusions.length)
      fail(
        env,
        `typed into a screen that was not ready, ${pane.session} (${pane.paneId}): ${pane.agent.intrusions.join('; ')}`,
      );
  }
}

const NOT_READY = 'message.not_ready';

async function notReadyEvents(env: Env): Promise<Map<number, McEvent[]>> {
  const byMessage = new Map<number, McEvent[]>();
  for (const e of await env.warnings()) {
    if (e.kind !== NOT_READY) continue;
    const id = e.artifacts.map((a) => /^message:(\d+)$/.exec(a)?.[1]).find((x) => x !== undefined);
    if (id === undefined) fail(env, `a ${NOT_READY} event names no message: ${e.summary}`);
    byMessage.set(Number(id), [...(byMessage.get(Number(id)) ?? []), e]);
  }
  return byMessage;
}

/** NOT-READY: one warning per message, never two, and never before the message waited readyTimeoutSeconds. */
async function checkNotReadyWarnings(env: Env, rows: Rows): Promise<void> {
  for (const [id, events] of await notReadyEvents(env)) {
    if (events.length > 1) fail(env, `message ${id} has ${events.length} ${NOT_READY} warnings`);
    const m = rows.messages.find((x) => x.id === id);
    const e = events[0]!;
    if (!m) fail(env, `a ${NOT_READY} warning names message ${id}, which does not exist`);
    if (e.at - m.createdAt < READY_TIMEOUT_MS)
      fail(env, `message ${id} was warned NOT-READY after ${e.at - m.createdAt} ms (< ${READY_TIMEOUT_MS})`);
    if (m.sentAt !== null && m.sentAt < e.at) fail(env, `message ${id} was warned NOT-READY after it was sent`);
  }
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
    // Typed into a frozen agent: the terminal holds it and the agent reads it when it runs again (or it died
    // frozen, and the text with it).
    const a = pane?.agent;
    if (!a || !(a.received.includes(m.body) || a.held.includes(m.body) || a.diedHolding.includes(m.body))) {
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

const SCREEN_REPORTS = new Set(['runtime.blocked_screen', 'message.not_ready']);

/** Drift a pass fixes; NEEDS-OPERATOR and NOT-READY are standing reports for a human, not drift to settle. */
const isDrift = (f: Finding) => f.drift !== null && f.drift !== 'NEEDS-OPERATOR' && f.drift !== 'NOT-READY';

/**
 * Advance past the TTL and run passes until one finds no drift and applies nothing. Invariant 3 on the way:
 * a pass right after a pass that fixed drift finds no drift but TTL waits, and writes no new warning.
 */
export async function settle(env: Env, maxPasses = 8): Promise<void> {
  env.world.tmux.failing = false;
  env.world.procs.unknown = false;
  // Settling means the world holds still: an agent about to start a chore by itself would move it again.
  for (const p of env.world.tmux.panes.values()) p.agent.calm();
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
    // The first routine look at a runtime the fix adopted may report its screen (a sign-in dialog, a message
    // past the ready timeout): new news, each once by its own rule, not the fixed drift coming back.
    const rewarned = w.slice(warned).filter((e) => fixed.has(e.ticketKey ?? '') && !SCREEN_REPORTS.has(e.kind));
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
    // A frozen agent shows a ready prompt but takes nothing: what was typed into it waits in its terminal, and
    // the messages behind that text wait for it to be taken.
    if (t.status === 'in_progress' && agent && agent.phase === 'ready' && !agent.isFrozen) {
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
  await checkNotReadySettled(env, rows, findings);
  await checkQuietSecondPass(env, rows);
}

/** The message a live runtime's routine gates next: the pending prompt first, then the oldest pending note. */
function headOfQueue(rows: Rows, key: string): Message | undefined {
  return rows.messages
    .filter((m) => m.ticketKey === key && m.status === 'pending')
    .sort((a, b) => (a.kind === b.kind ? a.id - b.id : a.kind === 'prompt' ? -1 : 1))[0];
}

/**
 * NOT-READY once settled: a message that waited past readyTimeoutSeconds for its live runtime has exactly one
 * warning and shows the badge; a message that was delivered shows none.
 */
async function checkNotReadySettled(env: Env, rows: Rows, findings: readonly Finding[]): Promise<void> {
  const events = await notReadyEvents(env);
  const badge = new Map<number, Finding>();
  for (const f of findings) {
    if (f.drift !== 'NOT-READY') continue;
    const id = f.action.type === 'warn' ? /^not_ready:message:(\d+)$/.exec(f.action.once)?.[1] : undefined;
    if (id === undefined) fail(env, `a NOT-READY finding names no message: ${f.summary}`);
    badge.set(Number(id), f);
  }
  for (const [id, f] of badge) {
    const m = rows.messages.find((x) => x.id === id);
    if (m?.status !== 'pending') fail(env, `NOT-READY badge on message ${id}, which is ${m?.status}: ${f.summary}`);
  }
  const now = env.world.clock.now();
  for (const t of rows.tickets) {
    if (t.status !== 'in_progress') continue;
    const r = openRows(rows, t.key)[0];
    const head = headOfQueue(rows, t.key);
    if (!r || !head || !rowIsLive(env, r)) continue;
    if (rows.messages.some((m) => m.ticketKey === t.key && m.status === 'delivering')) continue;
    // Counted from when it reached the head of the queue: a text submitted after it was queued was ahead of it
    // (and an agent that has not taken that text yet gets the timeout from its submit).
    const ahead = rows.messages
      .filter((m) => m.ticketKey === t.key && m.sentAt !== null && m.sentAt > head.createdAt)
      .map((m) => m.sentAt!);
    if (now - Math.max(head.createdAt, r.createdAt, ...ahead) < READY_TIMEOUT_MS) continue;
    const n = events.get(head.id)?.length ?? 0;
    if (n !== 1)
      fail(env, `settled ${t.key}: message ${head.id} waited past the ready timeout with ${n} ${NOT_READY} warnings`);
    if (!badge.has(head.id))
      fail(env, `settled ${t.key}: message ${head.id} waited past the ready timeout with no NOT-READY badge`);
  }
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
