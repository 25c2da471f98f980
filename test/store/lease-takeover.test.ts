// The store half of a lease takeover: a compare-and-set that replaces one exact holder, whatever the expiry,
// and logs the takeover in the same transaction.
import { describe, expect, it } from 'vitest';
import { ev, failed, okValue, testStore, T0 } from './helpers.js';

const DEAD = 'h1:7 start=100 boot=B';

describe('takeOverLease', () => {
  it('replaces exactly the dead holder of an unexpired lease and logs it', async () => {
    const store = await testStore();
    okValue(await store.acquireLease({ name: 'auto', holder: DEAD, ttlMs: 60_000, now: T0 }));
    const lease = okValue(
      await store.takeOverLease({
        name: 'auto',
        from: DEAD,
        holder: 'h1:8',
        ttlMs: 1000,
        now: T0 + 5,
        event: ev('lease'),
      }),
    );
    expect(lease).toEqual({ name: 'auto', holder: 'h1:8', expiresAt: T0 + 1005 });
    expect((await store.listEvents({ limit: 5 })).map((e) => e.kind)).toEqual(['lease']);
  });

  it('refuses, changing nothing, when someone else holds it by now or it was released', async () => {
    const store = await testStore();
    okValue(await store.acquireLease({ name: 'auto', holder: 'h1:9 start=1 boot=B', ttlMs: 60_000, now: T0 }));
    const r = await store.takeOverLease({
      name: 'auto',
      from: DEAD,
      holder: 'h1:8',
      ttlMs: 1000,
      now: T0,
      event: ev(),
    });
    expect(failed(r, 'conflict')).toBe('lease auto changed hands: it is held by h1:9, not h1:7');
    expect(r.ok ? '' : r.holder).toBe('h1:9 start=1 boot=B');
    expect(await store.readLease('auto')).toMatchObject({ holder: 'h1:9 start=1 boot=B' });
    await store.releaseLease({ name: 'auto', holder: 'h1:9 start=1 boot=B' });
    const gone = await store.takeOverLease({
      name: 'auto',
      from: DEAD,
      holder: 'h1:8',
      ttlMs: 1000,
      now: T0,
      event: ev(),
    });
    expect(failed(gone, 'conflict')).toBe('lease auto was released before it could be taken over from h1:7');
    expect(await store.readLease('auto')).toBeNull();
    expect(await store.listEvents({ limit: 5 })).toEqual([]);
    failed(
      await store.takeOverLease({ name: 'auto', from: DEAD, holder: 'x', ttlMs: 0, now: T0, event: ev() }),
      'invalid',
    );
  });

  it('names a process holder as host:PID in the conflict of acquireLease, with the full holder beside it', async () => {
    const store = await testStore();
    okValue(await store.acquireLease({ name: 'auto', holder: DEAD, ttlMs: 1000, now: T0 }));
    const r = await store.acquireLease({ name: 'auto', holder: 'h1:8', ttlMs: 1000, now: T0 });
    expect(failed(r, 'conflict')).toBe('lease auto is held by h1:7 until 2026-11-25T01:30:01.000Z');
    expect(r.ok ? '' : r.holder).toBe(DEAD);
  });
});
