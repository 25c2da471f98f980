import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleController } from '../../src/core/console-controller.js';
import type { ConsoleState } from '../../src/core/console-model.js';
import type { TimerPort } from '../../src/core/poller.js';
import type { TmuxObservation } from '../../src/core/tmux.port.js';
import { Env } from './model-env.js';

// The console's controller over the fake world and the real SQLite store, refreshed by hand: an unchanged
// world costs neither a store reload nor a rebuild of the grid, while the clock, the store and tmux still
// reach the published state.

let env: Env;
let controller: ConsoleController;
afterEach(async () => {
  await controller.stop();
  env.dispose();
});

/** A console over three tickets, one of them worked by a live agent whose prompt was delivered. */
async function idleConsole(): Promise<{ key: string; states: ConsoleState[] }> {
  env = new Env();
  const key = await env.addTicket('work');
  await env.addTicket('later');
  await env.addTicket('much later');
  const picked = await env.process('operator:test').mc.pickup(key);
  if (!picked.ok) throw new Error(picked.message);
  env.world.liveSession(key)!.agent.finishBoot();
  controller = new ConsoleController(env.process('console').mc, { intervalMs: 1000, readonly: false });
  const states: ConsoleState[] = [];
  controller.subscribe((s) => states.push(s));
  // The first passes deliver the prompt and record what they saw; then the world stands still.
  let settled = false;
  for (let i = 0; i < 10 && !settled; i++) {
    const before = { builds: controller.builds, token: await env.store.changeToken() };
    await controller.refresh();
    settled = controller.builds === before.builds && (await env.store.changeToken()) === before.token;
  }
  expect(settled, 'the console kept rebuilding or writing in a world that stands still').toBe(true);
  return { key, states };
}

const rowOf = (s: ConsoleState | null, key: string) => s?.rows.find((r) => r.key === key);

/** Timers on the fake world's clock: `fire` runs the earliest pending one, moving the clock to its time. */
class FakeTimers implements TimerPort {
  private seq = 0;
  private readonly pending = new Map<number, { fn: () => void; at: number }>();
  constructor(private readonly clock: { now(): number; advance(ms: number): void }) {}
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.seq, { fn, at: this.clock.now() + ms });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  async fire(): Promise<void> {
    const next = [...this.pending].sort((a, b) => a[1].at - b[1].at)[0];
    if (next === undefined) throw new Error('no timer pending');
    this.pending.delete(next[0]);
    this.clock.advance(Math.max(0, next[1].at - this.clock.now()));
    next[1].fn();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('an idle console', () => {
  it('neither reloads the store nor rebuilds the grid when nothing changed', async () => {
    const { key } = await idleConsole();
    expect(rowOf(controller.current(), key)).toMatchObject({ state: 'in_progress', runtime: 'running', live: true });
    const loads = vi.spyOn(env.store, 'loadActive');
    const versions = vi.spyOn(env.store, 'ticketVersions');
    const builds = controller.builds;
    const rows = controller.current()!.rows;
    for (let i = 0; i < 3; i++) await controller.refresh();
    expect(loads).not.toHaveBeenCalled();
    expect(versions).not.toHaveBeenCalled();
    expect(controller.builds).toBe(builds);
    expect(controller.current()!.rows).toBe(rows);
  });

  it('moves the clock without a rebuild: ages and the observation age follow time', async () => {
    await idleConsole();
    const builds = controller.builds;
    const before = controller.current()!;
    env.world.clock.advance(61_000);
    await controller.refresh();
    const after = controller.current()!;
    expect(after.at).toBe(before.at + 61_000);
    expect(after.observation).toMatchObject({ state: 'ok', lastOkAt: after.at });
    expect(after.rows).toBe(before.rows);
    expect(controller.builds).toBe(builds);
  });

  it('rebuilds when another process changes the store', async () => {
    await idleConsole();
    const builds = controller.builds;
    const added = await env.addTicket('from the CLI');
    await controller.refresh();
    expect(controller.builds).toBe(builds + 1);
    expect(rowOf(controller.current(), added)).toMatchObject({ state: 'todo', runtime: 'none' });
  });

  it('rebuilds when tmux shows the agent died', async () => {
    const { key } = await idleConsole();
    const builds = controller.builds;
    env.world.tmux.processExited(env.world.liveSession(key)!.pid, 1);
    await controller.refresh();
    expect(rowOf(controller.current(), key)).toMatchObject({ live: false });
    expect(rowOf(controller.current(), key)?.badge).toMatch(/^DYING/);
    expect(controller.builds).toBeGreaterThan(builds);
  });

  it('costs no rebuild when a runtime row is rewritten only to record a sighting; shows a new status', async () => {
    const { key } = await idleConsole();
    const builds = controller.builds;
    const runtimeOf = async (id?: number) =>
      (await env.store.ticketDetail(key, { eventLimit: 0 }))!.runtimes.find((r) =>
        id === undefined ? r.status !== 'closed' : r.id === id,
      )!;
    const open = await runtimeOf();
    const now = env.world.clock.now();
    const seen = await env.store.updateRuntime({ runtimeId: open.id, version: open.version, lastSeenAt: now, now });
    expect(seen.ok).toBe(true);
    await controller.refresh();
    expect(controller.builds).toBe(builds);
    const seenAgain = await runtimeOf(open.id);
    const waiting = await env.store.updateRuntime({
      runtimeId: open.id,
      version: seenAgain.version,
      status: 'waiting',
      now,
    });
    expect(waiting.ok).toBe(true);
    // A read-only console records nothing, so the row keeps the status another process wrote.
    const viewer = new ConsoleController(env.process('viewer').mc, { intervalMs: 1000, readonly: true });
    try {
      await viewer.refresh();
      const viewerBuilds = viewer.builds;
      expect(rowOf(viewer.current(), key)?.runtime).toBe('waiting');
      await viewer.refresh();
      expect(viewer.builds).toBe(viewerBuilds);
    } finally {
      await viewer.stop();
    }
  });

  it('shows runtimes as ? while a pass overruns into STALE, and running again once a pass completes', async () => {
    const { key } = await idleConsole();
    await controller.stop();
    const timers = new FakeTimers(env.world.clock);
    controller = new ConsoleController(env.process('console').mc, { intervalMs: 1000, readonly: false, timers });
    const tmux = env.world.tmux;
    const observe = tmux.observe.bind(tmux);
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    tmux.observe = async (): Promise<TmuxObservation> => {
      // The first pass sees tmux; the second hangs until released.
      if (++calls === 2) await hung;
      return observe();
    };
    try {
      await controller.refresh();
      expect(rowOf(controller.current(), key)?.runtime).toBe('running');
      controller.start();
      for (let i = 0; i < 8 && controller.current()?.observation.state !== 'stale'; i++) await timers.fire();
      expect(controller.current()?.observation.state).toBe('stale');
      expect(rowOf(controller.current(), key)?.runtime).toBe('?');
      release();
      for (let i = 0; i < 20 && controller.current()?.observation.state !== 'ok'; i++) await timers.fire();
      expect(controller.current()?.observation.state).toBe('ok');
      expect(rowOf(controller.current(), key)?.runtime).toBe('running');
    } finally {
      release();
      tmux.observe = observe;
    }
  });
});
