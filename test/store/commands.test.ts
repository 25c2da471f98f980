import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Command, CommandKind } from '../../src/core/commands.js';
import type { EnqueueCommandInput } from '../../src/core/store.port.js';
import type { EventRow } from '../../src/store/rows.js';
import { DIST } from '../global-setup.js';
import {
  closeTestStore,
  ev,
  failed,
  newTicket,
  okValue,
  rawExec,
  rawRows,
  reopen,
  schema,
  specOf,
  testStore,
  T0,
} from './helpers.js';

// The command queue's store operations on either adapter: each move a compare-and-set with its event in the
// same transaction; claims by several connections and several processes never take a command twice or lose one.

const execFileP = promisify(execFile);
const MIN = 60_000;

function enqueueInput(over: Partial<EnqueueCommandInput> = {}): EnqueueCommandInput {
  return {
    targetHost: 'hostB',
    kind: 'retire',
    ticketKey: 'MC-1',
    args: { runtimeId: 1 },
    actor: 'operator:alice',
    now: T0,
    expiresAt: T0 + 10 * MIN,
    event: ev('command.queued'),
    ...over,
  };
}

const finishOk = (id: number, claimer: string, now = T0 + 2) => ({
  id,
  claimer,
  status: 'done' as const,
  result: { ok: true, summary: 'retired' },
  now,
  event: ev('command.done'),
});

describe('the commands table', () => {
  it('has its contract columns and index', async () => {
    const store = await testStore();
    expect(await schema.columns(store, 'commands')).toEqual([
      'id',
      'target_host',
      'kind',
      'ticket_key',
      'args',
      'status',
      'result',
      'actor',
      'created_at',
      'expires_at',
      'claimed_at',
      'claimed_by',
      'finished_at',
      'version',
    ]);
    expect(await schema.indexes(store, 'commands')).toContain('commands_queue');
    expect(await schema.indexColumns(store, 'commands_queue')).toEqual(['target_host', 'status', 'id']);
  });

  it('refuses a kind or status outside the contract, and a running row without a claimer', async () => {
    const store = await testStore();
    await newTicket(store);
    const ins = (kind: string, status: string, claimedBy: string | null) =>
      rawExec(store, [
        {
          sql: `INSERT INTO commands (target_host, kind, ticket_key, status, actor, created_at, expires_at, claimed_at, claimed_by)
                VALUES ('h', ?, 'MC-1', ?, 'a', 'x', 'y', ?, ?)`,
          params: [kind, status, claimedBy === null ? null : 'x', claimedBy],
        },
      ]);
    await expect(ins('reboot', 'queued', null)).rejects.toThrow(/check constraint/i);
    await expect(ins('retire', 'lost', null)).rejects.toThrow(/check constraint/i);
    await expect(ins('retire', 'running', null)).rejects.toThrow(/check constraint/i);
    await expect(ins('retire', 'running', 'me')).resolves.toBeUndefined();
  });
});

describe('enqueue', () => {
  it('writes the row queued with its JSON arguments and its event in the same transaction', async () => {
    const store = await testStore();
    await newTicket(store);
    const c = okValue(await store.enqueueCommand(enqueueInput({ args: { runtimeId: 7 } })));
    expect(c).toMatchObject({
      targetHost: 'hostB',
      kind: 'retire',
      ticketKey: 'MC-1',
      status: 'queued',
      result: null,
      actor: 'operator:alice',
      createdAt: T0,
      expiresAt: T0 + 10 * MIN,
      claimedAt: null,
      claimedBy: null,
      version: 1,
    });
    expect(JSON.parse(c.args)).toEqual({ runtimeId: 7 });
    const events = await rawRows<EventRow>(store, "SELECT * FROM events WHERE kind = 'command.queued'");
    expect(events).toHaveLength(1);
    expect(events[0]!.ticket_key).toBe('MC-1');
    expect(await store.getCommand(c.id)).toEqual(c);
  });

  it('refuses a ticket that does not exist, writing nothing', async () => {
    const store = await testStore();
    failed(await store.enqueueCommand(enqueueInput({ ticketKey: 'MC-9' })), 'not_found');
    expect(await rawRows(store, 'SELECT * FROM commands')).toEqual([]);
    expect(await rawRows(store, "SELECT * FROM events WHERE kind = 'command.queued'")).toEqual([]);
  });
});

