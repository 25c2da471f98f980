// SQLite's query plans for the ticket list (moved out of list-page.test.ts, which runs on both adapters): the
// default view and --state done are answered from indexes, never a scan.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { pageSql } from '../../src/store/list-queries.js';
import { iso } from '../../src/store/rows.js';
import { openTestStore, rawExec, T0 } from './helpers.js';

describe('listPage on SQLite', () => {
  it('is answered from indexes: no scan of the tickets table, no scan of runtimes', async () => {
    const store = openTestStore();
    const at = iso(T0);
    await rawExec(
      store,
      ['todo', 'done'].map((s, i) => ({
        sql: `INSERT INTO tickets (key, seq, title, body, status, profile, created_at, updated_at)
              VALUES (?, ?, 't', 'body', ?, 'demo', ?, ?)`,
        params: [`MC-${i + 1}`, i + 1, s, at, at],
      })),
    );
    const db = new Database(store.location, { readonly: true });
    try {
      // The statement listPage runs for the default view (every state but done), and for --state done.
      const planOf = (where: string, params: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${pageSql(where)}`).all(...params, 200) as { detail: string }[])
          .map((p) => p.detail)
          .join('\n');
      const plan = planOf('WHERE t.status IN (?, ?, ?, ?)', ['todo', 'in_progress', 'in_review', 'blocked']);
      // One state: the index gives ticket order itself, so LIMIT stops the walk early (no sort of 50,000 done).
      const done = planOf('WHERE t.status IN (?) AND t.seq > ?', ['done', 10]);
      expect(done).toMatch(/SEARCH t USING INDEX tickets_status \(status=\? AND seq>\?\)/);
      expect(done).not.toMatch(/SCAN|TEMP B-TREE/);
      expect(plan).toMatch(/SEARCH t USING INDEX tickets_status \(status=\?\)/);
      expect(plan).toMatch(/SEARCH r USING INDEX runtime_sessions_one_open \(ticket_key=\?\)/);
      expect(plan).not.toMatch(/SCAN/);
    } finally {
      db.close();
    }
  });
});
