import { afterEach, describe, expect, it } from 'vitest';
import { settle } from './model-checks.js';
import type { Cmd } from './model-cmd.js';
import { OperatorMove, OperatorSend, Pickup, Race, Reconcile } from './model-commands.js';
import { Crash, Env, READY_TIMEOUT_MS, TTL_MS } from './model-env.js';
import { AgentDies, AgentProgress, HandCreate, Reboot, TimePasses } from './model-world.js';

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

/** Replays a shrunk sequence of the model test through the same commands, invariants and settle. */
async function replay(cmds: readonly Cmd[]): Promise<void> {
  env = new Env();
  await env.addTicket('plain body');
  await more(cmds);
  await settle(env);
}

/** Go on from where the last replay left off, without settling. */
async function more(cmds: readonly Cmd[]): Promise<void> {
  const model = { tickets: env.keys.length };
  for (const c of cmds) await c.run(model, env);
}

const agent = (a: Partial<{ instantBoot: boolean; layout: 'clean' | 'scrollback' }> = {}) => ({
  instantBoot: false,
  layout: 'clean' as const,
  signIn: false,
  stirs: false,
  ...a,
});

describe('model regressions: a dead runtime of a ticket the operator moved on', () => {
  it('an exited runtime that never recorded its agent is closed, though a session was made again under its name', async () => {
    // Issue 11 (MODEL_RUNS=10000, seed -966106286): the row was marked exited when its first pane died; after a
    // reboot a session was made by hand under the same name and the operator moved the ticket to in_review.
    // The row (no pid recorded) took the new session's pane for its own agent "unrecorded", and an in_review
    // ticket leaves a live runtime alone: the dead row stayed open forever.
    await replay([
      new Pickup(0, 'pickup.after_new_session', agent(), false),
      new AgentDies(0, 'kill', 1),
      new Reconcile(null),
      new Reboot(),
      new HandCreate(0),
      new OperatorMove(0, 'in_review'),
      new Race(0, 'pickup'),
    ]);
    const rows = await env.rows();
    expect(rows.tickets.map((t) => t.status)).toEqual(['in_review']);
    expect(rows.runtimes.map((r) => r.status)).toEqual(['closed']);
    // The hand-made session is nobody's runtime: it is neither killed nor adopted into the in_review ticket.
    expect(env.world.liveSession(env.keys[0]!)).toBeDefined();
  });
});

describe('model regressions: a pasted draft under a busy line left in scrollback', () => {
  it('a crash after the paste is finished with a submit once the screen is still, never marked sent unsent', async () => {
    // MODEL_RUNS=10000, seed 20261125, run 8906: the agent (busy line kept in scrollback) finished; a pass
    // pasted a queued note and crashed before the submit. The draft hid the prompt, so the stale busy line read
    // as current ("running"), and the resume marked the note sent: the note was lost, and its draft blocked
    // every later message ("its agent is ready but 1 message(s) wait").
    await replay([
      new OperatorSend(0),
      new Race(0, 'send'),
      new Pickup(0, null, agent({ instantBoot: true, layout: 'scrollback' }), false),
      new AgentProgress(0, 'REVIEW'),
      new TimePasses(2500),
      new Reconcile('deliver.after_paste'),
    ]);
    const a = env.world.liveSession(env.keys[0]!)!.agent;
    const notes = async () => (await env.rows()).messages.filter((m) => m.kind === 'operator').map((m) => m.status);
    // The first note was submitted and the agent works on it; the second waits for the agent, not for ever.
    expect(await notes()).toEqual(['sent', 'pending']);
    expect(a.finishWork('NONE')).toBe(true);
    await settle(env);
    expect(await notes()).toEqual(['sent', 'sent']);
    expect(a.received.filter((t) => t.startsWith('please also') || t.startsWith('racing note'))).toHaveLength(2);
    expect(a.intrusions).toEqual([]);
  });
});

describe('model regressions: text typed into a frozen agent that looked ready', () => {
  it('a second message waits until the agent took the first; none reaches it while it works', async () => {
    // Soak seed 11 (10 minutes, cgroup freezer): an agent frozen while its prompt showed looked ready (a still
    // screen, no echo). A pass delivered a note, saw nothing change, and delivered the next one too; thawed, the
    // agent took the first, started working, and dropped the second, which stayed `sent`.
    await replay([new Pickup(0, null, agent({ instantBoot: true, layout: 'clean' }), false)]);
    const key = env.keys[0]!;
    const a = env.world.liveSession(key)!.agent;
    expect(a.received).toEqual([env.prompts.get(key)]);
    expect(a.finishWork('NONE')).toBe(true);
    a.freeze();
    const notes = async () =>
      (await env.rows()).messages.filter((m) => m.kind === 'operator').map((m) => [m.body, m.status]);
    await more([new OperatorSend(0), new Reconcile(null)]);
    const [first] = await notes();
    expect(first?.[1]).toBe('sent');
    expect(a.held).toEqual([first?.[0]]);
    // The screen is the very one the first note was typed onto: the second waits, however many passes look.
    await more([new OperatorSend(0), new Reconcile(null), new TimePasses(2000), new Reconcile(null)]);
    expect((await notes()).map(([, s]) => s)).toEqual(['sent', 'pending']);
    expect(a.held).toHaveLength(1);
    // Past readyTimeoutSeconds the operator hears why: the agent has not taken the text before it.
    env.world.clock.advance(READY_TIMEOUT_MS);
    await env.pass();
    const warned = (await env.warnings()).filter((e) => e.kind === 'message.not_ready');
    expect(warned.map((e) => e.summary).join('\n')).toMatch(/has not taken the text submitted before it/);
    // Thawed, it takes the first note and works on it; the second is delivered only once it is ready again.
    a.thaw();
    expect(a.received).toEqual([env.prompts.get(key), first?.[0]]);
    await env.pass();
    expect((await notes()).map(([, s]) => s)).toEqual(['sent', 'pending']);
    expect(a.finishWork('NONE')).toBe(true);
    await settle(env);
    expect((await notes()).map(([, s]) => s)).toEqual(['sent', 'sent']);
    expect(a.received).toHaveLength(3);
    expect(a.intrusions).toEqual([]);
  });
});
