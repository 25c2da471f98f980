import { afterEach, describe, expect, it } from 'vitest';
import { Env } from './model-env.js';

// The readiness gate through the service, over the fake world and the real SQLite store: one NOT-READY warning
// per stuck message across passes and processes, and an answer that keeps the ticket asking until delivered.

let env: Env;
afterEach(() => env.dispose());

async function events(key: string, kind: string) {
  const d = await env.store.ticketDetail(key, { eventLimit: 1000 });
  return (d?.events ?? []).filter((e) => e.kind === kind);
}

describe('NOT-READY: never a silent forever', () => {
  it('a prompt that can never be delivered raises exactly one warning after readyTimeoutSeconds; nothing typed', async () => {
    env = new Env();
    const key = await env.addTicket('body');
    const res = await env.process('operator:test').mc.pickup(key);
    if (!res.ok) throw new Error(res.message);
    const agent = env.world.liveSession(key)!.agent;
    await env.pass();
    expect(await events(key, 'message.not_ready')).toEqual([]);

    env.world.clock.advance(env.config.profiles['demo']!.readyTimeoutMs);
    await env.pass();
    const warned = await events(key, 'message.not_ready');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      status: 'warning',
      humanInputRequired: true,
      rootCause: expect.stringContaining('never showed a ready screen') as unknown,
    });
    expect(warned[0]!.nextActions.join(' ')).toMatch(/attach.*interrupt.*retire/);
    expect(warned[0]!.artifacts.join('\n')).toContain('booting');

    // Two more passes, then a brand-new process (no memory of the first): still one warning.
    await env.pass();
    await env.pass();
    await env.process('auto').mc.reconcile('auto');
    expect(await events(key, 'message.not_ready')).toHaveLength(1);
    expect(agent.received).toEqual([]);
    expect(agent.intrusions).toEqual([]);

    // The agent comes up: the prompt goes through once and no further warning is raised.
    agent.finishBoot();
    env.world.clock.advance(5000);
    await env.pass();
    await env.pass();
    expect(agent.received).toEqual([env.prompts.get(key)]);
    expect(await events(key, 'message.not_ready')).toHaveLength(1);
  });
});

describe('an answer keeps the ticket asking until it reaches the agent', () => {
  it('send does not clear human_input_required; the delivery of the answer does', async () => {
    env = new Env();
    const key = await env.addTicket('body');
    await env.process('operator:test').mc.pickup(key);
    const agent = env.world.liveSession(key)!.agent;
    const t = (await env.store.getTicket(key))!;
    const asked = await env.store.setTicketStatus({
      key,
      version: t.version,
      from: ['in_progress'],
      to: 'in_progress',
      humanInputRequired: true,
      now: env.world.clock.now(),
      event: {
        ticketKey: key,
        runtimeId: null,
        actor: 'agent',
        kind: 'marker.question',
        status: 'warning',
        summary: 'q',
      },
    });
    expect(asked.ok).toBe(true);

    // The agent is still booting: the answer is queued, and the ticket keeps asking.
    const sent = await env.process('operator:test').mc.send(key, 'use option b');
    expect(sent).toMatchObject({ ok: true, value: 'queued' });
    await env.pass();
    expect((await env.store.getTicket(key))?.humanInputRequired).toBe(true);

    agent.finishBoot();
    env.world.clock.advance(5000);
    await env.pass(); // the prompt first: still asking
    expect(agent.received).toEqual([env.prompts.get(key)]);
    expect((await env.store.getTicket(key))?.humanInputRequired).toBe(true);
    agent.finishWork('NONE');
    env.world.clock.advance(5000);
    await env.pass();
    await env.pass();
    expect(agent.received).toEqual([env.prompts.get(key), 'use option b']);
    expect((await env.store.getTicket(key))?.humanInputRequired).toBe(false);
  });
});
