import { execFile, fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgUrl } from '../../src/store/pg/connect.js';
import { freshSpec } from '../helpers/test-store.js';
import { newTicket, rawRows, specOf, testStore } from './helpers.js';

// Two to four real OS processes race on the same tickets, on either adapter (each racer opens the store by its
// spec: an SQLite path or a postgres:// URL). The racers cannot run TypeScript, so the store adapters (and only
// they, so other work in progress cannot break this test) are compiled once with tsc into a private directory
// under node_modules/.cache, where `better-sqlite3` and `pg` still resolve.

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'node_modules', '.cache', `mcc-store-race-${process.pid}`);
const STORE_DIR = join(BUILD, 'store');
const ADAPTERS = ['ticket-store.sqlite', 'ticket-store.pg'];
const RACER = join(import.meta.dirname, 'fixtures', 'claim-racer.mjs');
const OPENER = join(import.meta.dirname, 'fixtures', 'open-racer.mjs');
const TICKETS = 40;

beforeAll(() => {
  mkdirSync(BUILD, { recursive: true });
  // node_modules is a package-scope boundary: without this, Node would load the output as CommonJS.
  writeFileSync(join(BUILD, 'package.json'), '{"type":"module"}\n');
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--outDir',
      BUILD,
      '--rootDir',
      join(ROOT, 'src'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
      '--noEmitOnError',
      'false',
      ...ADAPTERS.map((a) => join(ROOT, 'src', 'store', `${a}.ts`)),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  for (const a of ADAPTERS)
    if (!existsSync(join(STORE_DIR, `${a}.js`)))
      throw new Error(`could not compile ${a} for the racers:\n${tsc.stdout}${tsc.stderr}`);
}, 120_000);

afterAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
});

interface Outcome {
  key: string;
  racer: string;
  outcome: string;
  message: string;
}

/** A forked racer; `next()` resolves with its next report, in order. */
function startRacer(spec: string, name: string) {
  const child: ChildProcess = fork(RACER, [STORE_DIR, spec, name], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  let failure: Error | null = null;
  const deliver = (m: unknown): void => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  };
  child.on('message', deliver);
  child.on('exit', (code) => {
    failure = new Error(`racer ${name} exited with ${code}`);
    deliver(failure);
  });
  const next = async (): Promise<unknown> => {
    const m = inbox.length > 0 ? inbox.shift() : await new Promise((res) => waiters.push(res));
    if (m instanceof Error) throw m;
    return m;
  };
  return { child, next, failed: () => failure };
}

describe('two or more processes racing on the same tickets', () => {
  it.each([2, 3, 4])(
    'with %i racers: exactly one claim wins per ticket, losers get conflict, nothing escapes',
    async (n) => {
      const store = await testStore();
      for (let i = 0; i < TICKETS; i++) await newTicket(store, `race ${i}`);
      const racers = Array.from({ length: n }, (_, i) => startRacer(specOf(store), `racer-${i}`));
      const results: Outcome[] = [];
      try {
        for (const r of racers) expect(await r.next()).toBe('ready');
        for (let i = 1; i <= TICKETS; i++) {
          const at = Date.now() + 15;
          for (const r of racers) r.child.send({ key: `MC-${i}`, at });
          for (const r of racers) results.push((await r.next()) as Outcome);
        }
        for (const r of racers) r.child.send('stop');
      } finally {
        for (const r of racers) if (r.child.exitCode === null && r.failed() === null) r.child.kill();
      }

      expect(results.filter((r) => r.outcome !== 'won' && r.outcome !== 'conflict')).toEqual([]);
      const winners = new Map<string, number>();
      for (const r of results) if (r.outcome === 'won') winners.set(r.key, (winners.get(r.key) ?? 0) + 1);
      expect([...winners.values()].filter((count) => count !== 1)).toEqual([]);
      expect(winners.size).toBe(TICKETS);
      const conflicts = results.filter((r) => r.outcome === 'conflict');
      expect(conflicts).toHaveLength(TICKETS * (n - 1));
      // Every loser read version 1 before anyone claimed, so each refusal must be the CAS speaking.
      expect(conflicts.filter((r) => !r.message.includes('changed since it was read'))).toEqual([]);

      const count = async (sql: string) => rawRows(store, sql);
      expect(await count("SELECT count(*) AS n FROM tickets WHERE status = 'in_progress' AND attempts = 1")).toEqual([
        { n: TICKETS },
      ]);
      expect(await count('SELECT count(*) AS n, count(DISTINCT ticket_key) AS k FROM runtime_sessions')).toEqual([
        { n: TICKETS, k: TICKETS },
      ]);
      expect(await count("SELECT count(*) AS n FROM messages WHERE kind = 'prompt'")).toEqual([{ n: TICKETS }]);
      expect(await count("SELECT count(*) AS n FROM events WHERE kind = 'claim'")).toEqual([{ n: TICKETS }]);
    },
    60_000,
  );
});

describe('processes opening a new store at the same instant', () => {
  it('all succeed: one creates and migrates it, every ticket gets its own key', async () => {
    const place = await freshSpec(undefined, { empty: true });
    // SQLite: a file in a directory that does not exist yet; PostgreSQL: an empty database.
    const spec = isPgUrl(place.spec) ? place.spec : join(dirname(place.spec), 'fresh', 'mcc.db');
    const at = String(Date.now() + 300);
    const run = () =>
      new Promise<string>((res, rej) =>
        execFile(process.execPath, [OPENER, STORE_DIR, spec, at], (err, stdout) =>
          err ? rej(new Error(err.message)) : res(stdout.trim()),
        ),
      );
    const lines = await Promise.all([run(), run(), run(), run()]).finally(() => place.remove());
    const reports = lines.map((l) => JSON.parse(l) as { key?: string; error?: string });
    expect(reports.filter((r) => r.error !== undefined)).toEqual([]);
    expect(reports.map((r) => r.key).sort()).toEqual(['MC-1', 'MC-2', 'MC-3', 'MC-4']);
  });
});
