import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/core/result.js';
import type { RuntimeSession, Ticket, TicketStatus } from '../../src/core/types.js';
import { closeTestStore, ev, rawRows, T0, TARGET, testStore, type TestStore } from './helpers.js';

// Two actors work from snapshots that go stale at random. Whatever they do, a write based on a stale read
// must fail without touching anything, every successful write must move each row it touches exactly one
// version past what the actor read (no lost and no phantom updates), and no ticket ever has two open runtimes.

const KEYS = ['MC-1', 'MC-2', 'MC-3'];
const ID = { pid: 4242, start: 1, bootId: 'b' };

type Op =
  | { kind: 'refresh'; actor: number }
  | { kind: 'claim' | 'adopt' | 'spawn' | 'touch'; actor: number; ticket: number }
  | { kind: 'close'; actor: number; ticket: number; to: TicketStatus | null }
  | { kind: 'status'; actor: number; ticket: number; to: TicketStatus };

const status = fc.constantFrom<TicketStatus>('todo', 'in_progress', 'in_review', 'done', 'blocked');
const actor = fc.integer({ min: 0, max: 1 });
const ticket = fc.integer({ min: 0, max: KEYS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('refresh' as const), actor }),
  fc.record({
    kind: fc.constantFrom('claim' as const, 'adopt' as const, 'spawn' as const, 'touch' as const),
    actor,
    ticket,
  }),
  fc.record({ kind: fc.constant('close' as const), actor, ticket, to: fc.option(status, { nil: null }) }),
  fc.record({ kind: fc.constant('status' as const), actor, ticket, to: status }),
);

interface Snapshot {
  tickets: Map<string, Ticket>;
  /** The open runtime of each ticket as the actor last saw it. */
  runtimes: Map<string, RuntimeSession>;
}

interface Touch {
  ticket?: { key: string; read: number };
  runtime?: { id: number; read: number };
  result: Result<unknown>;
}

async function snapshot(store: TestStore): Promise<Snapshot> {
  const active = await store.loadActive(KEYS);
  return {
    tickets: new Map(active.tickets.map((t) => [t.key, t])),
    runtimes: new Map(active.runtimes.map((r) => [r.ticketKey, r])),
  };
}

async function dump(store: TestStore): Promise<string> {
  return JSON.stringify([
    await rawRows(store, 'SELECT * FROM tickets ORDER BY seq'),
    await rawRows(store, 'SELECT * FROM runtime_sessions ORDER BY id'),
    await rawRows(store, 'SELECT * FROM messages ORDER BY id'),
  ]);
}

async function apply(store: TestStore, snap: Snapshot, o: Exclude<Op, { kind: 'refresh' }>): Promise<Touch | null> {
  const key = KEYS[o.ticket]!;
  const t = snap.tickets.get(key)!;
  const r = snap.runtimes.get(key);
  const event = ev(o.kind);
  switch (o.kind) {
    case 'claim':
      return {
        ticket: { key, read: t.version },
        result: await store.claim({ key, ticketVersion: t.version, runtime: TARGET, promptBody: 'p', now: T0, event }),
      };
    case 'adopt':
      return {
        ticket: { key, read: t.version },
        result: await store.adopt({
          key,
          ticketVersion: t.version,
          runtimeId: null,
          runtimeVersion: null,
          target: TARGET,
          paneId: '%1',
          identity: ID,
          status: 'running',
          now: T0,
          event,
        }),
      };
    case 'spawn':
      if (r === undefined) return null;
      return {
        ticket: { key, read: t.version },
        runtime: { id: r.id, read: r.version },
        result: await store.recordSpawn({
          runtimeId: r.id,
          runtimeVersion: r.version,
          ticketKey: key,
          ticketVersion: t.version,
          paneId: '%2',
          identity: ID,
          now: T0,
          event,
        }),
      };
    case 'touch':
      if (r === undefined) return null;
      return {
        runtime: { id: r.id, read: r.version },
        result: await store.updateRuntime({ runtimeId: r.id, version: r.version, lastSeenAt: T0, now: T0 }),
      };
    case 'close':
      if (r === undefined) return null;
      return {
        runtime: { id: r.id, read: r.version },
        ...(o.to === null ? {} : { ticket: { key, read: t.version } }),
        result: await store.closeRuntime({
          runtimeId: r.id,
          runtimeVersion: r.version,
          reason: 'prop',
          exitStatus: null,
          now: T0,
          event,
          ...(o.to === null ? {} : { ticket: { key, version: t.version, to: o.to } }),
        }),
      };
    case 'status':
      return {
        ticket: { key, read: t.version },
        result: await store.setTicketStatus({ key, version: t.version, from: [t.status], to: o.to, now: T0, event }),
      };
    default: {
      const never: never = o;
      throw new Error(`unhandled op ${JSON.stringify(never)}`);
    }
  }
}

