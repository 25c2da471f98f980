import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Result } from '../../src/core/result.js';
import type { RuntimeTarget } from '../../src/core/store.port.js';
import type { EventInput, Ticket } from '../../src/core/types.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/ticket-store.sqlite.js';

// Every test gets its own directory, removed by name afterwards, and every store opened through here is closed.

const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-store-test-'));
  dirs.push(dir);
  return dir;
}

/** Open a store at `path` (default: a fresh temp dir) that is closed after the test. */
export function openTestStore(path = join(tempDir(), 'mcc.db'), opts?: { busyTimeoutMs?: number }): SqliteStore {
  const store = openSqliteStore(path, opts);
  stores.push(store);
  return store;
}

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
export function newTicket(store: SqliteStore, title = 'a ticket', now = T0): Promise<Ticket> {
  return store.createTicket({ title, body: `body of ${title}`, profile: 'demo', now, actor: 'operator:test' });
}

/** Create and claim a ticket; returns the claim's rows. */
export async function claimed(store: SqliteStore, title = 'a ticket') {
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
