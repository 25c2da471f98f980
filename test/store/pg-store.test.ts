// The PostgreSQL adapter where it differs from SQLite: several connections (hosts) writing one store at once,
// change notifications instead of a file's data_version, and a server that goes away under it. The domain
// behaviour itself is the shared store suite's (run on both adapters).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { StorePort } from '../../src/core/store.port.js';
import { openPgStore, type PgStore } from '../../src/store/ticket-store.pg.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { ev, T0, TARGET, tempDir } from './helpers.js';

let server: TestPostgres;
const opened: PgStore[] = [];

beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((s) => s.closed()));
  await server.destroy();
});

async function open(url: string, deadlineMs = 5000): Promise<PgStore> {
  const s = await openPgStore(url, { deadlineMs });
  opened.push(s);
  return s;
}

function newTicket(store: StorePort, title: string) {
  return store.createTicket({ title, body: 'b', profile: 'demo', now: T0, actor: 'test' });
}

describe('PgStore', () => {
  it('two connections racing to claim each of 40 tickets: each ticket gets exactly one runtime', async () => {
    const url = await server.createDatabase();
    const a = await open(url);
    const b = await open(url);
    const tickets = [];
    for (let i = 0; i < 40; i++) tickets.push(await newTicket(a, `t${i}`));
    const claim = (s: PgStore, key: string, version: number, host: string) =>
      s.claim({
        key,
        ticketVersion: version,
        runtime: { ...TARGET, host, tmuxSession: `mc-${key}` },
        promptBody: 'go',
        now: T0 + 1,
        event: ev('claim'),
      });
    const results = await Promise.all(
      tickets.flatMap((t) => [claim(a, t.key, t.version, 'hostA'), claim(b, t.key, t.version, 'hostB')]),
    );
    const wins = results.filter((r) => r.ok).length;
    expect(wins).toBe(40);
    for (const r of results) if (!r.ok) expect(r.code).toBe('conflict');
    const active = await a.loadActive([]);
    expect(active.runtimes).toHaveLength(40);
    expect(new Set(active.runtimes.map((r) => r.ticketKey)).size).toBe(40);
    // One prompt per claimed ticket, none doubled by a retried transaction.
    expect(active.messages).toHaveLength(40);
  });

  it("moves the change token on another connection's ticket change (NOTIFY), not on its lease renewals", async () => {
    const url = await server.createDatabase();
    const console_ = await open(url);
    const daemon = await open(url);
    // The notification connection comes up in the background; until then every read moves the token.
    let settled = await console_.changeToken();
    await waitFor(
      'a settled token',
      async () => {
        const before = settled;
        settled = await console_.changeToken();
        return settled === before;
      },
      (same) => same,
      10_000,
    );
    for (let i = 0; i < 5; i++) {
      expect((await daemon.acquireLease({ name: 'auto-daemon:b', holder: 'b:1', ttlMs: 10_000, now: T0 + i })).ok).toBe(
        true,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await console_.changeToken()).toBe(settled);
    await newTicket(daemon, 'seen by the console');
    await waitFor(
      'the token to move',
      () => console_.changeToken(),
      (t) => t !== settled,
      5000,
    );
  });

  it('a command wake is called on NOTIFY for its host, and once when the notification connection is back after a loss', async () => {
    const url = await server.createDatabase();
    const daemon = await open(url);
    const asker = await open(url);
    let calls = 0;
    const off = daemon.onCommandQueued('hostB', () => calls++);
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    onTestFinished(() => admin.end());
    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = 'mcc-listen' AND datname = current_database()`,
        )
      ).rows.map((r) => r.pid);
    const first = await waitFor('the LISTEN connection', listeners, (p) => p.length === 1, 10_000);
    const ticket = await newTicket(asker, 'commanded');
    const enqueue = (host: string) =>
      asker.enqueueCommand({
        targetHost: host,
        kind: 'adopt',
        ticketKey: ticket.key,
        args: {},
        actor: 'test',
        now: T0,
        expiresAt: T0 + 60_000,
        event: ev('queued'),
      });
    expect((await enqueue('hostA')).ok).toBe(true);
    expect((await enqueue('hostB')).ok).toBe(true);
    await waitFor(
      'the NOTIFY for hostB',
      () => calls,
      (n) => n === 1,
      5000,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(1);
    // The connection goes (an admin ends it): whatever is queued now is notified to nobody. Back again, the wake
    // is called once, so the worker drains what it missed without waiting for its poll.
    await admin.query('SELECT pg_terminate_backend($1)', [first[0]]);
    await waitFor('a new LISTEN connection', listeners, (p) => p.length === 1 && p[0] !== first[0], 10_000);
    await waitFor(
      'the wake after the reconnect',
      () => calls,
      (n) => n === 2,
      5000,
    );
    off();
    expect((await enqueue('hostB')).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(2);
  });

  it('a server restart under a live store: writes fail as store_failed while it is down, then work again', async () => {
    const url = await server.createDatabase();
    const s = await open(url, 1000);
    await newTicket(s, 'before');
    await server.stop();
    const down = await s.claim({
      key: 'MC-1',
      ticketVersion: 1,
      runtime: TARGET,
      promptBody: 'go',
      now: T0 + 1,
      event: ev('claim'),
    });
    expect(down.ok).toBe(false);
    if (!down.ok) {
      expect(down.code).toBe('store_failed');
      expect(down.message).toMatch(/nothing was written|may or may not/);
      const password = decodeURIComponent(new URL(url).password);
      expect(password.length).toBeGreaterThan(3);
      expect(down.message).not.toContain(password);
    }
    await server.start();
    const up = await waitFor(
      'a write after the restart',
      () =>
        s.claim({ key: 'MC-1', ticketVersion: 1, runtime: TARGET, promptBody: 'go', now: T0 + 2, event: ev('claim') }),
      (r) => r.ok,
      20_000,
    );
    expect(up.ok).toBe(true);
    // Nothing half-written by the failed attempt: one runtime, one prompt.
    const d = await s.ticketDetail('MC-1');
    expect(d?.runtimes).toHaveLength(1);
    expect(d?.messages).toHaveLength(1);
  });

  it('refuses to open an unreachable server naming the redacted location, never the password', async () => {
    const url = server.url('postgres').replace(/:(\d+)\//, ':1/');
    await expect(openPgStore(url, { deadlineMs: 500 })).rejects.toThrow(/cannot connect/);
    const err = await openPgStore(url).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : 'not an Error'),
    );
    expect(err).toMatch(/^store postgres:\/\/[^:@]+@127\.0\.0\.1:1\/postgres: cannot connect/);
    expect(err).not.toContain(decodeURIComponent(new URL(url).password));
  });
});

describe('SQLite change token', () => {
  it("moves on another connection's ticket change, not on its lease renewals", async () => {
    const path = `${tempDir()}/mcc.db`;
    const console_ = openSqliteStore(path);
    const daemon = openSqliteStore(path);
    try {
      const t0 = await console_.changeToken();
      for (let i = 0; i < 5; i++)
        expect(
          (await daemon.acquireLease({ name: 'auto-daemon:b', holder: 'b:1', ttlMs: 10_000, now: T0 + i })).ok,
        ).toBe(true);
      expect(await console_.changeToken()).toBe(t0);
      await newTicket(daemon, 'seen by the console');
      expect(await console_.changeToken()).not.toBe(t0);
    } finally {
      console_.close();
      daemon.close();
    }
  });
});
