// Found by the concurrency test (test/runtime/concurrency.test.ts): a snapshot observes tmux, then reads the
// rows. A pickup that spawned and recorded its runtime in between left a row naming a pane the observation
// could not show; `mcc retire` judged that agent's session gone, closed the row and killed nothing, and the
// agent ran on with no row. The snapshot now looks again when a row was recorded after it began.
import { afterEach, expect, it } from 'vitest';
import type { TmuxObservation } from '../../src/core/tmux.port.js';
import { Env } from './model-env.js';

let env: Env;
afterEach(() => env.dispose());

it('retire racing a pickup that records its spawn during the retire snapshot kills the session it closes', async () => {
  env = new Env();
  const key = await env.addTicket('raced');
  const picker = env.process('auto');
  const tmux = env.world.tmux;
  const observe = tmux.observe.bind(tmux);
  let observations = 0;
  // The retiring process's first tmux observation is taken just before the pickup spawns and records it.
  tmux.observe = async (): Promise<TmuxObservation> => {
    observations++;
    const o = await observe();
    if (observations === 1) {
      const picked = await picker.mc.pickup(key);
      expect(picked.ok && picked.value.how).toBe('spawned');
    }
    return o;
  };
  const retired = await env.process('operator:test').mc.retire(key);
  tmux.observe = observe;
  const d = (await env.store.ticketDetail(key, { eventLimit: 0 }))!;
  const open = d.runtimes.filter((r) => r.status !== 'closed');
  // Whatever the outcome, the row and the session agree: closed and killed, or open and running.
  expect({ open: open.length, live: env.world.liveSession(key) !== undefined }).toEqual(
    retired.ok ? { open: 0, live: false } : { open: 1, live: true },
  );
  expect(retired.ok, retired.ok ? '' : retired.message).toBe(true);
  expect(d.ticket.status).toBe('todo');
});