describe('compare-and-set under random stale and fresh operations', () => {
  it('never loses an update, never applies a stale one, never opens two runtimes for one ticket', async () => {
    const seen = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40, size: 'medium' }), async (ops) => {
        const store = await testStore();
        try {
          for (const _ of KEYS)
            await store.createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' });
          const snaps = [await snapshot(store), await snapshot(store)];
          // The model: each row's version is 1 + the number of successful writes that touched it.
          const expected = new Map<string, number>(KEYS.map((k) => [k, 1]));
          for (const o of ops) {
            if (o.kind === 'refresh') {
              snaps[o.actor] = await snapshot(store);
              continue;
            }
            const before = await dump(store);
            const versions = async (): Promise<Map<string, number>> =>
              new Map([
                ...(await rawRows<{ key: string; version: number }>(store, 'SELECT key, version FROM tickets')).map(
                  (r) => [r.key, r.version] as const,
                ),
                ...(
                  await rawRows<{ id: number; version: number }>(store, 'SELECT id, version FROM runtime_sessions')
                ).map((r) => [`r${r.id}`, r.version] as const),
              ]);
            const pre = await versions();
            const touch = await apply(store, snaps[o.actor]!, o);
            if (touch === null) continue;
            const stale =
              (touch.ticket !== undefined && pre.get(touch.ticket.key) !== touch.ticket.read) ||
              (touch.runtime !== undefined && pre.get(`r${touch.runtime.id}`) !== touch.runtime.read);
            if (stale) expect(touch.result.ok).toBe(false);
            if (touch.result.ok) {
              seen.ok++;
              if (touch.ticket) expected.set(touch.ticket.key, touch.ticket.read + 1);
              if (touch.runtime) expected.set(`r${touch.runtime.id}`, touch.runtime.read + 1);
              // Closing without a ticket move still releases a worker_pid that pointed at the closed runtime.
              const released =
                o.kind === 'close' && o.to === null ? (touch.result.value as { ticket: Ticket | null }).ticket : null;
              if (released) expected.set(released.key, pre.get(released.key)! + 1);
              const created = (touch.result.value as { runtime?: RuntimeSession }).runtime;
              if (created !== undefined && !expected.has(`r${created.id}`)) expected.set(`r${created.id}`, 1);
            } else {
              seen.refused++;
              expect(await dump(store)).toBe(before);
              expect(['conflict', 'invalid']).toContain(touch.result.code);
            }
            expect(await versions()).toEqual(expected);
            const doubled = await rawRows(
              store,
              "SELECT ticket_key FROM runtime_sessions WHERE status <> 'closed' GROUP BY ticket_key HAVING count(*) > 1",
            );
            expect(doubled).toEqual([]);
          }
        } finally {
          await closeTestStore(store);
        }
      }),
      { numRuns: 60 },
    );
    // Guard against a generator that only ever exercises one side.
    expect(seen.ok).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
    // A ceiling for a loaded machine (a fresh store per sequence; a server round trip per statement on PostgreSQL).
  }, 180_000);
});