describe('claim and finish', () => {
  it('claims the oldest queued unexpired command of the host only, once', async () => {
    const store = await testStore();
    await newTicket(store);
    const other = okValue(await store.enqueueCommand(enqueueInput({ targetHost: 'hostC' })));
    const stale = okValue(await store.enqueueCommand(enqueueInput({ expiresAt: T0 + 1 })));
    const first = okValue(await store.enqueueCommand(enqueueInput()));
    const second = okValue(await store.enqueueCommand(enqueueInput({ kind: 'adopt', args: {} })));
    const c1 = okValue(await store.claimCommand({ host: 'hostB', claimer: 'b:1', now: T0 + 5 }));
    expect(c1).toMatchObject({ id: first.id, status: 'running', claimedBy: 'b:1', claimedAt: T0 + 5, version: 2 });
    const c2 = okValue(await store.claimCommand({ host: 'hostB', claimer: 'b:2', now: T0 + 5 }));
    expect(c2?.id).toBe(second.id);
    expect(okValue(await store.claimCommand({ host: 'hostB', claimer: 'b:1', now: T0 + 5 }))).toBeNull();
    expect((await store.getCommand(stale.id))?.status).toBe('queued');
    expect((await store.getCommand(other.id))?.status).toBe('queued');
  });

  it('finishes by its claimer only, once, with its result and event', async () => {
    const store = await testStore();
    await newTicket(store);
    const c = okValue(await store.enqueueCommand(enqueueInput()));
    okValue(await store.claimCommand({ host: 'hostB', claimer: 'b:1', now: T0 + 1 }));
    expect(failed(await store.finishCommand(finishOk(c.id, 'b:2')), 'conflict')).toContain('claimed by b:1');
    const done = okValue(await store.finishCommand(finishOk(c.id, 'b:1')));
    expect(done).toMatchObject({ status: 'done', finishedAt: T0 + 2, version: 3 });
    expect(JSON.parse(done.result ?? '')).toEqual({ ok: true, summary: 'retired' });
    expect(failed(await store.finishCommand(finishOk(c.id, 'b:1')), 'conflict')).toContain('it is done');
    failed(await store.finishCommand(finishOk(999, 'b:1')), 'not_found');
    expect(await rawRows(store, "SELECT * FROM events WHERE kind = 'command.done'")).toHaveLength(1);
  });

  it('a queued command cannot be finished: it was never claimed', async () => {
    const store = await testStore();
    await newTicket(store);
    const c = okValue(await store.enqueueCommand(enqueueInput()));
    expect(failed(await store.finishCommand(finishOk(c.id, 'b:1')), 'conflict')).toContain('it is queued');
  });
});

describe('expiry', () => {
  it('expires queued commands past their time with an event each; running and fresh ones stay', async () => {
    const store = await testStore();
    await newTicket(store);
    const a = okValue(await store.enqueueCommand(enqueueInput({ expiresAt: T0 + MIN })));
    const b = okValue(await store.enqueueCommand(enqueueInput({ targetHost: 'hostC', expiresAt: T0 + MIN })));
    const fresh = okValue(await store.enqueueCommand(enqueueInput({ expiresAt: T0 + 5 * MIN })));
    const running = okValue(await store.enqueueCommand(enqueueInput({ targetHost: 'hostD', expiresAt: T0 + MIN })));
    okValue(await store.claimCommand({ host: 'hostD', claimer: 'd:1', now: T0 + 1 }));
    expect(await store.expireCommands({ now: T0 + MIN - 1, actor: 'auto' })).toEqual([]);
    const gone = await store.expireCommands({ now: T0 + MIN, actor: 'auto' });
    expect(gone.map((c) => c.id)).toEqual([a.id, b.id]);
    expect(gone.every((c) => c.status === 'expired' && c.finishedAt === T0 + MIN)).toBe(true);
    expect(JSON.parse(gone[0]!.result ?? '')).toMatchObject({ ok: false, code: 'expired' });
    const events = await rawRows<EventRow>(store, "SELECT * FROM events WHERE kind = 'command.expired' ORDER BY id");
    expect(events.map((e) => e.summary)).toEqual([
      expect.stringContaining(`on hostB (command ${a.id}) expired`),
      expect.stringContaining(`on hostC (command ${b.id}) expired`),
    ]);
    expect((await store.getCommand(fresh.id))?.status).toBe('queued');
    expect((await store.getCommand(running.id))?.status).toBe('running');
    // An expired command is never claimed.
    expect(okValue(await store.claimCommand({ host: 'hostB', claimer: 'b:1', now: T0 + MIN }))?.id).toBe(fresh.id);
  });
});

