import { accessSync, closeSync, constants, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

// What is wrong with a store path, found with plain file-system calls before SQLite (or a chmod) touches it:
// a directory where the file should be, a file that is not SQLite at all, one written by a newer mcc, a file
// or directory this user cannot write. Each message names the path and the problem, and says that nothing
// was changed, because nothing was.

const SQLITE_MAGIC = 'SQLite format 3\0';
const HEADER_BYTES = 100;
// The database header keeps PRAGMA user_version as a big-endian 32-bit integer at offset 60.
const USER_VERSION_OFFSET = 60;

/** An unusable store path; the message is for the operator as it stands. */
export class StoreFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFileError';
  }
}

const UNTOUCHED = 'nothing was changed';

function who(): string {
  const uid = process.getuid?.();
  return uid === undefined ? 'this user' : `uid ${uid}`;
}

function describeMode(st: Stats): string {
  return `mode 0${(st.mode & 0o777).toString(8)}, owner uid ${st.uid}`;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a file, not a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null ? String((err as NodeJS.ErrnoException).code ?? '') : '';
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** The first directory on the way to `path` this user cannot enter, or null. */
function blockedAncestor(path: string): string | null {
  const parts: string[] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    parts.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of parts) {
    let st: Stats;
    try {
      st = statSync(d);
    } catch {
      return null; // missing from here on: creating it is prepareStoreFiles' job, and its error names it
    }
    if (st.isDirectory() && !canAccess(d, constants.X_OK)) return d;
  }
  return null;
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Throw a StoreFileError when the store at `path` cannot be used as it is; `schemaVersion` is the newest this
 * mcc understands. A missing file is fine (it will be created); an empty file is a new store.
 */
export function checkStoreFile(path: string, schemaVersion: number): void {
  const file = resolve(path);
  const blocked = blockedAncestor(file);
  if (blocked !== null) {
    const st = statSync(blocked);
    throw new StoreFileError(
      `the store at ${file} cannot be reached: ${who()} may not enter ${blocked} (${describeMode(st)}); ${UNTOUCHED}`,
    );
  }
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return checkCreatable(file);
    throw new StoreFileError(`the store at ${file} cannot be examined: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new StoreFileError(`the store at ${file} is ${kindOf(st)}, not a store file; ${UNTOUCHED}`);
  if (!canAccess(file, constants.R_OK))
    throw new StoreFileError(`the store at ${file} is not readable by ${who()} (${describeMode(st)}); ${UNTOUCHED}`);
  if (st.size > 0) checkHeader(file, st, schemaVersion);
  if (!canAccess(file, constants.W_OK))
    throw new StoreFileError(
      `the store at ${file} is read-only for ${who()} (${describeMode(st)}): mcc records every change in it, so it must be writable; ${UNTOUCHED}`,
    );
  const dir = dirname(file);
  if (!canAccess(dir, constants.W_OK))
    throw new StoreFileError(
      `the store at ${file} is in ${dir}, which ${who()} cannot write (${describeMode(statSync(dir))}): SQLite keeps its -wal and -shm files beside the store; ${UNTOUCHED}`,
    );
}

function checkHeader(file: string, st: Stats, schemaVersion: number): void {
  const header = readHeader(file);
  if (header.length < HEADER_BYTES || header.toString('latin1', 0, SQLITE_MAGIC.length) !== SQLITE_MAGIC) {
    throw new StoreFileError(
      `the store at ${file} is not an SQLite database (${st.size} bytes that do not start with the SQLite header): ` +
        `it is some other file, or it was damaged; ${UNTOUCHED} (move it aside, or restore it from a backup)`,
    );
  }
  const version = header.readInt32BE(USER_VERSION_OFFSET);
  if (version > schemaVersion) {
    throw new StoreFileError(
      `the store at ${file} has schema version ${version}, this mcc understands up to ${schemaVersion}: ` +
        'upgrade mcc (the store was left untouched)',
    );
  }
}

function checkCreatable(file: string): void {
  // The nearest existing directory is where the first mkdir or the file itself would be created.
  let dir = dirname(file);
  while (!canAccess(dir, constants.F_OK) && dirname(dir) !== dir) dir = dirname(dir);
  const st = statSync(dir);
  if (!st.isDirectory())
    throw new StoreFileError(`the store at ${file} cannot be created: ${dir} is ${kindOf(st)}; ${UNTOUCHED}`);
  if (!canAccess(dir, constants.W_OK))
    throw new StoreFileError(
      `the store at ${file} cannot be created: ${who()} cannot write ${dir} (${describeMode(st)}); ${UNTOUCHED}`,
    );
}
