import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { claimed, ev, failed, newTicket, okValue, reopen, testStore, T0 } from './helpers.js';

describe('messages', () => {
  it('queues for an existing ticket only, unbound and pending', async () => {
    const store = await testStore();
    await newTicket(store);
    const m = okValue(
      await store.queueMessage({ key: 'MC-1', body: 'hi', kind: 'operator', now: T0, event: ev('queued') }),
    );
    expect(m).toMatchObject({
      ticketKey: 'MC-1',
      runtimeId: null,
      status: 'pending',
      attempts: 0,
      deliveryToken: null,
      createdAt: T0,
    });
    failed(await store.queueMessage({ key: 'MC-2', body: 'hi', kind: 'operator', now: T0, event: ev() }), 'not_found');
    expect((await store.listEvents({ ticketKey: 'MC-1', limit: 1 }))[0]!.kind).toBe('queued');
  });

  it('walks pending -> delivering -> sent and refuses every out-of-order step', async () => {
    const store = await testStore();
    const { runtime, prompt } = await claimed(store);
    failed(await store.finishDelivery({ messageId: prompt.id, now: T0, event: ev() }), 'conflict');
    failed(await store.revertDelivery({ messageId: prompt.id, now: T0 }), 'conflict');
    const d = okValue(
      await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 'buf-1', now: T0 }),
    );
    expect(d).toMatchObject({ status: 'delivering', attempts: 1, runtimeId: runtime.id, deliveryToken: 'buf-1' });
    expect(
      failed(
        await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 'buf-2', now: T0 }),
        'conflict',
      ),
    ).toBe('cannot move message 1 of MC-1 to delivering: it is delivering, not pending');
    const s = okValue(await store.finishDelivery({ messageId: prompt.id, now: T0 + 3, event: ev('sent') }));
    expect(s).toMatchObject({ status: 'sent', sentAt: T0 + 3, deliveryToken: 'buf-1' });
    failed(await store.cancelMessage({ messageId: prompt.id, now: T0, event: ev() }), 'conflict');
    failed(await store.finishDelivery({ messageId: 99, now: T0, event: ev() }), 'not_found');
  });

  it('refuses a delivery onto the screen the last submit went onto until the agent reacted to it', async () => {
    // The frozen agent of soak seed 11: its ready prompt stayed still after a submit. Checked in the write
    // transaction, so a pass that decided on an older snapshot (before another process's submit) is refused too.
    const store = await testStore();
    const { runtime, prompt } = await claimed(store);
    const note = okValue(await store.queueMessage({ key: 'MC-1', body: 'n', kind: 'operator', now: T0, event: ev() }));
    const onto = { screen: 'screen-A', activityAt: T0 - 1000 };
    okValue(await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 'a', now: T0, onto }));
    okValue(
      await store.finishDelivery({ messageId: prompt.id, now: T0 + 10, event: ev(), submittedScreen: 'screen-A' }),
    );
    const rt = (await store.loadActive([])).runtimes.find((r) => r.id === runtime.id)!;
    expect(rt).toMatchObject({ submittedScreen: 'screen-A', submittedAt: T0 + 10, version: runtime.version });
    const begin = (o: { screen: string; activityAt: number }) =>
      store.beginDelivery({ messageId: note.id, runtimeId: runtime.id, token: 'b', now: T0 + 20, onto: o });
    expect(failed(await begin({ screen: 'screen-A', activityAt: T0 + 10 }), 'conflict')).toMatch(
      /has not reacted to the text submitted at .* \(its screen is unchanged and it printed nothing since\)/,
    );
    // Output after the submit, or another screen: it took the text.
    okValue(await begin({ screen: 'screen-A', activityAt: T0 + 1000 }));
    okValue(await store.revertDelivery({ messageId: note.id, now: T0 }));
    okValue(await begin({ screen: 'screen-B', activityAt: T0 }));
  });

  it('reverts a delivery that typed nothing, keeping it bound and counting the attempt', async () => {
    const store = await testStore();
    const { runtime, prompt } = await claimed(store);
    okValue(await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 't', now: T0 }));
    const back = okValue(await store.revertDelivery({ messageId: prompt.id, now: T0 }));
    expect(back).toMatchObject({ status: 'pending', attempts: 1, runtimeId: runtime.id, deliveryToken: null });
  });

  it('cancels pending and delivering messages', async () => {
    const store = await testStore();
    const { runtime, prompt } = await claimed(store);
    const other = okValue(await store.queueMessage({ key: 'MC-1', body: 'x', kind: 'operator', now: T0, event: ev() }));
    okValue(await store.beginDelivery({ messageId: prompt.id, runtimeId: runtime.id, token: 't', now: T0 }));
    expect(okValue(await store.cancelMessage({ messageId: prompt.id, now: T0, event: ev() })).status).toBe('cancelled');
    expect(okValue(await store.cancelMessage({ messageId: other.id, now: T0, event: ev() })).status).toBe('cancelled');
  });

  it("never binds a delivery to a closed runtime or another ticket's runtime", async () => {
    const store = await testStore();
    const a = await claimed(store, 'a');
    const b = await claimed(store, 'b');
    failed(
      await store.beginDelivery({ messageId: a.prompt.id, runtimeId: b.runtime.id, token: 't', now: T0 }),
      'invalid',
    );
    okValue(
      await store.closeRuntime({
        runtimeId: a.runtime.id,
        runtimeVersion: 1,
        reason: 'x',
        exitStatus: null,
        now: T0,
        event: ev(),
      }),
    );
    failed(
      await store.beginDelivery({ messageId: a.prompt.id, runtimeId: a.runtime.id, token: 't', now: T0 }),
      'conflict',
    );
  });
});

