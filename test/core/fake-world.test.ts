import { describe, expect, it } from 'vitest';
import { readScreen } from '../../src/core/screen.js';
import { DEMO } from './builders.js';
import { BOOT_LINE, CHORE_LINE, PROMPT, SIGN_IN_BLOCKED } from './fake-agent.js';
import { FakeWorld } from './fake-world.js';

// The fakes are only worth their verdicts if they behave like tmux and the kernel where mcc relies on it.

const T = Date.parse('2026-11-25T08:00:00.000Z');

async function spawned(w: FakeWorld, session = 'mc-MC-1') {
  const res = await w.tmux.newSession({ session, argv: ['node', 'agent'], storeTag: 'store-1' });
  if (!res.ok) throw new Error(res.message);
  return res.value;
}

describe('FakeTmux and FakeProcesses', () => {
  it('a duplicate session is a conflict, never a second spawn', async () => {
    const w = new FakeWorld(T);
    await spawned(w);
    const again = await w.tmux.newSession({ session: 'mc-MC-1', argv: ['x'] });
    expect(!again.ok && again.code).toBe('conflict');
    expect(w.tmux.spawnLog).toEqual(['mc-MC-1']);
  });

  it('paste -d consumes the buffer; text pasted into a busy agent is lost; Enter submits once', async () => {
    const w = new FakeWorld(T);
    const { paneId } = await spawned(w);
    const agent = w.session('MC-1')!.agent;
    await w.tmux.loadBuffer('b1', 'hello');
    await w.tmux.pasteBuffer('b1', paneId);
    expect(await w.tmux.hasBuffer('b1')).toEqual({ ok: true, value: false });
    expect(agent.intrusions).toEqual(['booting: paste "hello"']);
    agent.finishBoot();
    await w.tmux.loadBuffer('b2', 'hello');
    await w.tmux.pasteBuffer('b2', paneId);
    await w.tmux.sendKeys(paneId, ['Enter']);
    await w.tmux.sendKeys(paneId, ['Enter']);
    expect(agent.received).toEqual(['hello']);
    expect(agent.screen().at(-1)).toContain('esc to interrupt');
  });

  it('window_activity has one-second resolution', async () => {
    const w = new FakeWorld(T + 200);
    await spawned(w);
    w.clock.advance(500);
    w.session('MC-1')!.agent.finishBoot();
    const obs = await w.tmux.observe();
    expect(obs.kind === 'ok' && obs.panes[0]!.windowActivity).toBe(T);
  });

  it('a dead pane keeps its status; killing it signals nobody, even a process that reused its pid', async () => {
    const w = new FakeWorld(T);
    const { panePid } = await spawned(w);
    w.tmux.processExited(panePid, 137);
    expect(w.procs.reuse(panePid)).toBe(true);
    const obs = await w.tmux.observe();
    expect(obs.kind === 'ok' && obs.panes[0]).toMatchObject({ paneDead: true, paneDeadStatus: 137 });
    await w.tmux.killSession('mc-MC-1');
    expect(w.procs.alive(panePid)).toBe(true);
    expect(w.tmux.kills).toEqual([{ session: 'mc-MC-1', wasLive: false }]);
  });

  it('tmux reaps a zombie pane process before it answers: the pane is dead', async () => {
    const w = new FakeWorld(T);
    const { panePid } = await spawned(w);
    w.procs.zombify(panePid);
    expect((await w.procs.inspect([panePid])).get(panePid)).toEqual({ kind: 'dead', reason: 'zombie' });
    const obs = await w.tmux.observe();
    expect(obs.kind === 'ok' && obs.panes[0]!.paneDead).toBe(true);
  });

  it('a failing server is unknown, not empty, and every command fails; unreadable /proc is unknown', async () => {
    const w = new FakeWorld(T);
    const { panePid } = await spawned(w);
    w.tmux.failing = true;
    expect((await w.tmux.observe()).kind).toBe('unknown');
    expect((await w.tmux.killSession('mc-MC-1')).ok).toBe(false);
    expect(w.liveSession('MC-1')).toBeDefined();
    w.procs.unknown = true;
    expect((await w.procs.inspect([panePid])).get(panePid)!.kind).toBe('unknown');
    expect(await w.procs.bootId()).toBeNull();
  });

  it('an instantly booted agent shows its prompt at once', async () => {
    const w = new FakeWorld(T);
    w.tmux.instantBoot = true;
    const { paneId } = await spawned(w);
    const cap = await w.tmux.capture(paneId, 40);
    expect(cap.ok && cap.value.at(-1)).toBe(PROMPT);
  });

  it('scrollback layout: the boot line stays above the prompt, current until the screen is still for quietMs', async () => {
    const w = new FakeWorld(T);
    w.tmux.layout = 'scrollback';
    const { paneId } = await spawned(w);
    w.session('MC-1')!.agent.finishBoot();
    const cap = await w.tmux.capture(paneId, 40);
    const screen = cap.ok ? cap.value : [];
    expect(screen.slice(-2)).toEqual([BOOT_LINE, PROMPT]);
    expect(readScreen(screen, DEMO, DEMO.quietMs - 1).status).toBe('running');
    expect(readScreen(screen, DEMO, DEMO.quietMs).status).toBe('idle');
  });

  it('sign-in: a menu over a visible prompt reads blocked; a key on it is an intrusion; signing in clears it', async () => {
    const w = new FakeWorld(T);
    w.tmux.signIn = true;
    w.tmux.instantBoot = true;
    const { paneId } = await spawned(w);
    const rules = { ...DEMO, blocked: new RegExp(SIGN_IN_BLOCKED) };
    const screen = async () => {
      const cap = await w.tmux.capture(paneId, 40);
      return cap.ok ? cap.value : [];
    };
    expect((await screen()).at(-1)).toBe(PROMPT);
    expect(readScreen(await screen(), DEMO, 60_000).status).toBe('idle');
    expect(readScreen(await screen(), rules, 60_000).status).toBe('blocked');
    await w.tmux.sendKeys(paneId, ['Enter']);
    const agent = w.session('MC-1')!.agent;
    expect(agent.intrusions).toEqual(['signin: key Enter']);
    expect(agent.signIn()).toBe(true);
    expect(readScreen(await screen(), rules, 60_000).status).toBe('idle');
  });

  it('an armed agent starts its chore right after an observation that finds it ready with an empty input', async () => {
    const w = new FakeWorld(T);
    w.tmux.stirs = true;
    const { paneId } = await spawned(w);
    const agent = w.session('MC-1')!.agent;
    w.afterObservation();
    expect(agent.phase).toBe('booting');
    agent.finishBoot();
    w.afterObservation();
    expect(agent.phase).toBe('working');
    const cap = await w.tmux.capture(paneId, 40);
    expect(cap.ok && cap.value.at(-1)).toBe(CHORE_LINE);
    expect(agent.finishWork('REVIEW')).toBe(true);
    expect(agent.last).toBeNull();
    w.afterObservation();
    expect(agent.phase).toBe('ready');
  });
});
