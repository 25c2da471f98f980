import { describe, expect, it } from 'vitest';
import type { TicketStatus } from '../../src/core/types.js';
import { claimed, ev, failed, newTicket, okValue, testStore, T0, TARGET, type TestStore } from './helpers.js';

const ID = { pid: 4242, start: 777, bootId: 'boot-1' };

async function spawned(store: TestStore) {
  const c = await claimed(store);
  return okValue(
    await store.recordSpawn({
      runtimeId: c.runtime.id,
      runtimeVersion: c.runtime.version,
      ticketKey: c.ticket.key,
      ticketVersion: c.ticket.version,
      paneId: '%3',
      identity: ID,
      now: T0 + 2,
      event: ev('spawned'),
    }),
  );
}

async function forceStatus(store: TestStore, key: string, to: TicketStatus) {
  const t = (await store.getTicket(key))!;
  return okValue(
    await store.setTicketStatus({ key, version: t.version, from: [t.status], to, now: T0, event: ev('force') }),
  );
}

describe('createTicket', () => {
  it('allocates MC-1, MC-2, ... as todo at version 1 and logs the creation', async () => {
    const store = await testStore();
    const a = await newTicket(store, 'a');
    const b = await newTicket(store, 'b');
    expect([a.key, b.key]).toEqual(['MC-1', 'MC-2']);
    expect(a).toMatchObject({
      status: 'todo',
      version: 1,
      attempts: 0,
      workerPid: null,
      humanInputRequired: false,
      createdAt: T0,
    });
    const events = await store.listEvents({ ticketKey: 'MC-1', limit: 10 });
    expect(events.map((e) => [e.kind, e.actor])).toEqual([['ticket.created', 'operator:test']]);
  });

  it('lists tickets in numeric key order, filtered by status', async () => {
    const store = await testStore();
    for (let n = 1; n <= 11; n++) await newTicket(store, `t${n}`);
    await forceStatus(store, 'MC-10', 'done');
    expect((await store.listTickets()).map((t) => t.key).slice(8)).toEqual(['MC-9', 'MC-10', 'MC-11']);
    expect((await store.listTickets({ status: 'done' })).map((t) => t.key)).toEqual(['MC-10']);
  });
});

