import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceClaim } from '../../src/core/store.port.js';
import { listPage } from '../../src/store/list-queries.js';
import { queueMessage } from '../../src/store/message-ops.js';
import { insertEvent } from '../../src/store/op-common.js';
import { loadActive, ticketDetail } from '../../src/store/queries.js';
import { all, get, refuse, Refusal, run, runAsync, runSync, type Op, type Stmt } from '../../src/store/sql-op.js';
import { Ctx, runWrite } from '../../src/store/sqlite-common.js';
import { claim, createTicket, recordSpawn } from '../../src/store/ticket-ops.js';
import { ev, failed, okValue, openTestStore, T0, TARGET, tempDir } from './helpers.js';

// One operation, two drivers: what runSync does inside better-sqlite3's transaction, runAsync does one awaited
// statement at a time (as the PostgreSQL adapter will), with the same rows and the same result. And the rules
// sql-op states for operations hold in the SQLite driver: a Refusal undoes everything, a failed statement is
// never swallowed, and the clashes that used to be caught as unique violations are asked, not caught.

const opened: Database.Database[] = [];

/** A migrated, empty store file, opened with a bare better-sqlite3 connection (closed by the caller). */
function bareStore(): Database.Database {
  const path = join(tempDir(), 'mcc.db');
  openTestStore(path).close();
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  opened.push(db);
  return db;
}

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** The rows every table holds, for comparing two stores. */
function dump(db: Database.Database): Record<string, unknown[]> {
  const tables = ['tickets', 'runtime_sessions', 'messages', 'events', 'sequences', 'workspaces'];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()]));
}

const ID = { pid: 4242, start: 777, bootId: 'boot-1' };

/** A little story of operations, each fed the previous one's results, driven by `drive`. */
async function story(drive: <T>(op: () => Op<T>) => Promise<T>): Promise<unknown[]> {
  const input = { title: 'a ticket', body: 'do it', profile: 'demo', now: T0, actor: 'operator:test' };
  const t = await drive(() => createTicket(input));
  const c = await drive(() =>
    claim({ key: t.key, ticketVersion: t.version, runtime: TARGET, promptBody: t.body, now: T0 + 1, event: ev('c') }),
  );
  const s = await drive(() =>
    recordSpawn({
      runtimeId: c.runtime.id,
      runtimeVersion: c.runtime.version,
      ticketKey: t.key,
      ticketVersion: c.ticket.version,
      paneId: '%3',
      identity: ID,
      now: T0 + 2,
      event: ev('spawned'),
    }),
  );
  const m = await drive(() =>
    queueMessage({ key: t.key, body: 'more', kind: 'operator', now: T0 + 3, event: ev('q') }),
  );
  const page = await drive(() => listPage({ limit: 10 }));
  const detail = await drive(() => ticketDetail(t.key));
  const active = await drive(() => loadActive([]));
  return [t, c, s, m, page, detail, active];
}

