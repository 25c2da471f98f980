// A private temp directory per test, removed by name when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmpDir {
  path: string;
  cleanup(): void;
}

/** A fresh directory under the system temp dir; cleanup removes it and everything in it. */
export function makeTmpDir(prefix = 'mcc-test-'): TmpDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
