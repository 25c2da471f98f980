import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Result } from '../../src/core/result.js';
import type { RuntimeTarget } from '../../src/core/store.port.js';
import type { EventInput, Ticket } from '../../src/core/types.js';
import {
  closeStore,
  freshSpec,
  indexColumns,
  indexNames,
  openStoreAt,
  rawConnect,
  schemaVersion,
  tableColumns,
  type FreshSpec,
  type RawConn,
  type TestStore,
} from '../helpers/test-store.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/ticket-store.sqlite.js';

export { latestSchemaVersion, testStoreKind, type TestStore } from '../helpers/test-store.js';

// Every test gets its own directory, removed by name afterwards, and every store opened through here is closed.
// The store is SQLite on a fresh temp file, or with MCC_TEST_STORE=pg PostgreSQL on a fresh database of the
// store-pg project's cluster: the test files are the same for both (test/helpers/test-store.ts).

const dirs: string[] = [];
/** Where each open store lives: its spec (a path or a URL with the password) and the place to remove after. */
const opened = new Map<TestStore, { spec: string; place: FreshSpec | null }>();
const places: FreshSpec[] = [];
const raws = new Map<string, RawConn>();

async function closeRaw(spec: string): Promise<void> {
  const raw = raws.get(spec);
  raws.delete(spec);
  await raw?.close();
}

afterEach(async () => {
  const specs = new Set([...opened.values()].map((o) => o.spec));
  await Promise.all([...opened.keys()].map((s) => closeStore(s)));
  opened.clear();
  for (const spec of [...specs, ...raws.keys()]) await closeRaw(spec);
  for (const p of places.splice(0)) await p.remove();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-store-test-'));
  dirs.push(dir);
  return dir;
}

/** Open an SQLite store at `path` (default: a fresh temp dir), closed after the test: for the SQLite-only files. */
export function openTestStore(path = join(tempDir(), 'mcc.db'), opts?: { busyTimeoutMs?: number }): SqliteStore {
  const store = openSqliteStore(path, opts);
  opened.set(store, { spec: path, place: null });
  return store;
}

/** Open a store of this run's adapter on a fresh, empty place; closed (and its place removed) after the test. */
export async function testStore(): Promise<TestStore> {
  const place = await freshSpec();
  places.push(place);
  const store = await openStoreAt(place.spec);
  opened.set(store, { spec: place.spec, place });
  return store;
}

/** Another adapter instance (another connection, as another process would have) on the same store as `store`. */
export async function reopen(store: TestStore): Promise<TestStore> {
  const spec = specOf(store);
  const again = await openStoreAt(spec);
  opened.set(again, { spec, place: null });
  return again;
}

/** Where `store` lives, as a racer process opens it: an SQLite path, or a postgres:// URL with its password. */
export function specOf(store: TestStore): string {
  const o = opened.get(store);
  if (o === undefined)
    throw new Error(`store ${store.location} was not opened through testStore, openTestStore or reopen`);
  return o.spec;
}

/** Close `store` now (it is no longer closed after the test), removing its place when nothing else uses it. */
export async function closeTestStore(store: TestStore): Promise<void> {
  const o = opened.get(store);
  opened.delete(store);
  await closeStore(store);
  if (o === undefined || [...opened.values()].some((x) => x.spec === o.spec)) return;
  await closeRaw(o.spec);
  const i = places.findIndex((p) => p.spec === o.spec);
  if (i >= 0) await places.splice(i, 1)[0]!.remove();
}

/** A raw second connection on the store of `store` (cached for the test), through its own driver. */
export async function rawOf(store: TestStore): Promise<RawConn> {
  const spec = specOf(store);
  let raw = raws.get(spec);
  if (raw === undefined) {
    raw = await rawConnect(spec);
    raws.set(spec, raw);
  }
  return raw;
}

/** Rows of `sql` (`?` placeholders, the common SQL of both dialects) read beside the store. */
export async function rawRows<T>(store: TestStore, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  return (await rawOf(store)).rows<T>(sql, params);
}

/** Run `stmts` in one transaction beside the store (bulk setup the port has no operation for). */
export async function rawExec(
  store: TestStore,
  stmts: readonly { sql: string; params?: readonly unknown[] }[],
): Promise<void> {
  await (await rawOf(store)).exec(stmts);
}

/** The schema as the store's own catalogue says it: columns, indexes, the recorded version. */
export const schema = {
  columns: async (store: TestStore, table: string) => tableColumns(await rawOf(store), specOf(store), table),
  indexes: async (store: TestStore, table: string) => indexNames(await rawOf(store), specOf(store), table),
  indexColumns: async (store: TestStore, index: string) => indexColumns(await rawOf(store), specOf(store), index),
  version: async (store: TestStore) => schemaVersion(await rawOf(store), specOf(store)),
};

export const T0 = Date.parse('2026-11-25T01:30:00.000Z');

/** A minimal event; the store fills ticket and runtime from the operation. */
export function ev(kind = 'test', over: Partial<EventInput> = {}): EventInput {
  return { ticketKey: null, runtimeId: null, actor: 'test', kind, status: 'ok', summary: kind, ...over };
}

export const TARGET: RuntimeTarget = { host: 'h1', tmuxSocket: 'mcc', tmuxSession: 'mc-MC-1' };

/** The value of an ok Result, failing the test with the failure's message otherwise. */
export function okValue<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r.value;
}

/** Assert a Result failed with `code` and return its message. */
export function failed<T>(r: Result<T>, code: string): string {
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.code).toBe(code);
  return r.message;
}

/** Create a todo ticket. */
export function newTicket(store: TestStore, title = 'a ticket', now = T0): Promise<Ticket> {
  return store.createTicket({ title, body: `body of ${title}`, profile: 'demo', now, actor: 'operator:test' });
}

/** Create and claim a ticket; returns the claim's rows. */
export async function claimed(store: TestStore, title = 'a ticket') {
  const t = await newTicket(store, title);
  return okValue(
    await store.claim({
      key: t.key,
      ticketVersion: t.version,
      runtime: TARGET,
      promptBody: t.body,
      now: T0 + 1,
      event: ev('claim'),
    }),
  );
}
