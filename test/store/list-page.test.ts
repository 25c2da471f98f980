// The ticket list at size: listPage (the text view's narrow page and its counts), countByState and the
// eachOverview walk (`mcc list --json`), on either adapter (SQLite's query plans: list-plan.sqlite.test.ts).
import { describe, expect, it } from 'vitest';
import { LIST_TITLE_HEAD, type TicketOverview } from '../../src/core/store.port.js';
import type { TicketStatus } from '../../src/core/types.js';
import { iso } from '../../src/store/rows.js';
import { claimed, ev, newTicket, okValue, rawExec, rawRows, testStore, T0, type TestStore } from './helpers.js';

/** Tickets MC-(from)..MC-(from+states.length-1) inserted directly, one per given state. */
async function bulk(
  store: TestStore,
  states: readonly TicketStatus[],
  title = (seq: number) => `t${seq}`,
): Promise<void> {
  const at = iso(T0);
  const [{ s: from } = { s: 1 }] = await rawRows<{ s: number }>(
    store,
    'SELECT coalesce(max(seq), 0) + 1 AS s FROM tickets',
  );
  await rawExec(store, [
    ...states.map((s, i) => ({
      sql: `INSERT INTO tickets (key, seq, title, body, status, profile, created_at, updated_at)
            VALUES (?, ?, ?, 'body', ?, 'demo', ?, ?)`,
      params: [`MC-${from + i}`, from + i, title(from + i), s, at, at],
    })),
    { sql: "UPDATE sequences SET value = ? WHERE name = 'ticket'", params: [from + states.length - 1] },
  ]);
}

const keysOf = (rows: readonly { key: string }[]) => rows.map((r) => r.key);

async function walk(store: TestStore, query: Parameters<TestStore['eachOverview']>[0]): Promise<TicketOverview[]> {
  const seen: TicketOverview[] = [];
  const n = await store.eachOverview(query, (row) => seen.push(row));
  expect(n).toBe(seen.length);
  return seen;
}

