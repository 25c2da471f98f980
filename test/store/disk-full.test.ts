// A full disk under the store: every write is refused with the store's path and what is wrong (exit 1, no stack
// trace), nothing is half-written, and mcc works again once space is freed. A real file system that fills up:
// a small tmpfs mounted in the test's temp dir.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../runtime/helpers.js';

/** Write filler until the file system says it is full; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  const parts: Buffer[] = [];
  for (;;) {
    parts.push(chunk);
    try {
      writeFileSync(path, Buffer.concat(parts));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return path;
      throw e;
    }
  }
}

// Found by the chaos soak (seed 2): approve on a full store disk printed "unexpected error: SqliteError: database or
// disk is full" with a stack trace, retire said "database or disk is full" naming no file.
describe('soak regression: a full disk under the store', () => {
  it('add, send and move fail naming the store and the full disk; nothing written; works again once freed', async ({
    onTestFinished,
  }) => {
    const h = useHarness();
    const mnt = join(h.dir, 'small-disk');
    mkdirSync(mnt, { recursive: true });
    // The tests run as root on CI and here (tmux, mounts); a mount that fails fails the test, it is not skipped.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt]);
    onTestFinished(() => {
      execFileSync('umount', ['-l', mnt]);
    });
    const db = join(mnt, 'mcc.db');
    const env = { MCC_DB: db };
    const first = await h.mcc(['add', 'before the disk filled', '--json'], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    // A connection held open keeps the WAL and its index in place, so commands open the store and fail on the
    // write itself.
    const held = new Database(db, { fileMustExist: true });
    held.pragma('journal_mode = WAL');
    held.prepare('SELECT count(*) FROM tickets').get();
    const filler = fill(mnt);
    const refused = async (args: string[]) => {
      const r = await h.mcc(args, { env });
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr, 'a stack trace reached the operator').not.toMatch(/\n\s+at /);
      return r.stderr;
    };
    for (const args of [
      ['add', 'while the disk is full'],
      ['send', 'MC-1', 'a note that cannot be queued'],
    ]) {
      expect(await refused(args)).toContain(
        `store ${db}: the disk holding it is full (SQLITE_FULL); nothing was written`,
      );
    }
    held.close();

    const list = async () => (await h.mcc(['list', '--json'], { env })).stdout;
    for (const args of [
      ['add', 'while the disk is full'],
      ['block', 'MC-1', 'no space'],
    ]) {
      const err = await refused(args);
      // Whether it fails opening (the WAL index needs space) or writing, the store and the full disk are named.
      expect(err).toContain(`mcc: store ${db}: `);
      expect(err).toMatch(
        /the disk holding it is full \(SQLITE_FULL\); nothing was written|is the disk holding it full\? nothing was changed/,
      );
    }
    rmSync(filler);
    const rows = JSON.parse(await list()) as { ticket: { key: string; status: string }; pendingMessages: number }[];
    expect(rows.map((r) => [r.ticket.key, r.ticket.status, r.pendingMessages])).toEqual([['MC-1', 'todo', 0]]);
    const again = await h.mcc(['add', 'after space was freed'], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(await list()) as { ticket: { key: string } }[]).map((r) => r.ticket.key)).toEqual([
      'MC-1',
      'MC-2',
    ]);
  });
});
