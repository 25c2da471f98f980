// The layering is a lint rule, not a hope: the project's own eslint config refuses a deliberate bad import in
// each layer. The probe files are linted from memory under a path inside the layer; nothing is written.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Type information is not needed for import restrictions; without it the probe paths need not exist.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], ...tseslint.configs.disableTypeChecked }],
});

async function importErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layering rule (eslint.config.js)', () => {
  it.each([
    ['src/core/probe.ts', "import Database from 'better-sqlite3';\nexport const d = Database;\n"],
    ['src/core/probe.ts', "import { execa } from 'execa';\nexport const e = execa;\n"],
    ['src/core/probe.ts', "import { Box } from 'ink';\nexport const b = Box;\n"],
    ['src/core/probe.ts', "import { useState } from 'react';\nexport const u = useState;\n"],
    ['src/core/probe.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"],
    ['src/core/probe.ts', "import { spawn } from 'node:child_process';\nexport const s = spawn;\n"],
    [
      'src/core/probe.ts',
      "import { openSqliteStore } from '../store/ticket-store.sqlite.js';\nexport const o = openSqliteStore;\n",
    ],
    [
      'src/ui/probe.ts',
      "import { openSqliteStore } from '../store/ticket-store.sqlite.js';\nexport const o = openSqliteStore;\n",
    ],
    ['src/ui/probe.tsx', "import { TmuxProbe } from '../probes/tmux.probe.js';\nexport const t = TmuxProbe;\n"],
  ])('%s: a bad import is an error (%#)', async (path, source) => {
    const errors = await importErrors(path, source);
    expect(errors.length, source).toBe(1);
  });

  it('the allowed directions pass: core from core, ui from core, store and probes from core', async () => {
    expect(
      await importErrors('src/core/probe.ts', "import { ok } from './result.js';\nexport const x = ok;\n"),
    ).toEqual([]);
    expect(
      await importErrors('src/ui/probe.ts', "import { ok } from '../core/result.js';\nexport const x = ok;\n"),
    ).toEqual([]);
    expect(
      await importErrors('src/store/probe.ts', "import { ok } from '../core/result.js';\nexport const x = ok;\n"),
    ).toEqual([]);
  });
});