describe('listPage', () => {
  it('leaves out excluded states, orders by number, limits, and counts what it left out', async () => {
    const store = await testStore();
    // MC-1..MC-12: done on every third, so open and done tickets interleave across MC-9/MC-10.
    await bulk(
      store,
      Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? 'done' : i % 3 === 1 ? 'in_review' : 'todo')),
    );
    const all = await store.listPage({ excludeStates: ['done'], limit: 100 });
    expect(keysOf(all.rows)).toEqual(['MC-1', 'MC-2', 'MC-4', 'MC-5', 'MC-7', 'MC-8', 'MC-10', 'MC-11']);
    expect(all).toMatchObject({ total: 8, remaining: 0 });
    expect(all.byState).toEqual({ todo: 4, in_progress: 0, in_review: 4, done: 4, blocked: 0 });

    const first = await store.listPage({ excludeStates: ['done'], limit: 3 });
    expect(keysOf(first.rows)).toEqual(['MC-1', 'MC-2', 'MC-4']);
    expect(first).toMatchObject({ total: 8, remaining: 5 });
    const second = await store.listPage({ excludeStates: ['done'], limit: 3, after: 'MC-4' });
    expect(keysOf(second.rows)).toEqual(['MC-5', 'MC-7', 'MC-8']);
    expect(second.remaining).toBe(2);
    const last = await store.listPage({ excludeStates: ['done'], limit: 3, after: 'MC-8' });
    expect(keysOf(last.rows)).toEqual(['MC-10', 'MC-11']);
    expect(last.remaining).toBe(0);
    // A page exactly as long as what is left says nothing remains.
    expect((await store.listPage({ excludeStates: ['done'], limit: 2, after: 'MC-8' })).remaining).toBe(0);

    const done = await store.listPage({ states: ['done'], limit: 2 });
    expect(keysOf(done.rows)).toEqual(['MC-3', 'MC-6']);
    expect(done).toMatchObject({ total: 4, remaining: 2 });
    // states and excludeStates together: both must hold.
    const none = await store.listPage({ states: ['done'], excludeStates: ['done'], limit: 5 });
    expect(none).toMatchObject({ rows: [], total: 0, remaining: 0 });
    expect((await store.listPage({ limit: 100 })).total).toBe(12);
    expect(await store.countByState()).toEqual(all.byState);
  });

  it('carries the open runtime only, the attempts, and a title head that says when it was cut', async () => {
    const store = await testStore();
    const running = await claimed(store, 'running'); // MC-1: in_progress, runtime spawning
    okValue(
      await store.recordSpawn({
        runtimeId: running.runtime.id,
        runtimeVersion: running.runtime.version,
        ticketKey: 'MC-1',
        ticketVersion: running.ticket.version,
        paneId: '%1',
        identity: { pid: 4242, start: 1, bootId: 'b' },
        now: T0 + 5,
        event: ev(),
      }),
    );
    const gone = await claimed(store, 'closed'); // MC-2: its runtime closed, back to todo
    okValue(
      await store.closeRuntime({
        runtimeId: gone.runtime.id,
        runtimeVersion: gone.runtime.version,
        reason: 'x',
        exitStatus: null,
        now: T0,
        ticket: { key: 'MC-2', version: gone.ticket.version, to: 'todo' },
        event: ev(),
      }),
    );
    const long = 'é'.repeat(LIST_TITLE_HEAD) + 'TAIL';
    await newTicket(store, long); // MC-3
    await newTicket(store, 'é'.repeat(LIST_TITLE_HEAD)); // MC-4: exactly the head, not cut

    const { rows } = await store.listPage({ limit: 10 });
    expect(rows[0]).toEqual({
      key: 'MC-1',
      status: 'in_progress',
      title: 'running',
      titleCut: false,
      attempts: 1,
      runtime: { id: running.runtime.id, status: 'running', pid: 4242, createdAt: T0 + 1 },
    });
    expect(rows[1]).toMatchObject({ key: 'MC-2', status: 'todo', attempts: 1, runtime: null });
    expect(rows[2]).toMatchObject({ title: 'é'.repeat(LIST_TITLE_HEAD), titleCut: true });
    expect(rows[3]).toMatchObject({ title: 'é'.repeat(LIST_TITLE_HEAD), titleCut: false });
  });

  it('refuses a limit below 1 and a key that is not one (a bug in the caller, the service checks first)', async () => {
    const store = await testStore();
    await expect(store.listPage({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(store.listPage({ limit: 1, after: 'nope' })).rejects.toThrow(/not a ticket key/);
  });
});

describe('eachOverview', () => {
  it('walks exactly the rows overview() has, in order, and narrows by state, after and limit', async () => {
    const store = await testStore();
    await claimed(store, 'a'); // MC-1 in_progress with a runtime and a pending prompt
    await bulk(store, ['done', 'todo', 'done', 'blocked', 'todo', 'todo', 'done', 'todo', 'todo', 'todo']); // MC-2..MC-11
    okValue(await store.queueMessage({ key: 'MC-3', body: 'm', kind: 'operator', now: T0, event: ev() }));

    const whole = await store.overview();
    expect(await walk(store, {})).toEqual(whole);
    expect(keysOf((await walk(store, {})).map((o) => o.ticket))).toEqual(
      Array.from({ length: 11 }, (_, i) => `MC-${i + 1}`),
    );
    expect(await walk(store, { states: ['done'] })).toEqual(whole.filter((o) => o.ticket.status === 'done'));
    expect(await walk(store, { excludeStates: ['done'] })).toEqual(whole.filter((o) => o.ticket.status !== 'done'));
    expect(await walk(store, { limit: 3, after: 'MC-8' })).toEqual(whole.slice(8, 11));
    expect(await walk(store, { states: [] })).toEqual([]);
  });

  it('stops the walk when the visitor throws, and the store stays usable', async () => {
    const store = await testStore();
    await bulk(store, ['todo', 'todo', 'todo']);
    let seen = 0;
    await expect(
      store.eachOverview({}, () => {
        if (++seen === 2) throw new Error('reader went away');
      }),
    ).rejects.toThrow('reader went away');
    expect(seen).toBe(2);
    expect((await store.listPage({ limit: 5 })).rows).toHaveLength(3);
    await newTicket(store, 'still writable');
  });
});