describe('recovery of a dead claimer', () => {
  it('re-claims for a live claimer, or fails with the result; only while the dead one still holds it', async () => {
    const store = await testStore();
    await newTicket(store);
    const a = okValue(await store.enqueueCommand(enqueueInput()));
    const b = okValue(await store.enqueueCommand(enqueueInput({ kind: 'interrupt' })));
    okValue(await store.claimCommand({ host: 'hostB', claimer: 'dead', now: T0 + 1 }));
    okValue(await store.claimCommand({ host: 'hostB', claimer: 'dead', now: T0 + 1 }));
    const rec = (id: number, to: { rerunBy: string } | { failed: unknown }, from = 'dead') =>
      store.recoverCommand({ id, deadClaimer: from, to, now: T0 + 9, event: ev('command.recovered') });
    failed(await rec(a.id, { rerunBy: 'live' }, 'someone-else'), 'conflict');
    const again = okValue(await rec(a.id, { rerunBy: 'live' }));
    expect(again).toMatchObject({ status: 'running', claimedBy: 'live', claimedAt: T0 + 9 });
    const lost = okValue(await rec(b.id, { failed: { ok: false, code: 'outcome_unknown', message: 'm' } }));
    expect(lost).toMatchObject({ status: 'failed', finishedAt: T0 + 9 });
    failed(await rec(b.id, { rerunBy: 'live' }), 'conflict');
    // The new claimer finishes it; the dead one cannot.
    failed(await store.finishCommand(finishOk(a.id, 'dead')), 'conflict');
    okValue(await store.finishCommand(finishOk(a.id, 'live')));
  });
});

describe('listing', () => {
  it('filters by ticket, host and status, newest first, limited', async () => {
    const store = await testStore();
    await newTicket(store);
    await newTicket(store, 'second');
    const ids: number[] = [];
    for (const [host, key] of [
      ['hostB', 'MC-1'],
      ['hostC', 'MC-2'],
      ['hostB', 'MC-2'],
      ['hostB', 'MC-1'],
    ] as const)
      ids.push(okValue(await store.enqueueCommand(enqueueInput({ targetHost: host, ticketKey: key }))).id);
    okValue(await store.claimCommand({ host: 'hostB', claimer: 'b', now: T0 }));
    const idsOf = (cs: Command[]) => cs.map((c) => c.id);
    expect(idsOf(await store.listCommands({ limit: 10 }))).toEqual([...ids].reverse());
    expect(idsOf(await store.listCommands({ limit: 2 }))).toEqual([ids[3], ids[2]]);
    expect(idsOf(await store.listCommands({ host: 'hostB', limit: 10 }))).toEqual([ids[3], ids[2], ids[0]]);
    expect(idsOf(await store.listCommands({ ticketKey: 'MC-2', limit: 10 }))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await store.listCommands({ statuses: ['running'], limit: 10 }))).toEqual([ids[0]]);
    expect(await store.listCommands({ statuses: [], limit: 10 })).toEqual([]);
    expect(await store.getCommand(12345)).toBeNull();
  });
});

type QOp =
  | { kind: 'enqueue'; host: number }
  | { kind: 'claim'; who: number; host: number }
  | { kind: 'finish'; who: number }
  | { kind: 'expire' }
  | { kind: 'tick'; ms: number };

const HOSTS = ['hostA', 'hostB'];

