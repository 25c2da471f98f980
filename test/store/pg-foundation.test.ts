import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import {
  createPgPool,
  parsePgUrl,
  withPgTransaction,
  type PgLocation,
  type PgPoolOptions,
} from '../../src/store/pg/connect.js';
import { migratePg, PG_SCHEMA_VERSION } from '../../src/store/pg/migrations.js';
import { toPg } from '../../src/store/pg/sql.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { usePostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from './helpers.js';

// The PostgreSQL foundation against a real throwaway cluster (one per file, a fresh database per test).

const cluster = usePostgres();
const pools: pg.Pool[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
});

function loc(url: string): PgLocation {
  const parsed = parsePgUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

function pool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  const p = createPgPool(loc(url), { connectTimeoutMs: 1000, ...opts });
  pools.push(p);
  return p;
}

async function migrateWith(p: pg.Pool, url: string): Promise<void> {
  const client = await p.connect();
  try {
    await migratePg(client, loc(url).redacted);
  } finally {
    client.release();
  }
}

async function tablesOf(p: pg.Pool): Promise<string[]> {
  const r = await p.query<{ t: string }>(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  return r.rows.map((x) => x.t);
}

/** Everything a refused migration must leave as it was: tables, columns, and the meta rows. */
async function fingerprint(p: pg.Pool): Promise<string> {
  const cols = await p.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const tables = await tablesOf(p);
  const meta = tables.includes('meta') ? (await p.query('SELECT * FROM meta ORDER BY 1')).rows : [];
  return JSON.stringify({ cols: cols.rows, meta });
}

async function versionOf(p: pg.Pool): Promise<string | undefined> {
  const r = await p.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
  return r.rows[0]?.value;
}

describe('migratePg', () => {
  it('has as many steps as the SQLite migrations', () => {
    expect(PG_SCHEMA_VERSION).toBe(SCHEMA_VERSION);
  });

  it("creates exactly the SQLite schema's tables, columns and index names", async () => {
    const sqlitePath = join(tempDir(), 'mcc.db');
    openSqliteStore(sqlitePath).close();
    const lite = new Database(sqlitePath, { readonly: true });
    let liteTables: string[];
    const liteColumns: Record<string, string[]> = {};
    let liteIndexes: string[];
    try {
      liteTables = (
        lite
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1`)
          .all() as { name: string }[]
      ).map((r) => r.name);
      for (const t of liteTables) {
        liteColumns[t] = (lite.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name);
      }
      // Explicitly created indexes (sql not null): the ones the operations and invariants name.
      liteIndexes = (
        lite.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1`).all() as {
          name: string;
        }[]
      ).map((r) => r.name);
    } finally {
      lite.close();
    }

    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await migrateWith(p, url);
    expect(await tablesOf(p)).toEqual(liteTables);
    for (const t of liteTables) {
      const r = await p.query<{ c: string }>(
        `SELECT column_name AS c FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [t],
      );
      expect(
        r.rows.map((x) => x.c),
        t,
      ).toEqual(liteColumns[t]);
    }
    // Indexes that back a constraint (primary keys, UNIQUE columns) are SQLite's autoindexes: not compared.
    const idx = await p.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
        WHERE i.schemaname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
        ORDER BY 1`,
    );
    expect(idx.rows.map((r) => r.name)).toEqual(liteIndexes);
    const defs = Object.fromEntries(idx.rows.map((r) => [r.name, r.def]));
    expect(defs.runtime_sessions_one_open).toMatch(/UNIQUE INDEX .* WHERE \(status <> 'closed'::text\)/);
    expect(defs.workspaces_one_path).toMatch(/UNIQUE INDEX .* WHERE \(removed_at IS NULL\)/);
    expect(defs.workspaces_one_branch).toMatch(/UNIQUE INDEX .*\(repo, branch\) WHERE \(\(removed_at IS NULL\) AND/);

    expect(await versionOf(p)).toBe(String(PG_SCHEMA_VERSION));
    const storeId = await p.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'store_id'`);
    expect(storeId.rows[0]?.value).toMatch(/^[0-9a-f]{32}$/);
    const seq = await p.query(`SELECT name, value FROM sequences`);
    expect(seq.rows).toEqual([{ name: 'ticket', value: 0 }]);
  });

  it('keeps the CHECKs and the one-open-runtime rule', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await migrateWith(p, url);
    const now = new Date(0).toISOString();
    await p.query(
      `INSERT INTO tickets (key, seq, title, profile, created_at, updated_at) VALUES ('MC-1', 1, 't', 'p', $1, $1)`,
      [now],
    );
    await expect(
      p.query(
        `INSERT INTO tickets (key, seq, title, profile, created_at, updated_at) VALUES ('MC-9', 2, 't', 'p', $1, $1)`,
        [now],
      ),
    ).rejects.toMatchObject({ code: '23514' });
    const open = `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, status, created_at)
                  VALUES ('MC-1', 'h', 's', 'x', 'running', $1) RETURNING id`;
    const first = await p.query<{ id: number }>(open, [now]);
    expect(typeof first.rows[0]?.id).toBe('number');
    await expect(p.query(open, [now])).rejects.toMatchObject({
      code: '23505',
      constraint: 'runtime_sessions_one_open',
    });
  });

  it('is a no-op the second time', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await migrateWith(p, url);
    const before = await fingerprint(p);
    await migrateWith(p, url);
    expect(await fingerprint(p)).toBe(before);
  });

  it('two pools migrating one empty database at once end with one schema at version N', async () => {
    const url = await cluster.server.createDatabase();
    const a = pool(url);
    const b = pool(url);
    await Promise.all([migrateWith(a, url), migrateWith(b, url)]);
    expect(await versionOf(a)).toBe(String(PG_SCHEMA_VERSION));
    const meta = await a.query(`SELECT key FROM meta ORDER BY key`);
    expect(meta.rows).toEqual([{ key: 'schema_version' }, { key: 'store_id' }]);
    expect((await a.query(`SELECT * FROM sequences`)).rowCount).toBe(1);
    expect(await tablesOf(b)).toContain('commands');
  });

  it('refuses, untouched, a database written by a newer mcc', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await migrateWith(p, url);
    await p.query(`UPDATE meta SET value = $1 WHERE key = 'schema_version'`, [String(PG_SCHEMA_VERSION + 1)]);
    const before = await fingerprint(p);
    const err = await migrateWith(p, url).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(
      `has schema version ${PG_SCHEMA_VERSION + 1}, this mcc understands up to ${PG_SCHEMA_VERSION}`,
    );
    expect(err?.message).toContain(loc(url).redacted);
    expect(await fingerprint(p)).toBe(before);
  });

  it("refuses, untouched, a database that is not mcc's", async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await p.query(`CREATE TABLE foo (id int)`);
    await p.query(`CREATE TABLE meta (name text)`);
    const before = await fingerprint(p);
    await expect(migrateWith(p, url)).rejects.toThrow(/not an mcc store .*foo, meta.*nothing was changed: point --db/);
    expect(await fingerprint(p)).toBe(before);
    expect(await tablesOf(p)).toEqual(['foo', 'meta']);
  });
});

describe('pool and placeholders', () => {
  it('reads int8 as a number, and refuses one beyond 2^53 rather than round it', async () => {
    const p = pool(await cluster.server.createDatabase());
    const r = await p.query<{ a: number; c: number }>(
      `SELECT 9007199254740991::bigint AS a, count(*) AS c FROM pg_class`,
    );
    expect(r.rows[0]?.a).toBe(Number.MAX_SAFE_INTEGER);
    expect(typeof r.rows[0]?.c).toBe('number');
    await expect(p.query(`SELECT 9007199254740992::bigint AS a`)).rejects.toThrow(/safe integer/);
    // The pool's connection survived the refused row.
    expect((await p.query<{ n: number }>(`SELECT 1::bigint AS n`)).rows[0]?.n).toBe(1);
  });

  it('runs translated statements: a repeated @name is one parameter, ? in a literal is text', async () => {
    const p = pool(await cluster.server.createDatabase());
    const q = toPg(`SELECT @a::int + @a::int AS s, '?@a' AS lit, @b::text AS b`, { a: 20, b: 'x' });
    const r = await p.query(q);
    expect(r.rows[0]).toEqual({ s: 40, lit: '?@a', b: 'x' });
    const q2 = toPg(`SELECT ?::int - ?::int AS d -- why? @x`, [5, 3]);
    expect((await p.query(q2)).rows[0]).toEqual({ d: 2 });
  });

  it('sets application_name and the timeouts on every connection', async () => {
    const p = pool(await cluster.server.createDatabase(), { statementTimeoutMs: 1234, lockTimeoutMs: 567 });
    const r = await p.query<{ app: string; st: string; lt: string }>(
      `SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st,
              current_setting('lock_timeout') AS lt`,
    );
    expect(r.rows[0]).toEqual({ app: 'mcc', st: '1234ms', lt: '567ms' });
  });
});

describe('connection loss', () => {
  it('a server restart under idle and checked-out connections is reported, never an unhandled error', async () => {
    const url = await cluster.server.createDatabase();
    const reported: string[] = [];
    const p = pool(url, { onConnectionError: (m) => reported.push(m) });
    const held = await p.connect();
    const idle = await p.connect();
    idle.release();
    await cluster.server.restart();
    await waitFor(
      'the idle connection loss to be reported',
      () => reported.length,
      (n) => n > 0,
    );
    await expect(held.query('SELECT 1')).rejects.toThrow();
    held.release(true);
    expect((await p.query<{ n: number }>('SELECT 2::bigint AS n')).rows[0]?.n).toBe(2);
  });
});

describe('withPgTransaction', () => {
  it('retries the whole fn after a serialization failure and returns the retried result', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await p.query(`CREATE TABLE t (v int)`);
    // Write skew: both read the empty table, both insert; serializable lets only one commit as it was.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const calls: [number, number] = [0, 0];
    const body = (i: 0 | 1) => async (c: pg.PoolClient) => {
      calls[i]++;
      const n = (await c.query<{ n: number }>(`SELECT count(*) AS n FROM t`)).rows[0]?.n ?? -1;
      if (calls[i] === 1) {
        if (++arrived === 2) release();
        await bothRead;
      }
      await c.query(`INSERT INTO t (v) VALUES ($1)`, [n]);
      return n;
    };
    const [a, b] = await Promise.all([
      withPgTransaction(p, { isolation: 'serializable' }, body(0)),
      withPgTransaction(p, { isolation: 'serializable' }, body(1)),
    ]);
    expect(a.kind).toBe('ok');
    expect(b.kind).toBe('ok');
    const values = [a, b].map((o) => (o.kind === 'ok' ? o.value : -1)).sort();
    expect(values).toEqual([0, 1]);
    expect([a, b].map((o) => (o.kind === 'ok' ? o.attempts : 0)).sort()).toEqual([1, 2]);
    expect(calls.slice().sort()).toEqual([1, 2]);
    expect((await p.query(`SELECT v FROM t ORDER BY v`)).rows).toEqual([{ v: 0 }, { v: 1 }]);
  });

  it('rethrows what fn throws (a refusal, a bug) after rolling back', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await p.query(`CREATE TABLE t (v int)`);
    await expect(
      withPgTransaction(p, { isolation: 'serializable' }, async (c) => {
        await c.query(`INSERT INTO t VALUES (1)`);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await p.query(`SELECT * FROM t`)).rowCount).toBe(0);
    const dup = await withPgTransaction(p, { isolation: 'serializable' }, async (c) => {
      await c.query(`CREATE UNIQUE INDEX t_v ON t (v)`);
      await c.query(`INSERT INTO t VALUES (1), (1)`);
    });
    expect(dup).toMatchObject({ kind: 'unique', constraint: 't_v' });
  });

  it('succeeds after a server restart between transactions, within the deadline', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    const one = async (c: pg.PoolClient) => (await c.query<{ n: number }>(`SELECT 1::bigint AS n`)).rows[0]?.n;
    expect(await withPgTransaction(p, { isolation: 'serializable' }, one)).toMatchObject({ kind: 'ok', value: 1 });
    await cluster.server.stop();
    let retries = 0;
    const pending = withPgTransaction(p, { isolation: 'serializable' }, one, {
      deadlineMs: 30_000,
      onRetry: () => retries++,
    });
    // The server comes back only once the transaction has met it down.
    await waitFor(
      'a retry against the stopped server',
      () => retries,
      (n) => n > 0,
    );
    await cluster.server.start();
    const outcome = await pending;
    expect(outcome).toMatchObject({ kind: 'ok', value: 1 });
    expect(outcome.kind === 'ok' && outcome.attempts).toBeGreaterThan(1);
  });

  it("reports a server that stays down as 'unavailable', without the password", async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await p.query('SELECT 1');
    await cluster.server.stop();
    try {
      const outcome = await withPgTransaction(p, { isolation: 'repeatable read', readOnly: true }, async () => 1, {
        deadlineMs: 500,
        location: loc(url),
      });
      expect(outcome.kind).toBe('unavailable');
      expect(outcome.kind === 'unavailable' && outcome.attempts).toBeGreaterThan(1);
      expect(JSON.stringify(outcome)).not.toContain(new URL(url).password);
    } finally {
      await cluster.server.start();
    }
  });

  it("reports a connection lost during COMMIT as 'unknown', never retried", async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url, { statementTimeoutMs: 60_000 });
    // A deferred constraint trigger makes COMMIT itself slow, so the backend can be cut off mid-COMMIT.
    await p.query(`
      CREATE TABLE slow (v int);
      CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON slow DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION slow_commit();`);
    let calls = 0;
    let backend = 0;
    const pending = withPgTransaction(p, { isolation: 'serializable' }, async (c) => {
      calls++;
      backend = (await c.query<{ pid: number }>(`SELECT pg_backend_pid()::bigint AS pid`)).rows[0]?.pid ?? 0;
      await c.query(`INSERT INTO slow VALUES (1)`);
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await waitFor(
        'the COMMIT to be running',
        async () =>
          (
            await admin.query<{ n: string }>(
              `SELECT count(*)::text AS n FROM pg_stat_activity WHERE pid = $1 AND query = 'COMMIT' AND state = 'active'`,
              [backend],
            )
          ).rows[0]?.n,
        (n) => n === '1',
      );
      await admin.query(`SELECT pg_terminate_backend($1)`, [backend]);
    } finally {
      await admin.end();
    }
    const outcome = await pending;
    expect(outcome.kind).toBe('unknown');
    expect(calls).toBe(1);
  });

  it('a SIGKILLed server recovers on start, and committed work survives it', async () => {
    const url = await cluster.server.createDatabase();
    const p = pool(url);
    await p.query(`CREATE TABLE t (v int)`);
    await withPgTransaction(p, { isolation: 'serializable' }, (c) => c.query(`INSERT INTO t VALUES (7)`));
    await cluster.server.kill9();
    await cluster.server.start();
    const outcome = await withPgTransaction(p, { isolation: 'serializable' }, async (c) => {
      return (await c.query<{ v: number }>(`SELECT v FROM t`)).rows;
    });
    expect(outcome).toMatchObject({ kind: 'ok', value: [{ v: 7 }] });
  });
});

describe('locations', () => {
  it('never shows the password: redacted location and failure messages', async () => {
    const url = await cluster.server.createDatabase();
    const password = decodeURIComponent(new URL(url).password);
    const l = loc(url);
    expect(l.redacted).toBe(`postgres://postgres@127.0.0.1:${cluster.server.port}/${l.database}`);
    expect(l.redacted).not.toContain(password);
    // A wrong password: a 'fault' outcome, named, without either password in it.
    const wrong = url.replace(password, 'not-the-password');
    const outcome = await withPgTransaction(pool(wrong), { isolation: 'serializable' }, async () => 1, {
      location: loc(wrong),
    });
    expect(outcome.kind).toBe('fault');
    const text = JSON.stringify(outcome);
    expect(text).toContain('refused the password');
    expect(text).not.toContain('not-the-password');
    expect(text).not.toContain(password);
    for (const bad of [
      `postgres://postgres:${password}@127.0.0.1:99999/db`,
      `postgres://postgres:${password}@127.0.0.1:5432`,
      `postgres://postgres:s3/cr:et@127.0.0.1/db`,
      `mysql://postgres:${password}@127.0.0.1/db`,
    ]) {
      const r = parsePgUrl(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) {
        expect(r.message).not.toContain(password);
        expect(r.message).not.toContain('s3/cr');
        expect(r.message).not.toContain('cr:et');
      }
    }
  });
});
