import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_LEASE } from '../../src/core/console-controller.js';
import type { MissionControl } from '../../src/core/service.js';
import { Env } from './model-env.js';

// Creating tickets and the reads the CLI, the console and the daemon make through the service (never the
// store): over the real SQLite store, with the fake world's clock so every timestamp is the injected one.

let env: Env;
let mc: MissionControl;
beforeEach(() => {
  env = new Env();
  mc = env.process('operator:test').mc;
});
afterEach(() => env.dispose());

describe('createTicket', () => {
  it('refuses an empty title and an unknown profile with `invalid` naming the problem, and writes nothing', async () => {
    const refused = [
      [{ title: '', body: 'b' }, 'the title is empty'],
      [{ title: ' \t\n ', body: 'b' }, 'the title is empty'],
      [
        { title: 'fine', body: 'b', profile: 'nope' },
        'no profile named "nope" (have: demo, shell, claude, codex, gemini, opencode, aider)',
      ],
      // Not an own key of the profiles: an inherited member must not pass for a profile.
      [{ title: 'fine', body: 'b', profile: 'toString' }, 'no profile named "toString"'],
    ] as const;
    for (const [input, why] of refused) {
      const res = await mc.createTicket(input);
      expect(res.ok, JSON.stringify(input)).toBe(false);
      if (res.ok) continue;
      expect(res.code).toBe('invalid');
      expect(res.message).toContain(why);
    }
    expect(await env.store.listTickets()).toEqual([]);
    expect(await env.store.listEvents({ limit: 100 })).toEqual([]);
  });

  it('creates a todo ticket on the injected clock, as the acting operator, with the default profile unless named', async () => {
    env.world.clock.advance(5000);
    const at = env.world.clock.now();
    const res = await mc.createTicket({ title: '  tidy the README  ', body: 'keep it short' });
    if (!res.ok) throw new Error(res.message);
    expect(res.value).toMatchObject({
      key: 'MC-1',
      title: 'tidy the README',
      body: 'keep it short',
      status: 'todo',
      profile: 'demo',
      createdAt: at,
      version: 1,
    });
    const named = await mc.createTicket({ title: 'second', profile: 'demo' });
    expect(named.ok && named.value).toMatchObject({ key: 'MC-2', body: '', profile: 'demo' });
    const events = await env.store.listEvents({ ticketKey: 'MC-1', limit: 10 });
    expect(events.map((e) => [e.kind, e.actor, e.at])).toEqual([['ticket.created', 'operator:test', at]]);
  });
});

describe('reads for the views', () => {
  it('ticketDetail: a bad key is `invalid`, a missing ticket `not_found`, else the ticket with its newest events', async () => {
    const bad = await mc.ticketDetail('not-a-key');
    expect(!bad.ok && [bad.code, bad.message]).toEqual(['invalid', '"not-a-key" is not a ticket key (MC-<number>)']);
    const missing = await mc.ticketDetail('MC-9');
    expect(!missing.ok && [missing.code, missing.message]).toEqual(['not_found', 'no ticket MC-9']);
    const key = await env.addTicket('body');
    await mc.move(key, 'in_review');
    const d = await mc.ticketDetail(key, { eventLimit: 1 });
    if (!d.ok) throw new Error(d.message);
    expect(d.value.ticket).toMatchObject({ key, status: 'in_review' });
    expect(d.value.events.map((e) => e.kind)).toEqual(['ticket.move']);
  });

  it('overview and listTickets filter by state', async () => {
    const a = await env.addTicket('a');
    const b = await env.addTicket('b');
    await mc.move(b, 'done');
    expect((await mc.overview()).map((o) => o.ticket.key)).toEqual([a, b]);
    expect((await mc.overview({ status: 'done' })).map((o) => o.ticket.key)).toEqual([b]);
    expect((await mc.listTickets({ status: 'todo' })).map((t) => t.key)).toEqual([a]);
  });

  it('the daemon lease expires on the injected clock and names its holder to a second daemon', async () => {
    const first = await mc.acquireLease(DAEMON_LEASE, 'host:1', 10_000);
    expect(first.ok && first.value.expiresAt).toBe(env.world.clock.now() + 10_000);
    const second = await env.process('auto').mc.acquireLease(DAEMON_LEASE, 'host:2', 10_000);
    expect(!second.ok && second.code).toBe('conflict');
    expect(!second.ok && second.message).toContain('host:1');
    expect(await mc.readLease(DAEMON_LEASE)).toMatchObject({ holder: 'host:1' });
    env.world.clock.advance(10_001);
    const later = env.process('auto').mc;
    expect((await later.acquireLease(DAEMON_LEASE, 'host:2', 10_000)).ok).toBe(true);
    // A late release by the old holder does not free its successor's lease.
    await mc.releaseLease(DAEMON_LEASE, 'host:1');
    expect(await mc.readLease(DAEMON_LEASE)).toMatchObject({ holder: 'host:2' });
    await later.releaseLease(DAEMON_LEASE, 'host:2');
    expect(await mc.readLease(DAEMON_LEASE)).toBeNull();
  });
});
