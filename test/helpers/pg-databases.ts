// Databases on a test cluster, made and dropped through its admin URL (no vitest import: the store-pg global
// setup uses this in vitest's main process). A migrated template makes a fresh store database a file copy
// instead of seven migrations per test; each copy gets its own store_id, as a new store would.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPgStore } from '../../src/store/ticket-store.pg.js';

/** The URL of database `db` on the server of `admin`. */
export function dbUrl(admin: string, db: string): string {
  const u = new URL(admin);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

async function adminQuery(admin: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database name no other test process picks. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`;
}

/** Create database `name` (empty, or a copy of `template`); its URL. */
export async function createDatabase(admin: string, name: string, template?: string): Promise<string> {
  const from = template === undefined ? '' : ` TEMPLATE "${template}"`;
  // FILE_COPY: a copy of the template's files, faster here than WAL-logging every page (fsync is off).
  await adminQuery(admin, `CREATE DATABASE "${name}"${from} STRATEGY = FILE_COPY`);
  return dbUrl(admin, name);
}

/** Drop database `name`; FORCE: a backend of a pool just closed may still be on its way out. */
export async function dropDatabase(admin: string, name: string): Promise<void> {
  await adminQuery(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Make a database migrated to the current schema by the adapter itself, to copy stores from; its name. */
export async function createStoreTemplate(admin: string): Promise<string> {
  const name = uniqueDbName('mcc_template');
  const store = await openPgStore(await createDatabase(admin, name));
  await store.closed();
  return name;
}

/** A fresh store database copied from `template`, with its own store_id; its URL. */
export async function createStoreDatabase(admin: string, template: string): Promise<string> {
  const url = await createDatabase(admin, uniqueDbName('t'), template);
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query("UPDATE meta SET value = replace(gen_random_uuid()::text, '-', '') WHERE key = 'store_id'");
  } finally {
    await client.end();
  }
  return url;
}
