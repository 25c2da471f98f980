import { afterEach, describe, expect, it } from 'vitest';
import { FAILPOINTS, type FailpointName } from '../../src/core/failpoints.js';
import { Crash, Env, RETRY_LIMIT, TTL_MS } from './model-env.js';

// The service end to end over the fake world and the real SQLite store: the seed's scenarios, one crash at
// every failpoint followed by ONE reconcile pass, the retry limit, and what an operator sees while tmux is blind.

let env: Env;
afterEach(() => env.dispose());

async function fresh(body = 'plain body'): Promise<string> {
  env = new Env();
  return env.addTicket(body);
}

function received(key: string): string[] {
  return [...env.world.tmux.panes.values()].filter((p) => p.session === `mc-${key}`).flatMap((p) => p.agent.received);
}

async function ticketOf(key: string) {
  const d = await env.store.ticketDetail(key, { eventLimit: 100 });
  if (!d) throw new Error(`no ${key}`);
  return { ...d, open: d.runtimes.filter((r) => r.status !== 'closed') };
}

/** Invariant 2's shape: one live runtime with the ticket in_progress, or none with the ticket todo/blocked. */
async function consistent(key: string): Promise<void> {
  const d = await ticketOf(key);
  const live = env.world.liveSession(key);
  if (live) {
    expect(d.ticket.status).toBe('in_progress');
    expect(d.open).toHaveLength(1);
    expect(d.open[0]).toMatchObject({ paneId: live.paneId, pid: live.pid });
    expect(d.ticket.workerPid).toBe(live.pid);
  } else {
    expect(['todo', 'blocked']).toContain(d.ticket.status);
    expect(d.open).toEqual([]);
  }
}

describe('the seed: pickup meets a busy runtime after spawning it', () => {
  it('leaves the ticket in_progress, the runtime running and the prompt pending; a later pass delivers it once', async () => {
    const key = await fresh();
    const res = await env.process('operator:test').mc.pickup(key);
    if (!res.ok) throw new Error(res.message);
    expect(res.value).toMatchObject({
      how: 'spawned',
      prompt: 'pending',
      ticket: { status: 'in_progress' },
      runtime: { status: 'running' },
    });
    expect(env.world.liveSession(key)).toBeDefined();
    await env.pass();
    expect(received(key)).toEqual([]);
    env.world.liveSession(key)!.agent.finishBoot();
    await env.pass();
    await env.pass();
    expect(received(key)).toEqual([env.prompts.get(key)]);
    const d = await ticketOf(key);
    expect(d.messages.map((m) => [m.kind, m.status])).toEqual([['prompt', 'sent']]);
    expect((await env.warnings()).map((e) => e.summary)).toEqual([]);
  });

  it('a live runtime behind todo is adopted by pickup, never spawned again', async () => {
    const key = await fresh();
    await env.inProcess(env.process('operator:test', 'pickup.after_new_session'), (mc) => mc.pickup(key));
    // The seed's drift, by hand: the ticket reverted to todo while its runtime lives.
    const t = (await ticketOf(key)).ticket;
    const event = {
      ticketKey: key,
      runtimeId: null,
      actor: 'test',
      kind: 'drift',
      status: 'ok' as const,
      summary: 'hand edit',
    };
    await env.store.setTicketStatus({
      key,
      version: t.version,
      from: ['in_progress'],
      to: 'todo',
      now: env.world.clock.now(),
      event,
    });
    env.world.clock.advance(TTL_MS + 1000);
    const res = await env.process('operator:test').mc.pickup(key);
    expect(res.ok && res.value.how).toBe('adopted');
    expect(env.world.tmux.spawnLog).toEqual([`mc-${key}`]);
    await consistent(key);
  });
});

describe('the operator decides a blocked ticket whose runtime lives', () => {
  it('the pass only reports it; adopt takes the live runtime back to in_progress without a second spawn', async () => {
    const key = await fresh();
    await env.process('operator:test').mc.pickup(key);
    const moved = await env.process('operator:test').mc.move(key, 'blocked', { reason: 'waiting on legal' });
    expect(moved.ok).toBe(true);
    const rep = await env.pass();
    expect(rep!.findings.map((f) => [f.drift, f.action.type])).toEqual([['NEEDS-OPERATOR', 'none']]);
    const adopted = await env.process('operator:test').mc.adopt(key);
    expect(adopted.ok ? 'ok' : adopted.message).toBe('ok');
    await consistent(key);
    expect(env.world.tmux.spawnLog).toHaveLength(1);
  });
});

