// A store file that cannot be used is reported by name, with what is wrong with it, and left exactly as it was:
// same bytes, same mtime, same mode, no -wal or -shm beside it. Read-only is also tried as an unprivileged user,
// because root ignores file modes.
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { BIN } from '../global-setup.js';
import { newTicket, openTestStore, tempDir } from './helpers.js';

interface Fingerprint {
  bytes: string;
  mtimeMs: number;
  mode: number;
  siblings: string[];
}

function fingerprint(path: string): Fingerprint {
  const st = statSync(path);
  return {
    bytes: createHash('sha256').update(readFileSync(path)).digest('hex'),
    mtimeMs: st.mtimeMs,
    mode: st.mode & 0o7777,
    siblings: ['-wal', '-shm', '-journal'].filter((s) => existsSync(path + s)),
  };
}

/** Open must throw a message with every one of `parts`, and leave the file as it was. */
function refusedUntouched(path: string, parts: (string | RegExp)[]): string {
  const before = fingerprint(path);
  let message = '';
  expect(() => {
    try {
      openSqliteStore(path);
    } catch (e) {
      message = (e as Error).message;
      throw e;
    }
  }).toThrow();
  for (const p of parts) expect(message).toMatch(p);
  expect(fingerprint(path)).toEqual(before);
  return message;
}

async function goodStore(dir: string): Promise<string> {
  const path = join(dir, 'mcc.db');
  const s = openTestStore(path);
  await newTicket(s);
  s.close();
  return path;
}

describe('a store that cannot be used is named, explained and left untouched', () => {
  it('random bytes: not an SQLite database (SQLite alone says only "file is not a database")', () => {
    const path = join(tempDir(), 'mcc.db');
    writeFileSync(path, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)));
    chmodSync(path, 0o644);
    refusedUntouched(path, [path, /is not an SQLite database \(8192 bytes/, /nothing was changed/]);
  });

  it('a text file, and a file cut short inside the header', async () => {
    const dir = tempDir();
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are my notes\n');
    refusedUntouched(text, [text, 'is not an SQLite database']);
    const good = await goodStore(dir);
    const short = join(dir, 'short.db');
    writeFileSync(short, readFileSync(good).subarray(0, 60));
    refusedUntouched(short, [short, 'is not an SQLite database (60 bytes']);
  });

  it('a damaged store (valid header, pages overwritten): SQLite says malformed, we say which file', async () => {
    const dir = tempDir();
    const good = await goodStore(dir);
    const bytes = readFileSync(good);
    bytes.fill(0xff, 100, 4096);
    const path = join(dir, 'damaged.db');
    writeFileSync(path, bytes);
    chmodSync(path, 0o600);
    refusedUntouched(path, [`the store at ${path} cannot be opened: `, /malformed.*SQLITE_CORRUPT/, /damaged/]);
  });

  it('a newer schema: refused before SQLite even opens it (the header says so)', async () => {
    const dir = tempDir();
    const path = await goodStore(dir);
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.pragma('journal_mode = DELETE');
    db.close();
    refusedUntouched(path, [
      `the store at ${path} has schema version ${SCHEMA_VERSION + 1}, this mcc understands up to ${SCHEMA_VERSION}`,
      'upgrade mcc',
    ]);
  });

  it("another program's SQLite database is not migrated into an mcc store", () => {
    const path = join(tempDir(), 'app.db');
    const db = new Database(path);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann');");
    db.close();
    refusedUntouched(path, [path, 'is an SQLite database but not an mcc store', 'it has users', 'nothing was changed']);
  });

  it('a directory where the file should be keeps its mode (it used to be chmod 0600, locking its owner out)', () => {
    const path = join(tempDir(), 'mcc.db');
    mkdirSync(path);
    chmodSync(path, 0o755);
    expect(() => openSqliteStore(path)).toThrow(`the store at ${path} is a directory, not a store file`);
    expect(statSync(path).mode & 0o777).toBe(0o755);
  });

  it('a path through a file cannot be created, and says which part is a file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain'), '');
    expect(() => openSqliteStore(join(dir, 'plain', 'x', 'mcc.db'))).toThrow(
      `cannot be created: ${join(dir, 'plain')} is a file, not a directory`,
    );
  });
});

// ---- as an unprivileged user ------------------------------------------------------------------------------

const NOBODY = 'nobody';

/** The project the binary belongs to (BIN is PROJECT/dist/cli/bin.js). */
const PROJECT = resolve(BIN, '../../..');

/**
 * How nobody reaches the binary: directly, or, when a parent of the project is closed to others (a clone in a
 * 0700 `mktemp -d`, as a clean-machine CI run makes), through a bind mount of the project on an open directory
 * in a mount namespace of its own, which disappears with the command.
 */
type Route = { kind: 'direct' } | { kind: 'mount'; at: string };

/** [file, args] that run `argv` as nobody by `route`. */
function asNobody(route: Route, argv: string[]): [string, string[]] {
  const run = ['runuser', '-u', NOBODY, '--', ...argv];
  if (route.kind === 'direct') return [run[0]!, run.slice(1)];
  const script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"';
  return [
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', PROJECT, route.at, ...run],
  ];
}

const binBy = (route: Route): string => (route.kind === 'direct' ? BIN : join(route.at, relative(PROJECT, BIN)));

