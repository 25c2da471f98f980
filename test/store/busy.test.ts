import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ev, failed, newTicket, okValue, openTestStore, T0, TARGET } from './helpers.js';

// Another connection holding the write lock past busy_timeout must never surface as an SQLITE_BUSY exception.

describe('a store locked by someone else', () => {
  it('reports conflict "store busy" after its retries, and leaves the rows untouched', async () => {
    const store = openTestStore(undefined, { busyTimeoutMs: 20 });
    const t = await newTicket(store);
    const locker = new Database(store.location);
    try {
      locker.exec('BEGIN IMMEDIATE');
      const r = await store.claim({
        key: t.key,
        ticketVersion: t.version,
        runtime: TARGET,
        promptBody: 'p',
        now: T0,
        event: ev(),
      });
      expect(failed(r, 'conflict')).toMatch(/^store busy: another process kept .* locked/);
      locker.exec('ROLLBACK');
      expect(await store.getTicket(t.key)).toEqual(t);
    } finally {
      locker.close();
    }
  });

  it('succeeds when the lock is released while it retries', async () => {
    const store = openTestStore(undefined, { busyTimeoutMs: 20 });
    const t = await newTicket(store);
    const locker = new Database(store.location);
    try {
      locker.exec('BEGIN IMMEDIATE');
      setTimeout(() => locker.exec('COMMIT'), 5);
      const r = await store.claim({
        key: t.key,
        ticketVersion: t.version,
        runtime: TARGET,
        promptBody: 'p',
        now: T0,
        event: ev(),
      });
      expect(okValue(r).ticket.status).toBe('in_progress');
    } finally {
      locker.close();
    }
  });
});
