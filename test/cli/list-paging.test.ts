// `mcc list` at size, through the compiled binary on a real store: the default view hides done tickets and
// counts them, --limit pages (and says how to see the next page), --state done shows them, --json stays the
// complete list, byte for byte what it was, and a bad limit is a usage error before any store is made.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toJson } from '../../src/cli/output.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { useHarness, type Harness } from '../runtime/helpers.js';

type Status = 'todo' | 'in_progress' | 'in_review' | 'done' | 'blocked';

/** Tickets inserted straight into the store (after those `mcc add` made), one per state given; their keys. */
function insert(h: Harness, states: readonly Status[]): string[] {
  const at = new Date().toISOString();
  const db = new Database(h.dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const first = (db.prepare('SELECT max(seq) + 1 AS s FROM tickets').get() as { s: number }).s;
    const row = db.prepare(
      `INSERT INTO tickets (key, seq, title, body, status, profile, created_at, updated_at)
       VALUES (?, ?, ?, 'body', ?, 'demo', ?, ?)`,
    );
    return db.transaction(() => {
      db.prepare("UPDATE sequences SET value = ? WHERE name = 'ticket'").run(first + states.length - 1);
      return states.map((status, i) => {
        row.run(`MC-${first + i}`, first + i, `${status} ticket ${first + i}`, status, at, at);
        return `MC-${first + i}`;
      });
    })();
  } finally {
    db.close();
  }
}

/** The ticket lines of a text listing (not the header, not the count lines). */
function listed(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => /^MC-\d+ /.test(l))
    .map((l) => l.split(' ')[0]!);
}