describe('invariant 2: a crash at any pickup step, then one reconcile pass', () => {
  const cases: Array<{ point: FailpointName; instant: boolean }> = FAILPOINTS.map((point) => ({
    point,
    instant: point.startsWith('deliver.'),
  }));
  for (const { point, instant } of cases) {
    it(`${point}: consistent after one pass, the prompt neither lost nor doubled`, async () => {
      const key = await fresh();
      env.world.tmux.instantBoot = instant;
      const res = await env.inProcess(env.process('operator:test', point), (mc) => mc.pickup(key));
      expect(res).toBeInstanceOf(Crash);
      env.world.clock.advance(TTL_MS + 1000);
      await env.pass();
      await consistent(key);
      // Whatever state it was left in, the prompt reaches the (next) runtime exactly once.
      if (!env.world.liveSession(key)) await env.process('operator:test').mc.pickup(key);
      env.world.liveSession(key)!.agent.finishBoot();
      for (let i = 0; i < 3; i++) await env.pass();
      expect(received(key)).toEqual([env.prompts.get(key)]);
      const d = await ticketOf(key);
      expect(d.messages.filter((m) => m.kind === 'prompt').map((m) => m.status)).toEqual(['sent']);
      expect(env.world.tmux.spawnLog.length).toBeLessThanOrEqual(d.ticket.attempts);
    });
  }
});

