import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/core/diagnose.js';
import { Env } from './model-env.js';

// An agent that dies right after start must not become a respawn storm: each automatic attempt waits longer.

describe('retryDelayMs', () => {
  it('no wait before the first attempt; then the TTL, doubling, capped at ten minutes', () => {
    expect(retryDelayMs(0, 30_000)).toBe(0);
    expect(retryDelayMs(1, 30_000)).toBe(30_000);
    expect(retryDelayMs(2, 30_000)).toBe(60_000);
    expect(retryDelayMs(3, 30_000)).toBe(120_000);
    expect(retryDelayMs(50, 30_000)).toBe(600_000);
    for (let a = 1; a < 40; a++) expect(retryDelayMs(a + 1, 1000)).toBeGreaterThanOrEqual(retryDelayMs(a, 1000));
  });
});

describe('pickupCandidates', () => {
  it('a ticket back in todo after a failed attempt is offered again only after its delay', async () => {
    const env = new Env();
    try {
      const key = await env.addTicket('body');
      const mc = env.process('auto').mc;
      expect((await mc.pickupCandidates()).map((t) => t.key)).toEqual([key]);
      const res = await mc.pickup(key);
      if (!res.ok) throw new Error(res.message);
      // The agent dies at once; after the TTL the pass closes the runtime and the ticket is todo again.
      const pane = env.world.liveSession(key)!;
      env.world.tmux.processExited(pane.pid, 3);
      await env.pass();
      env.world.clock.advance(env.config.ttlSeconds * 1000);
      await env.pass();
      const t = await env.store.getTicket(key);
      expect(t).toMatchObject({ status: 'todo', attempts: 1 });
      expect(await mc.pickupCandidates()).toEqual([]);
      env.world.clock.advance(retryDelayMs(1, env.config.ttlSeconds * 1000));
      expect((await mc.pickupCandidates()).map((x) => x.key)).toEqual([key]);
    } finally {
      env.dispose();
    }
  });
});
