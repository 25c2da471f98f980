import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { RUNTIME_COLUMNS } from '../../src/store/rows.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { ev, newTicket, openTestStore, T0, tempDir } from './helpers.js';

// The column lists are the public contract operators query with sqlite3 (README): a rename breaks them.
const CONTRACT: Record<string, string[]> = {
  tickets: [
    'key',
    'seq',
    'title',
    'body',
    'status',
    'profile',
    'worker_pid',
    'attempts',
    'human_input_required',
    'blocked_reason',
    'version',
    'created_at',
    'updated_at',
    'check_in_seconds',
    'check_in_at',
    'review_checks',
    'review_checks_at',
    'host_label',
  ],
  runtime_sessions: [
    'id',
    'ticket_key',
    'host',
    'tmux_socket',
    'tmux_session',
    'pane_id',
    'pid',
    'pid_start',
    'boot_id',
    'status',
    'exit_status',
    'created_at',
    'last_seen_at',
    'dead_since',
    'closed_at',
    'closed_reason',
    'last_marker',
    'version',
    'workdir',
    'branch',
    'submitted_screen',
    'submitted_at',
  ],
  messages: [
    'id',
    'ticket_key',
    'runtime_id',
    'kind',
    'body',
    'status',
    'attempts',
    'delivery_token',
    'created_at',
    'sent_at',
  ],
  events: [
    'id',
    'at',
    'ticket_key',
    'runtime_id',
    'actor',
    'kind',
    'status',
    'summary',
    'root_cause',
    'safe_retry',
    'stop_condition',
    'human_input_required',
    'next_actions',
    'artifacts',
  ],
  leases: ['name', 'holder', 'expires_at'],
  workspaces: [
    'id',
    'repo',
    'path',
    'mode',
    'slot',
    'branch',
    'base',
    'ticket_key',
    'created_at',
    'updated_at',
    'removed_at',
  ],
};

function raw(path: string): Database.Database {
  return new Database(path);
}

describe('schema and migrations', () => {
  it('creates every documented table with its documented columns from an empty file', () => {
    const path = join(tempDir(), 'mcc.db');
    openTestStore(path).close();
    const db = raw(path);
    try {
      for (const [table, columns] of Object.entries(CONTRACT)) {
        const actual = (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
        expect(actual, table).toEqual(columns);
      }
      expect([...RUNTIME_COLUMNS]).toEqual(CONTRACT['runtime_sessions']);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const indexes = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]
      ).map((r) => r.name);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'runtime_sessions_one_open',
          'runtime_sessions_status',
          'messages_ticket_status',
          'events_ticket',
          'tickets_status',
        ]),
      );
    } finally {
      db.close();
    }
  });

  it('stores times as ISO-8601 UTC text and JSON arrays as text', async () => {
    const path = join(tempDir(), 'mcc.db');
    const store = openTestStore(path);
    const t = await newTicket(store);
    await store.appendEvent(ev('note', { ticketKey: t.key, nextActions: ['mcc show MC-1'], artifacts: ['a.txt'] }), T0);
    const db = raw(path);
    try {
      const row = db.prepare('SELECT created_at, updated_at FROM tickets WHERE key = ?').get(t.key);
      expect(row).toEqual({ created_at: '2026-11-25T01:30:00.000Z', updated_at: '2026-11-25T01:30:00.000Z' });
      const event = db.prepare("SELECT at, next_actions, artifacts FROM events WHERE kind = 'note'").get();
      expect(event).toEqual({
        at: '2026-11-25T01:30:00.000Z',
        next_actions: '["mcc show MC-1"]',
        artifacts: '["a.txt"]',
      });
    } finally {
      db.close();
    }
  });

  it('reopening is idempotent: same schema, same data, same store id', async () => {
    const path = join(tempDir(), 'mcc.db');
    const first = openTestStore(path);
    const t = await newTicket(first);
    const id = first.storeId;
    first.close();
    const second = openTestStore(path);
    expect(second.storeId).toBe(id);
    expect(second.storeId).toMatch(/^[0-9a-f]{32}$/);
    expect(await second.getTicket(t.key)).toEqual(t);
    expect((await newTicket(second)).key).toBe('MC-2');
  });

  it('two stores get different ids', () => {
    expect(openTestStore().storeId).not.toBe(openTestStore().storeId);
  });

  it('refuses a database from a newer mcc with a clear message and leaves it untouched', () => {
    const path = join(tempDir(), 'mcc.db');
    const db = raw(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(
      `the store at ${path} has schema version ${SCHEMA_VERSION + 3}, this mcc understands up to ${SCHEMA_VERSION}: upgrade mcc`,
    );
    const after = raw(path);
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 3);
      expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(after.prepare('SELECT count(*) AS n FROM sqlite_master').get()).toEqual({ n: 0 });
    } finally {
      after.close();
    }
  });

  it('rejects rows that break the enumerations, even written by hand', () => {
    const path = join(tempDir(), 'mcc.db');
    openTestStore(path).close();
    const db = raw(path);
    try {
      const insert = (status: string) =>
        db
          .prepare(
            `INSERT INTO tickets (key, seq, title, status, profile, created_at, updated_at)
           VALUES ('MC-9', 9, 't', ?, 'demo', '2026-11-25T00:00:00.000Z', '2026-11-25T00:00:00.000Z')`,
          )
          .run(status);
      expect(() => insert('doing')).toThrow(/CHECK constraint failed/);
      expect(() =>
        db
          .prepare(
            `INSERT INTO tickets (key, seq, title, status, profile, created_at, updated_at)
           VALUES ('MC-8', 9, 't', 'todo', 'demo', '2026-11-25T00:00:00.000Z', '2026-11-25T00:00:00.000Z')`,
          )
          .run(),
      ).toThrow(/CHECK constraint failed/);
      insert('todo');
    } finally {
      db.close();
    }
  });

  it('never reuses a key, even after a ticket row was deleted by hand', async () => {
    const path = join(tempDir(), 'mcc.db');
    const store = openTestStore(path);
    await newTicket(store, 'one');
    const two = await newTicket(store, 'two');
    const db = raw(path);
    db.prepare('DELETE FROM events WHERE ticket_key = ?').run(two.key);
    db.prepare('DELETE FROM tickets WHERE key = ?').run(two.key);
    db.close();
    expect((await newTicket(store, 'three')).key).toBe('MC-3');
  });
});
