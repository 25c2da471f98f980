import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newTicket, openTestStore, tempDir } from './helpers.js';

// Modes are asserted with umask 000 in effect, so nothing passes merely because the default umask hid a bug.

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('file modes', () => {
  let saved: number;
  beforeEach(() => {
    saved = process.umask(0);
  });
  afterEach(() => {
    process.umask(saved);
  });

  it('creates missing directories 0700 and the database, -wal and -shm 0600', async () => {
    const root = tempDir();
    const dir = join(root, 'state', 'mcc');
    const path = join(dir, 'mcc.db');
    const store = openTestStore(path);
    await newTicket(store);
    expect(mode(join(root, 'state'))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(mode(`${path}-wal`)).toBe(0o600);
    expect(mode(`${path}-shm`)).toBe(0o600);
    expect(store.permissionNotes).toEqual([]);
  });

  it('tightens an existing loose store file and a loose directory that holds only the store', () => {
    const dir = join(tempDir(), 'mcc');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const path = join(dir, 'mcc.db');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    openTestStore(path);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path)).toBe(0o600);
  });

  it('leaves a shared directory alone and says so, but still makes the file private', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'README.md'), 'a project file');
    const path = join(dir, 'mcc.db');
    const store = openTestStore(path);
    expect(mode(dir)).toBe(0o755);
    expect(mode(path)).toBe(0o600);
    expect(store.permissionNotes.join('\n')).toContain(`${dir} is mode 0755; left as is`);
  });
});