describe('mcc list', () => {
  it('the default view shows every ticket not done, in number order, and counts the done ones', async () => {
    const h = useHarness();
    await h.add('first open'); // MC-1
    const keys = insert(h, ['done', 'in_progress', 'done', 'blocked', 'in_review', 'done', 'todo', 'done', 'todo']);
    // A live runtime on MC-3 (in_progress), a closed one on MC-2 (done): only the open one is shown.
    const started = new Date(Date.now() - 90_000).toISOString();
    h.sql(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, pane_id, pid, status, created_at)
       VALUES ('MC-3', 'h', 's', 'mc-MC-3', '%3', 4242, 'running', ?)`,
      started,
    );
    h.sql(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, status, created_at, closed_at)
       VALUES ('MC-2', 'h', 's', 'mc-MC-2', 'closed', ?, ?)`,
      started,
      started,
    );
    const r = await h.mcc(['list']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(keys).toHaveLength(9);
    expect(listed(r.stdout)).toEqual(['MC-1', 'MC-3', 'MC-5', 'MC-6', 'MC-8', 'MC-10']);
    expect(r.stdout).toMatch(/^KEY +STATE +RUNTIME +PID +AGE +TRY TITLE$/m);
    expect(r.stdout).toMatch(/^MC-3 +in_progress +running +4242 +9\ds +0 +in_progress ticket 3$/m);
    expect(r.stdout).toMatch(/^MC-1 +todo +- +- +- +0 +first open$/m);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('… 4 done tickets not shown (mcc list --state done)');
    expect(r.stdout).not.toContain('more not shown');

    const done = await h.mcc(['list', '--state', 'done']);
    expect(done.exitCode, done.stderr).toBe(0);
    expect(listed(done.stdout)).toEqual(['MC-2', 'MC-4', 'MC-7', 'MC-9']);
    expect(done.stdout).toMatch(/^MC-2 +done +- +- +- +0 +done ticket 2$/m);
    expect(done.stdout).not.toContain('not shown');
    expect((await h.mcc(['list', '--state', 'in_review'])).stdout).not.toContain('done tickets not shown');
  });

  it('--limit cuts the page and names the next one; following it walks every ticket once, in order', async () => {
    const h = useHarness();
    await h.add('seed'); // MC-1
    const states: Status[] = Array.from({ length: 230 }, (_, i) => (i % 10 === 9 ? 'done' : 'todo'));
    insert(h, states);
    const open = ['MC-1', ...states.flatMap((s, i) => (s === 'done' ? [] : [`MC-${i + 2}`]))];
    expect(open).toHaveLength(208);

    const page = await h.mcc(['list']);
    expect(listed(page.stdout)).toEqual(open.slice(0, 200));
    expect(page.stdout).toContain(`… 8 more not shown (--limit 200; next page: mcc list --after ${open[199]})`);
    expect(page.stdout).toContain('… 23 done tickets not shown (mcc list --state done)');

    const seen: string[] = [];
    let args = ['list', '--limit', '45'];
    for (let pages = 0; pages < 10; pages++) {
      const r = await h.mcc(args);
      expect(r.exitCode, r.stderr).toBe(0);
      seen.push(...listed(r.stdout));
      const next = /next page: mcc (list --limit 45 --after MC-\d+)\)$/m.exec(r.stdout);
      if (!next) break;
      args = next[1]!.split(' ');
    }
    expect(seen).toEqual(open);

    const done = await h.mcc(['list', '--state', 'done', '--limit', '20']);
    expect(listed(done.stdout)).toHaveLength(20);
    expect(done.stdout).toMatch(
      /… 3 more not shown \(--limit 20; next page: mcc list --state done --limit 20 --after MC-\d+\)$/m,
    );
  });

  it('--json is the complete list (done included, full rows), byte for byte the old whole-array output', async () => {
    const h = useHarness();
    await h.add('first', ['--body', 'line one\nline two']);
    await h.add('second \u2028 with a separator');
    insert(h, ['done', 'blocked', 'done']);
    h.sql("UPDATE tickets SET status = 'in_progress', attempts = 1 WHERE key = 'MC-2'");
    h.sql(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, pane_id, pid, status, created_at)
       VALUES ('MC-2', 'h', 's', 'mc-MC-2', '%2', 77, 'running', ?)`,
      new Date().toISOString(),
    );
    h.sql(
      `INSERT INTO messages (ticket_key, kind, body, status, created_at) VALUES ('MC-2', 'operator', 'hi', 'pending', ?)`,
      new Date().toISOString(),
    );
    const store = openSqliteStore(h.dbPath);
    let whole;
    try {
      whole = await store.overview();
    } finally {
      store.close();
    }
    const all = await h.mcc(['list', '--json']);
    expect(all.exitCode, all.stderr).toBe(0);
    // What `list --json` printed before it streamed: one JSON.stringify of the whole array (the harness drops
    // the final newline).
    expect(all.stdout).toBe(toJson(whole));
    expect(whole.map((o) => o.ticket.key)).toEqual(['MC-1', 'MC-2', 'MC-3', 'MC-4', 'MC-5']);

    const done = JSON.parse((await h.mcc(['list', '--json', '--state', 'done'])).stdout) as typeof whole;
    expect(done.map((o) => o.ticket.key)).toEqual(['MC-3', 'MC-5']);
    const two = JSON.parse((await h.mcc(['list', '--json', '--limit', '2', '--after', 'MC-1'])).stdout) as typeof whole;
    expect(two).toEqual(JSON.parse(toJson(whole.slice(1, 3))));
    const none = await h.mcc(['list', '--json', '--state', 'in_review']);
    expect(none.stdout).toBe('[]');
  });

  it('says so when there is nothing to list: an empty store, only done tickets, an empty state', async () => {
    const h = useHarness();
    const empty = await h.mcc(['list']);
    expect(empty.exitCode, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('no tickets yet: mcc add "TITLE" --body "what to do"');
    await h.add('only one');
    await h.mcc(['move', 'MC-1', 'done']);
    const allDone = await h.mcc(['list']);
    expect(allDone.stdout).toBe('no open tickets\n… 1 done tickets not shown (mcc list --state done)');
    expect((await h.mcc(['list', '--state', 'blocked'])).stdout).toBe('no blocked tickets');
  });

  it('a bad --limit, --after or --state is a usage error (exit 2) naming it, and makes no store', async () => {
    const h = useHarness();
    for (const [args, says] of [
      [['--limit', '0'], '--limit must be a whole number >= 1, got 0'],
      [['--limit', '-1'], '--limit must be a whole number >= 1, got -1'],
      [['--limit', '2.5'], '--limit must be a whole number >= 1, got 2.5'],
      [['--limit', 'abc'], '--limit must be a number, got "abc"'],
      [['--limit'], '--limit needs a value'],
      [['--json', '--limit', '0'], '--limit must be a whole number >= 1, got 0'],
      [['--after', 'MC-0'], '--after: "MC-0" is not a ticket key'],
      [['--state', 'finished'], '--state: "finished" is not one of'],
    ] as const) {
      const r = await h.mcc(['list', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`mcc: list: ${says}`);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(h.dbPath)).toBe(false);
  });
});
