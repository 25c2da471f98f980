// Which store adapter a test run exercises, and dialect-neutral access to it: the behaviour suites and the model
// test open their stores through here, so the same test files run against SQLite (the default: a fresh file in a
// temp dir) and, with MCC_TEST_STORE=pg, against PostgreSQL (a fresh database on the cluster the store-pg
// project's global setup started, test/helpers/pg-global-setup.ts). No vitest hooks here: test/store/helpers.ts
// closes what a test opened; the model test closes its own.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import type { OpStore } from '../../src/store/op-store.js';
import { isPgUrl, parseInt8 } from '../../src/store/pg/connect.js';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/migrations.js';
import { toPg } from '../../src/store/pg/sql.js';
import { createDatabase, createStoreDatabase, dropDatabase, uniqueDbName } from './pg-databases.js';
import { openPgStore, PgStore } from '../../src/store/ticket-store.pg.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The store-pg project's cluster: a URL (with the password) for its `postgres` database. */
    mccTestPgUrl: string;
    /** A database on it migrated to the current schema, to copy each test's store from. */
    mccTestPgTemplate: string;
  }
}

export type TestStoreKind = 'sqlite' | 'pg';

/** Either adapter: every port method, `location` and `close()`. */
export type TestStore = OpStore;

/** The adapter this run tests: MCC_TEST_STORE=pg, else SQLite. */
export function testStoreKind(): TestStoreKind {
  const v = process.env['MCC_TEST_STORE'];
  if (v === undefined || v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'pg') return 'pg';
  throw new Error(`MCC_TEST_STORE must be "sqlite" or "pg", got ${JSON.stringify(v)}`);
}

/** The schema version a freshly opened store of this run's adapter is at. */
export function latestSchemaVersion(kind = testStoreKind()): number {
  return kind === 'pg' ? PG_SCHEMA_VERSION : SCHEMA_VERSION;
}

/** Open a store by spec: a postgres:// URL or an SQLite file path. */
export async function openStoreAt(spec: string): Promise<TestStore> {
  return isPgUrl(spec) ? openPgStore(spec) : openSqliteStore(spec);
}

/** Close `store` and wait until it is closed (a PostgreSQL pool ends asynchronously). */
export async function closeStore(store: TestStore): Promise<void> {
  if (store instanceof PgStore) await store.closed();
  else store.close();
}

/** The store-pg project's cluster (fails loudly outside that project). */
function cluster(): { admin: string; template: string } {
  const admin = inject('mccTestPgUrl') as string | undefined;
  const template = inject('mccTestPgTemplate') as string | undefined;
  if (typeof admin !== 'string' || admin === '' || typeof template !== 'string') {
    throw new Error(
      'MCC_TEST_STORE=pg but no test cluster was provided: run the store-pg project (vitest --project store-pg)',
    );
  }
  return { admin, template };
}

/** A place for a fresh store of `kind` and how to remove it once every store on it is closed. */
export interface FreshSpec {
  spec: string;
  remove(): Promise<void>;
}

/**
 * A fresh spec: an SQLite path in a new temp dir, or a new database on the test cluster: a copy of the migrated
 * template (its own store_id), or with `empty` a database with nothing in it, for tests of opening and migrating.
 */
export async function freshSpec(kind = testStoreKind(), opts: { empty?: boolean } = {}): Promise<FreshSpec> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mcc-store-test-'));
    return { spec: join(dir, 'mcc.db'), remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { admin, template } = cluster();
  const spec = opts.empty ? await createDatabase(admin, uniqueDbName('e')) : await createStoreDatabase(admin, template);
  const name = decodeURIComponent(new URL(spec).pathname.slice(1));
  return { spec, remove: () => dropDatabase(admin, name) };
}

// ---- raw access beside the store, for assertions on rows (the store's own driver, a second connection) ----

/** A second connection on the store at a spec, for reading rows the port does not expose and bulk setup. */
export interface RawConn {
  /** Rows of one statement with `?` placeholders; integers (int8 too) as numbers. */
  rows<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Run statements in one transaction. */
  exec(stmts: readonly { sql: string; params?: readonly unknown[] }[]): Promise<void>;
  close(): Promise<void>;
}

const int8Types = (() => {
  const types = new pg.TypeOverrides();
  types.setTypeParser(20, parseInt8);
  return types;
})();

/** Open a raw connection on `spec`. */
export async function rawConnect(spec: string): Promise<RawConn> {
  if (isPgUrl(spec)) {
    const client = new pg.Client({ connectionString: spec, types: int8Types });
    client.on('error', () => undefined);
    await client.connect();
    return {
      async rows<T>(sql: string, params: readonly unknown[] = []) {
        return (await client.query(toPg(sql, params))).rows as T[];
      },
      async exec(stmts) {
        await client.query('BEGIN');
        try {
          for (const s of stmts) await client.query(toPg(s.sql, s.params ?? []));
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      },
      close: () => client.end(),
    };
  }
  const db = new Database(spec);
  db.pragma('busy_timeout = 5000');
  return {
    async rows<T>(sql: string, params: readonly unknown[] = []) {
      return db.prepare(sql).all(...params) as T[];
    },
    async exec(stmts) {
      db.transaction(() => {
        for (const s of stmts) db.prepare(s.sql).run(...(s.params ?? []));
      })();
    },
    async close() {
      db.close();
    },
  };
}

/** The columns of `table` in their declared order. */
export async function tableColumns(raw: RawConn, spec: string, table: string): Promise<string[]> {
  const rows = isPgUrl(spec)
    ? await raw.rows<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
        [table],
      )
    : await raw.rows<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table]);
  return rows.map((r) => r.name);
}

/** The names of the indexes on `table`. */
export async function indexNames(raw: RawConn, spec: string, table: string): Promise<string[]> {
  const rows = isPgUrl(spec)
    ? await raw.rows<{ name: string }>(
        'SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?',
        [table],
      )
    : await raw.rows<{ name: string }>('SELECT name FROM pragma_index_list(?)', [table]);
  return rows.map((r) => r.name);
}

/** The columns of index `index`, in key order. */
export async function indexColumns(raw: RawConn, spec: string, index: string): Promise<string[]> {
  const rows = isPgUrl(spec)
    ? await raw.rows<{ name: string }>(
        `SELECT a.attname AS name
         FROM pg_class i
         JOIN pg_index x ON x.indexrelid = i.oid
         JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
         WHERE i.relname = ? AND i.relnamespace = current_schema()::regnamespace
         ORDER BY k.ord`,
        [index],
      )
    : await raw.rows<{ name: string }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [index]);
  return rows.map((r) => r.name);
}

/** The schema version the store at `spec` records (user_version in SQLite, meta.schema_version in PostgreSQL). */
export async function schemaVersion(raw: RawConn, spec: string): Promise<number> {
  if (isPgUrl(spec)) {
    const [row] = await raw.rows<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'");
    return Number(row?.value);
  }
  const [row] = await raw.rows<{ user_version: number }>('PRAGMA user_version');
  return row?.user_version ?? -1;
}
