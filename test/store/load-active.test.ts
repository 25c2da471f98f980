import { describe, expect, it } from 'vitest';
import { iso } from '../../src/store/rows.js';
import { claimed, ev, newTicket, okValue, rawExec, testStore, T0 } from './helpers.js';

describe('loadActive', () => {
  it('returns tickets that can drift, every open runtime and every open message, plus the extra keys', async () => {
    const store = await testStore();
    await newTicket(store, 'idle todo'); // MC-1: not active
    await claimed(store, 'claimed'); // MC-2: in_progress with a spawning runtime and a pending prompt
    const t3 = await newTicket(store, 'queued'); // MC-3: todo with a pending message
    okValue(await store.queueMessage({ key: t3.key, body: 'x', kind: 'operator', now: T0, event: ev() }));
    const t4 = await newTicket(store, 'blocked'); // MC-4
    okValue(
      await store.setTicketStatus({ key: t4.key, version: 1, from: ['todo'], to: 'blocked', now: T0, event: ev() }),
    );
    const t5 = await newTicket(store, 'done'); // MC-5: only as an extra key
    okValue(await store.setTicketStatus({ key: t5.key, version: 1, from: ['todo'], to: 'done', now: T0, event: ev() }));

    const active = await store.loadActive(['MC-5', 'MC-2', 'MC-404']);
    expect(active.tickets.map((t) => t.key)).toEqual(['MC-2', 'MC-3', 'MC-4', 'MC-5']);
    expect(active.runtimes.map((r) => r.ticketKey)).toEqual(['MC-2']);
    expect(active.messages.map((m) => [m.ticketKey, m.kind])).toEqual([
      ['MC-2', 'prompt'],
      ['MC-3', 'operator'],
    ]);
  });

  it('stays correct at 50,000 mostly-done tickets with thousands of extra keys', async () => {
    const store = await testStore();
    await newTicket(store, 'seed'); // MC-1 via the store, the rest in bulk for speed
    // One statement in the common SQL of both dialects: a recursive count, not 50,000 round trips.
    await rawExec(store, [
      {
        sql: `WITH RECURSIVE n(x) AS (SELECT 2 UNION ALL SELECT x + 1 FROM n WHERE x < 50000)
              INSERT INTO tickets (key, seq, title, body, status, profile, created_at, updated_at)
              SELECT 'MC-' || x, x, 't', '', CASE WHEN x % 1000 = 0 THEN 'in_progress' ELSE 'done' END, 'demo', ?, ?
              FROM n`,
        params: [iso(T0), iso(T0)],
      },
      { sql: "UPDATE sequences SET value = 50000 WHERE name = 'ticket'" },
    ]);
    const extra = Array.from({ length: 3000 }, (_, n) => `MC-${40_000 + n}`);
    const active = await store.loadActive(extra);
    const keys = active.tickets.map((t) => t.key);
    expect(keys).toHaveLength(50 + 3000 - 3); // MC-40000, 41000 and 42000 are both in_progress and extra
    expect(new Set(keys).size).toBe(keys.length);
    const seqs = keys.map((k) => Number(k.slice(3)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect((await store.overview()).length).toBe(50_000);
  });
});