const canRead = (route: Route): boolean => {
  const [file, args] = asNobody(route, ['test', '-r', binBy(route)]);
  return spawnSync(file, args).status === 0;
};

/** A route to the binary for nobody, or why the unprivileged cases cannot run here. */
function unprivilegedRoute(): Route | string {
  if (process.getuid?.() !== 0) return 'not running as root, so no other user can be switched to';
  const r = spawnSync(
    'runuser',
    ['-u', NOBODY, '--', process.execPath, '-e', 'process.stdout.write(String(process.getuid()))'],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) return `runuser -u ${NOBODY} failed: ${r.error?.message ?? r.stderr.trim()}`;
  if (r.stdout === '0') return `${NOBODY} runs as uid 0`;
  if (canRead({ kind: 'direct' })) return { kind: 'direct' };
  const at = mkdtempSync(join(tmpdir(), 'mcc-nobody-'));
  chmodSync(at, 0o755);
  const mounted: Route = { kind: 'mount', at };
  if (canRead(mounted)) return mounted;
  rmdirSync(at);
  return `${NOBODY} cannot read ${BIN}, neither directly nor through a bind mount of ${PROJECT}`;
}

const route = unprivilegedRoute();
const skipReason = typeof route === 'string' ? route : null;
if (skipReason) console.log(`open-errors: unprivileged cases skipped: ${skipReason}`);
else if (typeof route !== 'string' && route.kind === 'mount')
  console.log(`open-errors: ${NOBODY} runs the binary through a bind mount of the project on ${route.at}`);
afterAll(() => {
  if (typeof route !== 'string' && route.kind === 'mount') rmdirSync(route.at);
});

function nobodyIds(): { uid: number; gid: number } {
  const out = execFileSync('id', [NOBODY], { encoding: 'utf8' });
  return { uid: Number(/uid=(\d+)/.exec(out)![1]), gid: Number(/gid=(\d+)/.exec(out)![1]) };
}

/** `mcc ARGS` as nobody, with a config and HOME nobody can read. */
function mccAsNobody(args: string[], home: string): { status: number | null; stderr: string; stdout: string } {
  if (typeof route === 'string') throw new Error(route);
  const [file, argv] = asNobody(route, [
    'env',
    '-i',
    `HOME=${home}`,
    `PATH=${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    'NO_COLOR=1',
    `MCC_CONFIG=${join(home, 'config.json')}`,
    'MCC_TMUX_SOCKET=mcc-open-errors',
    process.execPath,
    binBy(route),
    ...args,
  ]);
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe.skipIf(skipReason !== null)(`as ${NOBODY} (root ignores modes)`, () => {
  /** A base directory nobody may pass through, with a home for nobody in it. */
  function base(): { root: string; home: string; ids: { uid: number; gid: number } } {
    const root = tempDir();
    chmodSync(root, 0o711);
    const ids = nobodyIds();
    const home = join(root, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.json'), '{}');
    chownSync(home, ids.uid, ids.gid);
    chownSync(join(home, 'config.json'), ids.uid, ids.gid);
    chmodSync(home, 0o700);
    return { root, home, ids };
  }

  async function storeOwnedByNobody(dir: string, ids: { uid: number; gid: number }): Promise<string> {
    mkdirSync(dir);
    const path = await goodStore(dir);
    for (const p of [dir, path]) chownSync(p, ids.uid, ids.gid);
    chmodSync(dir, 0o700);
    return path;
  }

  it('control: nobody can use a store of its own, so the refusals below are about modes', async () => {
    const { root, home, ids } = base();
    const path = await storeOwnedByNobody(join(root, 'own'), ids);
    const r = mccAsNobody(['add', 'from nobody', '--db', path], home);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('MC-2');
  });

  it('a read-only store file: exit 2, named, mode and owner given, nothing written', async () => {
    const { root, home, ids } = base();
    const path = await storeOwnedByNobody(join(root, 'ro'), ids);
    chmodSync(path, 0o400);
    const before = fingerprint(path);
    for (const args of [['add', 'must not land'], ['list']]) {
      const r = mccAsNobody([...args, '--db', path], home);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(
        `the store at ${path} is read-only for uid ${ids.uid} (mode 0400, owner uid ${ids.uid})`,
      );
      expect(r.stderr).toContain('nothing was changed');
    }
    expect(fingerprint(path)).toEqual(before);
  });

  it('a store in a directory nobody may enter: exit 2, naming that directory', async () => {
    const { root, home } = base();
    const dir = join(root, 'private');
    mkdirSync(dir);
    const path = await goodStore(dir);
    chmodSync(dir, 0o700);
    const before = fingerprint(path);
    const r = mccAsNobody(['list', '--db', path], home);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`the store at ${path} cannot be reached: uid `);
    expect(r.stderr).toContain(`may not enter ${dir} (mode 0700, owner uid 0)`);
    expect(fingerprint(path)).toEqual(before);
  });

  it('a writable store in a read-only directory (no room for -wal and -shm): exit 2, naming the directory', async () => {
    const { root, home, ids } = base();
    const dir = join(root, 'rodir');
    const path = await storeOwnedByNobody(dir, ids);
    chmodSync(dir, 0o500);
    const before = fingerprint(path);
    const r = mccAsNobody(['add', 'must not land', '--db', path], home);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`the store at ${path} is in ${dir}, which uid ${ids.uid} cannot write (mode 0500`);
    expect(fingerprint(path)).toEqual(before);
  });
});