describe('runSync and runAsync', () => {
  it('drive the same operations to the same results and the same rows over a real SQLite file', async () => {
    const syncDb = bareStore();
    const syncCtx = new Ctx(syncDb);
    const viaSync = await story(async (op) => syncDb.transaction(() => runSync(op(), syncCtx.exec)).immediate());

    const asyncDb = bareStore();
    const asyncCtx = new Ctx(asyncDb);
    let awaited = 0;
    // Each statement answered after an await, as a server driver would: the operation is suspended between them.
    const exec = async (s: Stmt): Promise<unknown> => {
      await Promise.resolve();
      awaited++;
      return asyncCtx.exec(s);
    };
    const viaAsync = await story(async (op) => {
      asyncDb.exec('BEGIN IMMEDIATE');
      try {
        const value = await runAsync(op(), exec);
        asyncDb.exec('COMMIT');
        return value;
      } catch (err) {
        asyncDb.exec('ROLLBACK');
        throw err;
      }
    });

    expect(awaited).toBeGreaterThan(20);
    expect(viaAsync).toEqual(viaSync);
    expect(dump(asyncDb)).toEqual(dump(syncDb));
    // The story really happened: a running runtime with the spawned pid, a prompt and an operator message.
    const detail = viaSync[5] as { runtimes: { status: string; pid: number }[]; messages: unknown[] };
    expect(detail.runtimes).toMatchObject([{ status: 'running', pid: 4242 }]);
    expect(detail.messages).toHaveLength(2);
  });

  it('hand a refusal to the caller unchanged, the async driver as the sync one', async () => {
    const op = function* (): Op<number> {
      yield* get('SELECT 1 AS one');
      return refuse('conflict', 'not now', 'someone');
    };
    expect(() => runSync(op(), () => ({ one: 1 }))).toThrow(Refusal);
    const err = await runAsync(op(), async () => ({ one: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).failure).toMatchObject({
      ok: false,
      code: 'conflict',
      message: 'not now',
      holder: 'someone',
    });
  });
});

describe('the SQLite driver', () => {
  it('rolls back every statement of an operation that refuses, and tells the caller why', async () => {
    const db = bareStore();
    const c = new Ctx(db);
    const before = dump(db);
    let commits = 0;
    const op = function* (): Op<void> {
      // Three kinds of write before the refusal: each must be undone.
      yield* createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' });
      yield* insertEvent(ev('loose'), T0);
      const changed = yield* run("UPDATE sequences SET value = value + 100 WHERE name = 'ticket'");
      expect(changed.changes).toBe(1);
      expect(yield* all('SELECT * FROM tickets')).toHaveLength(1);
      refuse('conflict', 'changed my mind');
    };
    const result = await runWrite(c, op, () => commits++);
    expect(failed(result, 'conflict')).toBe('changed my mind');
    expect(commits).toBe(0);
    expect(dump(db)).toEqual(before);
  });

  it('lets an error of a statement propagate out of the operation, rolled back, through both drivers', async () => {
    const db = bareStore();
    const c = new Ctx(db);
    const before = dump(db);
    let after = 'not reached';
    const op = function* (): Op<void> {
      yield* createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' });
      // Breaks the schema's CHECK on status: a real SQLite error, not a refusal.
      yield* run("UPDATE tickets SET status = 'bogus' WHERE key = 'MC-1'");
      after = 'reached';
    };
    const thrown = (() => {
      try {
        db.transaction(() => runSync(op(), c.exec)).immediate();
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(Refusal);
    expect(String(thrown)).toMatch(/CHECK constraint failed/);
    expect((thrown as { code?: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
    expect(after).toBe('not reached');
    expect(dump(db)).toEqual(before);

    // runWrite does not turn it into a Result either: it is a bug, not an expected failure.
    await expect(runWrite(c, op, () => undefined)).rejects.toThrow(/CHECK constraint failed/);
    expect(dump(db)).toEqual(before);

    db.exec('BEGIN IMMEDIATE');
    await expect(runAsync(op(), async (s) => c.exec(s))).rejects.toThrow(/CHECK constraint failed/);
    db.exec('ROLLBACK');
    expect(after).toBe('not reached');
    expect(dump(db)).toEqual(before);
  });
});

describe('clashes the operations ask instead of catching', () => {
  const OPEN_RUNTIME_SQL = "SELECT * FROM runtime_sessions WHERE ticket_key = ? AND status <> 'closed'";

  /** An executor that answers the first statement with this exact SQL with no row, as if read before a racer wrote. */
  function blindOnce(c: Ctx, sql: string): (s: Stmt) => unknown {
    let blind = true;
    return (s) => {
      if (blind && s.sql === sql) {
        blind = false;
        return s.kind === 'all' ? [] : undefined;
      }
      return c.exec(s);
    };
  }

  it('refuses a second open runtime through ON CONFLICT when the check was passed by a racer', async () => {
    const db = bareStore();
    const c = new Ctx(db);
    const t = db.transaction(() =>
      runSync(createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' }), c.exec),
    )();
    // The racer's open runtime, already committed; the claim's own check does not see it.
    db.prepare(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, pid, status, created_at, version)
       VALUES (?, 'h1', 'mcc', 'mc-MC-1', 99, 'running', ?, 1)`,
    ).run(t.key, new Date(T0).toISOString());
    const before = dump(db);
    const exec = blindOnce(c, OPEN_RUNTIME_SQL);
    let thrown: unknown = null;
    try {
      db.transaction(() =>
        runSync(
          claim({ key: t.key, ticketVersion: 1, runtime: TARGET, promptBody: 'b', now: T0 + 1, event: ev('c') }),
          exec,
        ),
      ).immediate();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Refusal);
    expect((thrown as Refusal).failure).toMatchObject({
      code: 'conflict',
      message: `cannot claim ${t.key}: it already has an open runtime`,
      holder: 'pid 99 (runtime 1)',
    });
    expect(dump(db)).toEqual(before);
  });

  const worktree = (n: number, branch: string): WorkspaceClaim => ({
    repo: '/repo',
    path: `/repo-wt/${n}`,
    mode: 'worktree',
    slot: null,
    branch,
    base: 'main',
  });

  it('refuses a worktree whose branch another live workspace has, naming it, with the ticket untouched', async () => {
    const store = openTestStore();
    const input = { title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' };
    const one = await store.createTicket(input);
    const two = await store.createTicket(input);
    const claimOf = (key: string, w: WorkspaceClaim) =>
      store.claim({ key, ticketVersion: 1, runtime: TARGET, workspace: w, promptBody: 'b', now: T0 + 1, event: ev() });
    okValue(await claimOf(one.key, worktree(1, 'mc/shared')));
    const msg = failed(await claimOf(two.key, worktree(2, 'mc/shared')), 'conflict');
    expect(msg).toBe(`cannot claim /repo-wt/2 for ${two.key}: branch mc/shared is taken by /repo-wt/1`);
    expect(await store.getTicket(two.key)).toMatchObject({ status: 'todo', version: 1, attempts: 0 });
    expect((await store.listWorkspaces()).map((w) => w.path)).toEqual(['/repo-wt/1']);
    // Its own worktree, taken again by a later claim of the same ticket, is no clash with itself.
    const first = okValue(
      await store.closeRuntime({
        runtimeId: (await store.loadActive([])).runtimes[0]!.id,
        runtimeVersion: 1,
        reason: 'test',
        exitStatus: null,
        now: T0 + 2,
        ticket: { key: one.key, version: 2, to: 'todo' },
        event: ev(),
      }),
    );
    const again = okValue(
      await store.claim({
        key: one.key,
        ticketVersion: first.ticket!.version,
        runtime: TARGET,
        workspace: worktree(1, 'mc/shared'),
        promptBody: 'b',
        now: T0 + 3,
        event: ev(),
      }),
    );
    expect(again.runtime.workdir).toBe('/repo-wt/1');
    expect((await store.listWorkspaces()).map((w) => [w.path, w.ticketKey])).toEqual([['/repo-wt/1', one.key]]);
  });

  it('refuses through ON CONFLICT DO NOTHING when a racer took the branch after the check', async () => {
    const db = bareStore();
    const c = new Ctx(db);
    const make = (): Op<unknown> => createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' });
    db.transaction(() => runSync(make(), c.exec))();
    db.transaction(() => runSync(make(), c.exec))();
    db.transaction(() =>
      runSync(
        claim({
          key: 'MC-1',
          ticketVersion: 1,
          runtime: TARGET,
          workspace: worktree(1, 'mc/x'),
          promptBody: 'b',
          now: T0,
          event: ev(),
        }),
        c.exec,
      ),
    )();
    const before = dump(db);
    const exec = blindOnce(
      c,
      'SELECT * FROM workspaces WHERE repo = ? AND branch = ? AND removed_at IS NULL AND id <> ?',
    );
    let thrown: unknown = null;
    try {
      db.transaction(() =>
        runSync(
          claim({
            key: 'MC-2',
            ticketVersion: 1,
            runtime: TARGET,
            workspace: worktree(2, 'mc/x'),
            promptBody: 'b',
            now: T0,
            event: ev(),
          }),
          exec,
        ),
      ).immediate();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Refusal);
    expect((thrown as Refusal).failure.message).toBe(
      'cannot claim /repo-wt/2 for MC-2: the path or branch mc/x is taken by another workspace',
    );
    expect(dump(db)).toEqual(before);
  });

  it('numbers a ticket after the highest seq even when a row was written past the sequence by hand', async () => {
    const db = bareStore();
    const c = new Ctx(db);
    const at = new Date(T0).toISOString();
    db.prepare(
      `INSERT INTO tickets (key, seq, title, body, status, profile, attempts, human_input_required, version, created_at, updated_at)
       VALUES ('MC-7', 7, 't', 'b', 'todo', 'demo', 0, 0, 1, ?, ?)`,
    ).run(at, at);
    const t = db.transaction(() =>
      runSync(createTicket({ title: 't', body: 'b', profile: 'demo', now: T0, actor: 'test' }), c.exec),
    )();
    expect(t.key).toBe('MC-8');
    expect(db.prepare("SELECT value FROM sequences WHERE name = 'ticket'").get()).toEqual({ value: 8 });
  });
});
