import { afterEach, describe, expect, it } from 'vitest';
import { Crash, Env, READY_TIMEOUT_MS, TTL_MS } from './model-env.js';

// Sequences the model test found, replayed by name so a regression fails here with a readable story.

let env: Env;
afterEach(() => env.dispose());

async function crashedMidDelivery(point: 'deliver.after_paste' | 'deliver.before_paste'): Promise<string> {
  env = new Env();
  const key = await env.addTicket('plain body');
  env.world.tmux.instantBoot = true;
  const res = await env.inProcess(env.process('operator:test', point), (mc) => mc.pickup(key));
  env.world.tmux.instantBoot = false;
  expect(res).toBeInstanceOf(Crash);
  // The crashed process's delivery lease has run out: the delivery may be resumed.
  env.world.clock.advance(TTL_MS + 1000);
  return key;
}

describe('model regressions: two processes finishing one crashed delivery', () => {
  it('two passes resuming a pasted draft send its submit once; nothing reaches the working agent', async () => {
    // pickup(crash deliver.after_paste, instant boot) ; race(pass || reconcile): both saw the draft, both
    // re-captured the same screen, both sent Enter; the second Enter went to the agent working on the prompt.
    const key = await crashedMidDelivery('deliver.after_paste');
    const agent = env.world.session(key)!.agent;
    expect(agent.pendingInput).toBe(env.prompts.get(key));
    const cli = env.process('cli');
    await Promise.all([env.pass(), env.inProcess(cli, (mc) => mc.reconcile('auto'))]);
    expect(agent.intrusions).toEqual([]);
    expect(agent.received).toEqual([env.prompts.get(key)]);
  });

  it('a crashed delivery is resumed only once its lease has run out', async () => {
    env = new Env();
    const key = await env.addTicket('plain body');
    env.world.tmux.instantBoot = true;
    await env.inProcess(env.process('operator:test', 'deliver.after_paste'), (mc) => mc.pickup(key));
    const agent = env.world.session(key)!.agent;
    const early = await env.pass();
    expect(early!.applied.find((a) => a.finding.action.type === 'resume_delivery')?.outcome).toBe('declined');
    expect(agent.received).toEqual([]);
    env.world.clock.advance(TTL_MS + 1000);
    await env.pass();
    expect(agent.received).toEqual([env.prompts.get(key)]);
  });
});

describe('model regressions: a crash after the submit, then a quick agent', () => {
  it('the agent finished before any pass: its prompt is recorded sent (not stuck delivering) and its REVIEW acts', async () => {
    // pickup(crash deliver.after_submit, instant boot) ; agent(0, REVIEW) ; settle: the buffer was consumed, the
    // prompt was back and empty, no draft showed: the message stayed `delivering` for good and hid the marker.
    env = new Env();
    const key = await env.addTicket('plain body');
    env.world.tmux.instantBoot = true;
    await env.inProcess(env.process('operator:test', 'deliver.after_submit'), (mc) => mc.pickup(key));
    const agent = env.world.session(key)!.agent;
    expect(agent.finishWork('REVIEW')).toBe(true);
    env.world.clock.advance(TTL_MS + 1000);
    await env.pass();
    await env.pass();
    const d = await env.store.ticketDetail(key, { eventLimit: 0 });
    expect(d!.messages.map((m) => [m.kind, m.status])).toEqual([['prompt', 'sent']]);
    expect(d!.ticket.status).toBe('in_review');
    expect(agent.received).toEqual([env.prompts.get(key)]);
    expect(agent.intrusions).toEqual([]);
  });
});

describe('model regressions: NOT-READY is written once', () => {
  it('two passes at once on a message past its ready timeout write one message.not_ready warning', async () => {
    // pickup(0) ; settle ; time(+19000ms) ; race(pass || reconcile 0): both passes looked the warning up, found
    // none, and both wrote it.
    env = new Env();
    const key = await env.addTicket('plain body');
    await env.process('operator:test').mc.pickup(key);
    env.world.clock.advance(READY_TIMEOUT_MS);
    const cli = env.process('cli');
    await Promise.all([env.pass(), env.inProcess(cli, (mc) => mc.reconcile('auto'))]);
    await env.pass();
    const warned = (await env.warnings()).filter((e) => e.kind === 'message.not_ready');
    expect(warned.map((e) => e.artifacts.filter((x) => x.startsWith('message:')))).toEqual([['message:1']]);
  });
});