describe('property: with several connections, every command is claimed at most once and none is lost', () => {
  it('holds for any interleaving of enqueues, claims, finishes, expiry and time', async () => {
    const qop: fc.Arbitrary<QOp> = fc.oneof(
      fc.record({ kind: fc.constant('enqueue' as const), host: fc.integer({ min: 0, max: 1 }) }),
      fc.record({
        kind: fc.constant('claim' as const),
        who: fc.integer({ min: 0, max: 2 }),
        host: fc.integer({ min: 0, max: 1 }),
      }),
      fc.record({ kind: fc.constant('finish' as const), who: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('expire' as const) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 4 * MIN }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(qop, { minLength: 1, maxLength: 40 }), async (ops) => {
        const first = await testStore();
        await newTicket(first);
        // Three claimers, each on its own connection to the same store.
        const conns = [first, await reopen(first), await reopen(first)];
        try {
          let now = T0;
          const enqueued = new Map<number, { expiresAt: number; host: string }>();
          const claimedBy = new Map<number, number>();
          const holding: number[][] = [[], [], []];
          for (const o of ops) {
            if (o.kind === 'tick') now += o.ms;
            else if (o.kind === 'enqueue') {
              const c = okValue(
                await conns[0]!.enqueueCommand(
                  enqueueInput({ targetHost: HOSTS[o.host]!, now, expiresAt: now + 5 * MIN }),
                ),
              );
              enqueued.set(c.id, { expiresAt: c.expiresAt, host: c.targetHost });
            } else if (o.kind === 'claim') {
              const c = okValue(await conns[o.who]!.claimCommand({ host: HOSTS[o.host]!, claimer: `w${o.who}`, now }));
              if (c === null) continue;
              // Claimed once, for its own host, never after its expiry.
              expect(claimedBy.has(c.id)).toBe(false);
              expect(c.targetHost).toBe(HOSTS[o.host]);
              expect(enqueued.get(c.id)!.expiresAt).toBeGreaterThan(now);
              claimedBy.set(c.id, o.who);
              holding[o.who]!.push(c.id);
            } else if (o.kind === 'finish') {
              const id = holding[o.who]!.shift();
              if (id === undefined) continue;
              okValue(await conns[o.who]!.finishCommand(finishOk(id, `w${o.who}`, now)));
            } else {
              await conns[0]!.expireCommands({ now, actor: 'auto' });
            }
          }
          // None lost: every command is in exactly the state its history says.
          const all = await first.listCommands({ limit: 1000 });
          expect(all.map((c) => c.id).sort((a, b) => a - b)).toEqual([...enqueued.keys()]);
          for (const c of all) {
            const who = claimedBy.get(c.id);
            if (who === undefined) {
              expect(['queued', 'expired']).toContain(c.status);
              expect(c.claimedBy).toBeNull();
            } else {
              expect(c.claimedBy).toBe(`w${who}`);
              expect(c.status).toBe(holding[who]!.includes(c.id) ? 'running' : 'done');
            }
          }
          const events = await rawRows<{ kind: string; n: number }>(
            first,
            "SELECT kind, count(*) AS n FROM events WHERE kind LIKE 'command.%' GROUP BY kind ORDER BY kind",
          );
          const count = (k: string) => events.find((e) => e.kind === k)?.n ?? 0;
          expect(count('command.queued')).toBe(enqueued.size);
          expect(count('command.expired')).toBe(all.filter((c) => c.status === 'expired').length);
          expect(count('command.done')).toBe(all.filter((c) => c.status === 'done').length);
        } finally {
          for (const s of conns.slice(1)) await closeTestStore(s);
          await closeTestStore(first);
        }
      }),
      { numRuns: 60 },
    );
    // A ceiling for a loaded machine (a fresh store per sequence; a server round trip per statement on PostgreSQL).
  }, 180_000);
});

describe('processes racing to claim one host’s commands', () => {
  it('with 4 racers over 200 commands: each is claimed and finished exactly once, none lost', async () => {
    const store = await testStore();
    await newTicket(store);
    const kinds: CommandKind[] = ['retire', 'adopt', 'pickup', 'kill'];
    const ids: number[] = [];
    for (let i = 0; i < 200; i++)
      ids.push(
        okValue(
          await store.enqueueCommand(
            enqueueInput({ kind: kinds[i % 4]!, now: Date.now(), expiresAt: Date.now() + 10 * MIN }),
          ),
        ).id,
      );
    // Noise for another host: never taken by these racers.
    okValue(
      await store.enqueueCommand(enqueueInput({ targetHost: 'hostZ', now: Date.now(), expiresAt: Date.now() + MIN })),
    );
    const racer = join(import.meta.dirname, 'fixtures', 'command-racer.mjs');
    const at = String(Date.now() + 400);
    const outs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        execFileP(process.execPath, [racer, join(DIST, 'store'), specOf(store), 'hostB', `racer-${i}`, at], {
          encoding: 'utf8',
          timeout: 60_000,
        }),
      ),
    );
    const reports = outs.map((o) => JSON.parse(o.stdout) as { claimer: string; claimed: number[]; errors: string[] });
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    const claimed = reports.flatMap((r) => r.claimed).sort((a, b) => a - b);
    expect(claimed).toEqual(ids);
    const db = await rawRows<{ status: string; n: number }>(
      store,
      "SELECT status, count(*) AS n FROM commands WHERE target_host = 'hostB' GROUP BY status",
    );
    expect(db).toEqual([{ status: 'done', n: 200 }]);
    for (const r of reports)
      for (const id of r.claimed) expect((await store.getCommand(id))?.claimedBy, `command ${id}`).toBe(r.claimer);
    expect((await store.listCommands({ host: 'hostZ', limit: 5 }))[0]?.status).toBe('queued');
  }, 90_000);
});