describe('claim', () => {
  it('moves todo to in_progress with a spawning runtime, one prompt and an event naming both', async () => {
    const store = await testStore();
    const { ticket, runtime, prompt } = await claimed(store);
    expect(ticket).toMatchObject({ status: 'in_progress', attempts: 1, version: 2, workerPid: null });
    expect(runtime).toMatchObject({
      ticketKey: 'MC-1',
      status: 'spawning',
      paneId: null,
      pid: null,
      version: 1,
      ...TARGET,
    });
    expect(prompt).toMatchObject({
      kind: 'prompt',
      status: 'pending',
      runtimeId: runtime.id,
      body: 'body of a ticket',
    });
    const [event] = await store.listEvents({ ticketKey: 'MC-1', limit: 1 });
    expect(event).toMatchObject({ kind: 'claim', ticketKey: 'MC-1', runtimeId: runtime.id });
  });

  it('refuses a stale version and changes nothing', async () => {
    const store = await testStore();
    const t = await newTicket(store);
    await store.setTicketStatus({
      key: t.key,
      version: 1,
      from: ['todo'],
      to: 'todo',
      humanInputRequired: true,
      now: T0,
      event: ev(),
    });
    const r = await store.claim({
      key: t.key,
      ticketVersion: 1,
      runtime: TARGET,
      promptBody: 'p',
      now: T0,
      event: ev('claim'),
    });
    expect(failed(r, 'conflict')).toBe(
      'cannot claim MC-1: it changed since it was read (version 1, now 2); it is todo',
    );
    const detail = (await store.ticketDetail(t.key))!;
    expect(detail.runtimes).toEqual([]);
    expect(detail.messages).toEqual([]);
    expect(detail.events.map((e) => e.kind)).not.toContain('claim');
  });

  it('names the holder when the ticket is already held', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const r = await store.claim({
      key: ticket.key,
      ticketVersion: ticket.version,
      runtime: TARGET,
      promptBody: 'p',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toBe(
      `cannot claim MC-1: it is in_progress, held by pid 4242 (runtime ${runtime.id})`,
    );
    expect(r.ok ? '' : r.holder).toBe(`pid 4242 (runtime ${runtime.id})`);
  });

  it.each(['in_review', 'done', 'blocked'] as const)('never claims a ticket that is %s', async (status) => {
    const store = await testStore();
    const t = await forceStatus(store, (await newTicket(store)).key, status);
    const r = await store.claim({
      key: t.key,
      ticketVersion: t.version,
      runtime: TARGET,
      promptBody: 'p',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toContain(`it is ${status}`);
    expect((await store.getTicket(t.key))!.status).toBe(status);
  });

  it('refuses a todo ticket that still has an open runtime (no duplicate runtimes)', async () => {
    const store = await testStore();
    const t = await newTicket(store);
    okValue(
      await store.adopt({
        key: t.key,
        ticketVersion: 1,
        runtimeId: null,
        runtimeVersion: null,
        target: TARGET,
        paneId: '%1',
        identity: ID,
        status: 'running',
        now: T0,
        event: ev(),
      }),
    );
    const moved = await forceStatus(store, t.key, 'todo');
    const r = await store.claim({
      key: t.key,
      ticketVersion: moved.version,
      runtime: TARGET,
      promptBody: 'p',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toContain('held by pid 4242');
    expect((await store.ticketDetail(t.key))!.runtimes).toHaveLength(1);
  });

  it('returns not_found for a missing ticket', async () => {
    const store = await testStore();
    failed(
      await store.claim({ key: 'MC-9', ticketVersion: 1, runtime: TARGET, promptBody: 'p', now: T0, event: ev() }),
      'not_found',
    );
  });

  it('rebinds an undelivered prompt to the new runtime instead of queueing a second one', async () => {
    const store = await testStore();
    const first = await claimed(store);
    okValue(
      await store.beginDelivery({ messageId: first.prompt.id, runtimeId: first.runtime.id, token: 'tok-1', now: T0 }),
    );
    const closed = okValue(
      await store.closeRuntime({
        runtimeId: first.runtime.id,
        runtimeVersion: first.runtime.version,
        reason: 'spawn ttl',
        exitStatus: null,
        now: T0 + 5,
        ticket: { key: 'MC-1', version: first.ticket.version, to: 'todo' },
        event: ev('closed'),
      }),
    );
    const again = okValue(
      await store.claim({
        key: 'MC-1',
        ticketVersion: closed.ticket!.version,
        runtime: TARGET,
        promptBody: 'new body',
        now: T0 + 6,
        event: ev(),
      }),
    );
    expect(again.prompt).toMatchObject({
      id: first.prompt.id,
      status: 'pending',
      runtimeId: again.runtime.id,
      body: 'body of a ticket',
      attempts: 1,
    });
    expect(again.ticket.attempts).toBe(2);
    const messages = (await store.ticketDetail('MC-1'))!.messages;
    expect(messages).toHaveLength(1);
  });

  it('queues a fresh prompt when the last one was sent', async () => {
    const store = await testStore();
    const first = await claimed(store);
    okValue(
      await store.beginDelivery({ messageId: first.prompt.id, runtimeId: first.runtime.id, token: 't', now: T0 }),
    );
    okValue(await store.finishDelivery({ messageId: first.prompt.id, now: T0, event: ev() }));
    const closed = okValue(
      await store.closeRuntime({
        runtimeId: first.runtime.id,
        runtimeVersion: 1,
        reason: 'crash',
        exitStatus: 1,
        now: T0,
        ticket: { key: 'MC-1', version: first.ticket.version, to: 'todo' },
        event: ev(),
      }),
    );
    const again = okValue(
      await store.claim({
        key: 'MC-1',
        ticketVersion: closed.ticket!.version,
        runtime: TARGET,
        promptBody: 'retry',
        now: T0,
        event: ev(),
      }),
    );
    expect(again.prompt.id).not.toBe(first.prompt.id);
    expect(again.prompt.body).toBe('retry');
  });
});

describe('recordSpawn', () => {
  it('moves spawning to running with pane and identity and records the worker pid', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    expect(runtime).toMatchObject({
      status: 'running',
      paneId: '%3',
      pid: 4242,
      pidStart: 777,
      bootId: 'boot-1',
      lastSeenAt: T0 + 2,
      version: 2,
    });
    expect(ticket).toMatchObject({ status: 'in_progress', workerPid: 4242, version: 3 });
  });

  it('refuses a stale runtime version, a runtime that is not spawning, and a stale ticket, rolling back both rows', async () => {
    const store = await testStore();
    const c = await claimed(store);
    const base = {
      runtimeId: c.runtime.id,
      ticketKey: 'MC-1',
      paneId: '%3',
      identity: ID,
      now: T0,
      event: ev('spawned'),
    };
    failed(await store.recordSpawn({ ...base, runtimeVersion: 0, ticketVersion: c.ticket.version }), 'conflict');
    expect(failed(await store.recordSpawn({ ...base, runtimeVersion: 1, ticketVersion: 1 }), 'conflict')).toContain(
      'version 1, now 2',
    );
    const after = (await store.ticketDetail('MC-1'))!;
    expect(after.runtimes[0]).toMatchObject({ status: 'spawning', version: 1 });
    expect(after.ticket.version).toBe(c.ticket.version);
    okValue(await store.recordSpawn({ ...base, runtimeVersion: 1, ticketVersion: c.ticket.version }));
    expect(
      failed(await store.recordSpawn({ ...base, runtimeVersion: 2, ticketVersion: c.ticket.version + 1 }), 'conflict'),
    ).toContain('it is running');
  });
});

describe('adopt', () => {
  it('inserts a row for an orphan session and points a todo ticket at it, attempts unchanged', async () => {
    const store = await testStore();
    const t = await newTicket(store);
    const { ticket, runtime } = okValue(
      await store.adopt({
        key: t.key,
        ticketVersion: 1,
        runtimeId: null,
        runtimeVersion: null,
        target: TARGET,
        paneId: '%7',
        identity: ID,
        status: 'idle',
        now: T0 + 9,
        event: ev('adopt'),
      }),
    );
    expect(ticket).toMatchObject({ status: 'in_progress', workerPid: 4242, attempts: 0, version: 2 });
    expect(runtime).toMatchObject({ status: 'idle', paneId: '%7', pid: 4242, lastSeenAt: T0 + 9, version: 1 });
  });

  it('re-points an existing open row with a CAS on its version', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const other = { pid: 5151, start: 888, bootId: 'boot-1' };
    const base = {
      key: ticket.key,
      ticketVersion: ticket.version,
      runtimeId: runtime.id,
      target: TARGET,
      paneId: '%9',
      identity: other,
      status: 'waiting' as const,
      now: T0,
      event: ev(),
    };
    failed(await store.adopt({ ...base, runtimeVersion: runtime.version - 1 }), 'conflict');
    const adopted = okValue(await store.adopt({ ...base, runtimeVersion: runtime.version }));
    expect(adopted.runtime).toMatchObject({
      id: runtime.id,
      status: 'waiting',
      pid: 5151,
      paneId: '%9',
      version: runtime.version + 1,
    });
    expect(adopted.ticket.workerPid).toBe(5151);
  });

  it.each(['in_review', 'done', 'blocked'] as const)('never moves a %s ticket', async (status) => {
    const store = await testStore();
    const t = await forceStatus(store, (await newTicket(store)).key, status);
    const r = await store.adopt({
      key: t.key,
      ticketVersion: t.version,
      runtimeId: null,
      runtimeVersion: null,
      target: TARGET,
      paneId: '%1',
      identity: ID,
      status: 'running',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toContain(`it is ${status}`);
    const detail = (await store.ticketDetail(t.key))!;
    expect(detail.ticket).toEqual(t);
    expect(detail.runtimes).toEqual([]);
  });

  it('refuses a second open runtime for one ticket, naming the holder', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const r = await store.adopt({
      key: ticket.key,
      ticketVersion: ticket.version,
      runtimeId: null,
      runtimeVersion: null,
      target: TARGET,
      paneId: '%1',
      identity: { ...ID, pid: 1 },
      status: 'running',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toContain(`held by pid 4242 (runtime ${runtime.id})`);
    expect((await store.ticketDetail(ticket.key))!.runtimes).toHaveLength(1);
  });

  it('refuses to adopt a closed row', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const closed = okValue(
      await store.closeRuntime({
        runtimeId: runtime.id,
        runtimeVersion: runtime.version,
        reason: 'gone',
        exitStatus: 0,
        now: T0,
        ticket: { key: ticket.key, version: ticket.version, to: 'todo' },
        event: ev(),
      }),
    );
    const r = await store.adopt({
      key: ticket.key,
      ticketVersion: closed.ticket!.version,
      runtimeId: runtime.id,
      runtimeVersion: closed.runtime.version,
      target: TARGET,
      paneId: '%1',
      identity: ID,
      status: 'running',
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toContain('it is closed (gone)');
  });
});

describe('closeRuntime', () => {
  it('closes the row, moves the ticket, clears the worker and returns undelivered messages to the queue', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const prompt = (await store.ticketDetail('MC-1'))!.messages[0]!;
    okValue(await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 'tok', now: T0 }));
    const note = okValue(
      await store.queueMessage({ key: 'MC-1', body: 'also this', kind: 'operator', now: T0, event: ev() }),
    );
    const { runtime: closed, ticket: moved } = okValue(
      await store.closeRuntime({
        runtimeId: runtime.id,
        runtimeVersion: runtime.version,
        reason: 'pane died',
        exitStatus: 3,
        now: T0 + 50,
        ticket: { key: 'MC-1', version: ticket.version, to: 'blocked', blockedReason: 'retry limit' },
        event: ev('closed'),
      }),
    );
    expect(closed).toMatchObject({ status: 'closed', closedAt: T0 + 50, closedReason: 'pane died', exitStatus: 3 });
    expect(moved).toMatchObject({ status: 'blocked', blockedReason: 'retry limit', workerPid: null });
    const messages = (await store.ticketDetail('MC-1'))!.messages;
    expect(messages.map((m) => [m.id, m.status, m.runtimeId, m.deliveryToken])).toEqual([
      [prompt.id, 'pending', null, null],
      [note.id, 'pending', null, null],
    ]);
  });

  it('refuses an already closed runtime and a stale ticket, rolling the close back', async () => {
    const store = await testStore();
    const { ticket, runtime } = await spawned(store);
    const r = await store.closeRuntime({
      runtimeId: runtime.id,
      runtimeVersion: runtime.version,
      reason: 'x',
      exitStatus: null,
      now: T0,
      ticket: { key: 'MC-1', version: ticket.version - 1, to: 'todo' },
      event: ev(),
    });
    failed(r, 'conflict');
    expect((await store.ticketDetail('MC-1'))!.runtimes[0]!.status).toBe('running');
    okValue(
      await store.closeRuntime({
        runtimeId: runtime.id,
        runtimeVersion: runtime.version,
        reason: 'x',
        exitStatus: null,
        now: T0,
        event: ev(),
      }),
    );
    expect(
      failed(
        await store.closeRuntime({
          runtimeId: runtime.id,
          runtimeVersion: runtime.version + 1,
          reason: 'y',
          exitStatus: null,
          now: T0,
          event: ev(),
        }),
        'conflict',
      ),
    ).toContain('it is closed (x)');
    failed(
      await store.closeRuntime({
        runtimeId: 999,
        runtimeVersion: 1,
        reason: 'y',
        exitStatus: null,
        now: T0,
        event: ev(),
      }),
      'not_found',
    );
  });
});

describe('setTicketStatus', () => {
  it('applies the move only from the allowed states and with the current version', async () => {
    const store = await testStore();
    const { ticket } = await spawned(store);
    const move = { key: 'MC-1', to: 'in_review' as const, now: T0, event: ev('review') };
    expect(
      failed(await store.setTicketStatus({ ...move, version: ticket.version, from: ['todo'] }), 'conflict'),
    ).toContain('it is in_progress');
    failed(await store.setTicketStatus({ ...move, version: ticket.version - 1, from: ['in_progress'] }), 'conflict');
    const review = okValue(
      await store.setTicketStatus({
        ...move,
        version: ticket.version,
        from: ['in_progress'],
        humanInputRequired: true,
      }),
    );
    expect(review).toMatchObject({
      status: 'in_review',
      workerPid: 4242,
      humanInputRequired: true,
      version: ticket.version + 1,
    });
    // in_review is never regressed by a move that does not list it.
    failed(
      await store.setTicketStatus({
        key: 'MC-1',
        version: review.version,
        from: ['in_progress', 'todo'],
        to: 'todo',
        now: T0,
        event: ev(),
      }),
      'conflict',
    );
  });

  it('unblocks with attempts reset and the reason cleared', async () => {
    const store = await testStore();
    const c = await claimed(store);
    const blocked = okValue(
      await store.setTicketStatus({
        key: 'MC-1',
        version: c.ticket.version,
        from: ['in_progress'],
        to: 'blocked',
        blockedReason: 'retry limit',
        now: T0,
        event: ev(),
      }),
    );
    expect(blocked).toMatchObject({ blockedReason: 'retry limit', attempts: 1 });
    const todo = okValue(
      await store.setTicketStatus({
        key: 'MC-1',
        version: blocked.version,
        from: ['blocked'],
        to: 'todo',
        resetAttempts: true,
        now: T0,
        event: ev(),
      }),
    );
    expect(todo).toMatchObject({ status: 'todo', attempts: 0, blockedReason: null, workerPid: null });
  });
});

describe('updateRuntime', () => {
  it('changes only the given fields, with a CAS', async () => {
    const store = await testStore();
    const { runtime } = await spawned(store);
    const u = okValue(
      await store.updateRuntime({
        runtimeId: runtime.id,
        version: runtime.version,
        status: 'exited',
        exitStatus: 2,
        deadSince: T0 + 10,
        now: T0 + 10,
        event: ev('exited'),
      }),
    );
    expect(u).toMatchObject({
      status: 'exited',
      exitStatus: 2,
      deadSince: T0 + 10,
      lastSeenAt: runtime.lastSeenAt,
      paneId: '%3',
      version: runtime.version + 1,
    });
    const v = okValue(
      await store.updateRuntime({
        runtimeId: runtime.id,
        version: u.version,
        lastMarker: 'DONE:abc',
        deadSince: null,
        now: T0,
      }),
    );
    expect(v).toMatchObject({ status: 'exited', lastMarker: 'DONE:abc', deadSince: null, exitStatus: 2 });
    failed(
      await store.updateRuntime({ runtimeId: runtime.id, version: u.version, lastSeenAt: T0, now: T0 }),
      'conflict',
    );
    failed(
      await store.updateRuntime({ runtimeId: runtime.id, version: v.version, status: 'closed', now: T0 }),
      'invalid',
    );
    failed(await store.updateRuntime({ runtimeId: 404, version: 1, now: T0 }), 'not_found');
  });
});