describe('racing pickups (invariant 11) and leftovers', () => {
  it('two pickups of one ticket at once: one spawn, one winner, the other a conflict naming the holder', async () => {
    const key = await fresh();
    const [a, b] = await Promise.all([
      env.process('operator:a').mc.pickup(key),
      env.process('operator:b').mc.pickup(key),
    ]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    const loser = a.ok ? b : a;
    expect(!loser.ok && loser.code).toBe('conflict');
    expect(env.world.tmux.spawnLog).toEqual([`mc-${key}`]);
    await consistent(key);
  });

  it('an operator retire racing a routine pass: never "conflict" after killing the agent, never blocked for it', async () => {
    const key = await fresh();
    // One real failure first, so the ticket sits one attempt below blocked when the operator retires it.
    await env.process('operator:test').mc.pickup(key);
    env.world.tmux.processExited(env.world.liveSession(key)!.pid, 1);
    await env.pass();
    env.world.clock.advance(TTL_MS + 1000);
    await env.pass();
    await env.process('operator:test').mc.pickup(key);
    env.world.liveSession(key)!.agent.finishBoot();
    const [, retired] = await Promise.all([env.pass(), env.process('operator:test').mc.retire(key)]);
    if (!retired.ok)
      expect(env.world.liveSession(key), `retire said ${retired.message} yet killed the agent`).toBeDefined();
    for (let i = 0; i < 3; i++) {
      env.world.clock.advance(TTL_MS + 1000);
      await env.pass();
    }
    expect((await ticketOf(key)).ticket.status).toBe(retired.ok ? 'todo' : 'in_progress');
  });

  it('a delivery buffer left by a crash is not leaked when its runtime dies before the resume', async () => {
    const key = await fresh();
    env.world.tmux.instantBoot = true;
    await env.inProcess(env.process('operator:test', 'deliver.before_paste'), (mc) => mc.pickup(key));
    expect(env.world.tmux.buffers.size).toBe(1);
    env.world.tmux.processExited(env.world.liveSession(key)!.pid, 137);
    await env.pass();
    env.world.clock.advance(TTL_MS + 1000);
    await env.pass();
    await env.process('operator:test').mc.pickup(key);
    for (let i = 0; i < 2; i++) await env.pass();
    expect(received(key)).toEqual([env.prompts.get(key)]);
    expect([...env.world.tmux.buffers.keys()]).toEqual([]);
  });
});

describe('invariant 10: the retry limit', () => {
  it('a runtime that keeps dying is retried until the limit, then blocked with a reason; the count survives restarts', async () => {
    const key = await fresh();
    for (let attempt = 1; attempt <= RETRY_LIMIT; attempt++) {
      const res = await env.process('operator:test').mc.pickup(key);
      expect(res.ok).toBe(true);
      env.world.tmux.processExited(env.world.liveSession(key)!.pid, 137);
      await env.pass(); // marks it exited
      env.world.clock.advance(TTL_MS + 1000);
      await env.pass(); // closes it
      env.daemon = env.process('auto'); // a restarted daemon knows nothing but the store
    }
    const d = await ticketOf(key);
    expect(d.ticket).toMatchObject({ status: 'blocked', attempts: RETRY_LIMIT });
    expect(d.ticket.blockedReason).toMatch(/retry limit reached/);
    expect(d.runtimes.map((r) => [r.status, r.exitStatus])).toEqual(
      Array.from({ length: RETRY_LIMIT }, () => ['closed', 137]),
    );
    const again = await env.process('operator:test').mc.pickup(key);
    expect(again.ok).toBe(false);
  });
});

describe('invariant 7: a blind tmux destroys nothing and warns once', () => {
  it('pickup refuses, passes act on nothing, and the warning is written once per streak', async () => {
    const key = await fresh();
    await env.process('operator:test').mc.pickup(key);
    env.world.tmux.processExited(env.world.liveSession(key)!.pid, 1);
    const other = await env.addTicket('second');
    env.world.tmux.failing = true;
    const refused = await env.process('operator:test').mc.pickup(other);
    expect(!refused.ok && refused.code).toBe('probe_unknown');
    const before = JSON.stringify(await env.rows());
    for (let i = 0; i < 3; i++) {
      env.world.clock.advance(TTL_MS + 1000);
      const rep = await env.pass();
      expect(rep!.findings.map((f) => f.drift)).toEqual(['UNKNOWN']);
    }
    expect(JSON.stringify(await env.rows())).toBe(before);
    expect((await env.warnings()).filter((e) => e.kind === 'reconcile.warning')).toHaveLength(1);
  });
});

describe('markers and answers reach the ticket', () => {
  it('a marker printed in the same second as the last capture still moves the ticket', async () => {
    // tmux's window_activity has one-second resolution: an unchanged activity does not mean an unchanged screen.
    const key = await fresh();
    env.world.tmux.instantBoot = true;
    await env.process('operator:test').mc.pickup(key); // at 08:00:00.000 the prompt is typed
    await env.pass(); // at 08:00:00.000 the working screen is captured, activity 08:00:00
    env.world.clock.advance(400);
    env.world.liveSession(key)!.agent.finishWork('REVIEW'); // at 08:00:00.400: activity still 08:00:00
    for (let i = 0; i < 3; i++) {
      env.world.clock.advance(1000);
      await env.pass();
    }
    expect((await ticketOf(key)).ticket.status).toBe('in_review');
  });

  it('a targeted observation (pickup of another ticket) does not swallow a screen change the next pass needs', async () => {
    const key = await fresh();
    const other = await env.addTicket('second');
    env.world.tmux.instantBoot = true;
    const console = env.process('console:test');
    await console.mc.pickup(key);
    env.world.clock.advance(2000);
    env.world.liveSession(key)!.agent.finishWork('REVIEW');
    env.world.clock.advance(2000);
    await console.mc.pickup(other);
    env.world.clock.advance(2000);
    await console.mc.reconcile('auto');
    expect((await ticketOf(key)).ticket.status).toBe('in_review');
  });

  it('a pass that could not confirm the runtime (/proc unreadable) does not swallow the marker it captured', async () => {
    const key = await fresh();
    env.world.tmux.instantBoot = true;
    await env.process('operator:test').mc.pickup(key);
    env.world.clock.advance(2000);
    env.world.liveSession(key)!.agent.finishWork('DONE');
    env.world.procs.unknown = true;
    env.world.clock.advance(2000);
    await env.pass(); // captures the DONE screen, but declines: the runtime cannot be confirmed
    env.world.procs.unknown = false;
    for (let i = 0; i < 3; i++) {
      env.world.clock.advance(2000);
      await env.pass();
    }
    expect((await ticketOf(key)).ticket.status).toBe('done');
  });

  it('an agent waiting on its QUESTION gets the operator’s answer', async () => {
    const key = await fresh();
    env.world.tmux.instantBoot = true;
    await env.process('operator:test').mc.pickup(key);
    env.world.clock.advance(2000);
    env.world.liveSession(key)!.agent.finishWork('QUESTION');
    env.world.clock.advance(2000);
    await env.pass();
    expect((await ticketOf(key)).ticket).toMatchObject({ status: 'in_progress', humanInputRequired: true });
    const sent = await env.process('operator:test').mc.send(key, 'take the second option');
    for (let i = 0; i < 2; i++) {
      env.world.clock.advance(2000);
      await env.pass();
    }
    expect(sent.ok).toBe(true);
    expect(received(key)).toEqual([env.prompts.get(key), 'take the second option']);
  });
});
