import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';

// The store holds prompts and pane-derived text, so it is private to its user: 0600 files in a 0700
// directory. Every mode is set with chmod after creation because mkdir/open modes are filtered by umask.

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

function ownedByUs(st: Stats): boolean {
  const uid = process.getuid?.();
  return uid === undefined || st.uid === uid;
}

function isLoose(st: Stats): boolean {
  return (st.mode & 0o077) !== 0;
}

/** Create the store's directory and file with private modes before SQLite opens it; returns notes for doctor. */
export function prepareStoreFiles(path: string): string[] {
  const notes: string[] = [];
  const file = resolve(path);
  const dir = dirname(file);
  if (!existsSync(dir)) {
    const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
    // A restrictive umask could leave intermediate directories unusable, so fix every one we created.
    if (first !== undefined) {
      let current = first;
      chmodSync(current, PRIVATE_DIR);
      for (const part of relative(first, dir)
        .split(sep)
        .filter((p) => p !== '')) {
        current = resolve(current, part);
        chmodSync(current, PRIVATE_DIR);
      }
    }
  } else {
    tightenExistingDir(dir, basename(file), notes);
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', PRIVATE_FILE));
    chmodSync(file, PRIVATE_FILE);
  } else {
    const st = statSync(file);
    if (isLoose(st)) {
      if (ownedByUs(st)) chmodSync(file, PRIVATE_FILE);
      else notes.push(`${file} is mode ${octal(st.mode)} and owned by uid ${st.uid}; left as is`);
    }
  }
  return notes;
}

function tightenExistingDir(dir: string, dbName: string, notes: string[]): void {
  const st = statSync(dir);
  if (!isLoose(st)) return;
  // Only a directory that is ours and holds nothing but this store is tightened: `--db ./x.db` must not make a
  // project directory (or /tmp, or $HOME) private as a side effect.
  const onlyStore = readdirSync(dir).every((name) => name.startsWith(dbName));
  const sticky = (st.mode & 0o1000) !== 0;
  if (ownedByUs(st) && onlyStore && !sticky) {
    chmodSync(dir, PRIVATE_DIR);
    return;
  }
  notes.push(`${dir} is mode ${octal(st.mode)}; left as is because it is shared or holds other files`);
}

/** chmod the -wal and -shm files 0600 when present; true once both exist (callers can stop checking). */
export function tightenSidecars(path: string): boolean {
  let both = true;
  for (const suffix of ['-wal', '-shm']) {
    const sidecar = resolve(path) + suffix;
    try {
      const st = statSync(sidecar);
      if (isLoose(st) && ownedByUs(st)) chmodSync(sidecar, PRIVATE_FILE);
    } catch (err) {
      // A checkpoint by the last closing connection deletes them; absence is not an error.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      both = false;
    }
  }
  return both;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