describe('leases', () => {
  it('is taken when free, renewed by its holder, refused to others until it expires', async () => {
    const store = await testStore();
    expect(await store.readLease('auto')).toBeNull();
    expect(okValue(await store.acquireLease({ name: 'auto', holder: 'pid:1', ttlMs: 1000, now: T0 }))).toEqual({
      name: 'auto',
      holder: 'pid:1',
      expiresAt: T0 + 1000,
    });
    expect(
      okValue(await store.acquireLease({ name: 'auto', holder: 'pid:1', ttlMs: 1000, now: T0 + 500 })).expiresAt,
    ).toBe(T0 + 1500);
    const r = await store.acquireLease({ name: 'auto', holder: 'pid:2', ttlMs: 1000, now: T0 + 1499 });
    expect(failed(r, 'conflict')).toBe('lease auto is held by pid:1 until 2026-11-25T01:30:01.500Z');
    expect(r.ok ? '' : r.holder).toBe('pid:1');
    expect(
      okValue(await store.acquireLease({ name: 'auto', holder: 'pid:2', ttlMs: 1000, now: T0 + 1500 })).holder,
    ).toBe('pid:2');
  });

  it('is released only by its holder', async () => {
    const store = await testStore();
    okValue(await store.acquireLease({ name: 'auto', holder: 'pid:1', ttlMs: 1000, now: T0 }));
    await store.releaseLease({ name: 'auto', holder: 'pid:2' });
    expect((await store.readLease('auto'))!.holder).toBe('pid:1');
    await store.releaseLease({ name: 'auto', holder: 'pid:1' });
    expect(await store.readLease('auto')).toBeNull();
    failed(await store.acquireLease({ name: 'auto', holder: 'pid:1', ttlMs: 0, now: T0 }), 'invalid');
  });
});

describe('reads', () => {
  it('ticketDetail returns runtimes, messages and events newest first, limited', async () => {
    const store = await testStore();
    const { runtime } = await claimed(store);
    for (let n = 0; n < 5; n++) await store.appendEvent(ev(`note${n}`, { ticketKey: 'MC-1' }), T0 + n);
    const d = (await store.ticketDetail('MC-1', { eventLimit: 3 }))!;
    expect(d.events.map((e) => e.kind)).toEqual(['note4', 'note3', 'note2']);
    expect(d.runtimes.map((r) => r.id)).toEqual([runtime.id]);
    expect(d.messages).toHaveLength(1);
    expect(await store.ticketDetail('MC-2')).toBeNull();
    expect((await store.listEvents({ limit: 2 })).map((e) => e.kind)).toEqual(['note4', 'note3']);
  });

  it('overview gives each ticket its open runtime, else its newest closed one, and its queue length', async () => {
    const store = await testStore();
    await newTicket(store, 'never claimed');
    const b = await claimed(store, 'b');
    const closed = okValue(
      await store.closeRuntime({
        runtimeId: b.runtime.id,
        runtimeVersion: 1,
        reason: 'x',
        exitStatus: null,
        now: T0,
        ticket: { key: b.ticket.key, version: b.ticket.version, to: 'todo' },
        event: ev(),
      }),
    );
    const again = okValue(
      await store.claim({
        key: b.ticket.key,
        ticketVersion: closed.ticket!.version,
        runtime: b.runtime,
        promptBody: 'p',
        now: T0,
        event: ev(),
      }),
    );
    const c = await claimed(store, 'c');
    okValue(
      await store.closeRuntime({
        runtimeId: c.runtime.id,
        runtimeVersion: 1,
        reason: 'y',
        exitStatus: null,
        now: T0,
        event: ev(),
      }),
    );
    okValue(await store.queueMessage({ key: c.ticket.key, body: 'm', kind: 'operator', now: T0, event: ev() }));
    const rows = await store.overview();
    expect(
      rows.map((r) => [r.ticket.key, r.runtime?.id ?? null, r.runtime?.status ?? null, r.pendingMessages]),
    ).toEqual([
      ['MC-1', null, null, 0],
      ['MC-2', again.runtime.id, 'spawning', 1],
      ['MC-3', c.runtime.id, 'closed', 2],
    ]);
  });

  it("changeToken moves on our own commits and on other connections' commits, and only then", async () => {
    const a = await testStore();
    const b = await reopen(a);
    // Another connection's commit may reach `a` a moment later (a server's notification), and a token that
    // cannot vouch for its cache yet moves on every call: wait for it to hold still before judging it.
    const settled = async (what: string, changed: (t: number) => boolean = () => true): Promise<number> => {
      let last = NaN;
      return waitFor(
        what,
        async () => {
          const prev = last;
          last = await a.changeToken();
          return { prev, now: last };
        },
        (t) => t.now === t.prev && changed(t.now),
      ).then((t) => t.now);
    };
    const t0 = await settled('a settled change token');
    expect(await a.changeToken()).toBe(t0);
    await newTicket(a);
    const t1 = await settled('the token to move on our own commit', (t) => t !== t0);
    expect(await a.changeToken()).toBe(t1);
    await newTicket(b);
    await settled("the token to move on b's commit", (t) => t !== t1);
  });
});
