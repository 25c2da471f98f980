// The short seeded chaos soak (`npm run soak` at its smallest): the real binary, a daemon, scripted operators
// and every fault kind, then the report. A soak that injected nothing proves nothing: each kind must show.
import { execa } from 'execa';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { processesNaming } from '../../src/soak/world.js';
import { FAULT_KINDS } from '../../src/soak/journal.js';
import type { SoakReport } from '../../src/soak/report.js';
import { ROOT } from '../global-setup.js';

const SEED = 1;

it(`a one-minute chaos soak (seed ${SEED}) keeps every invariant`, { timeout: 240_000 }, async () => {
  const r = await execa(
    process.execPath,
    [join(ROOT, 'dist/soak/main.js'), '--minutes', '1', '--seed', String(SEED), '--json'],
    {
      reject: false,
      timeout: 220_000,
      stdin: 'ignore',
    },
  );
  const report = JSON.parse(String(r.stdout)) as SoakReport;
  const summary = JSON.stringify(
    { violations: report.violations, faults: report.faults, messages: report.messages },
    null,
    2,
  );
  expect(report.violations, summary).toEqual([]);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  expect(report.messages.lost).toBe(0);
  expect(report.messages.doubled).toBe(0);
  expect(report.messages.delivered).toBeGreaterThan(0);
  expect(report.skippedFaults, 'this machine permits a tmpfs mount: the disk-full fault must run').toEqual({});
  for (const kind of FAULT_KINDS) expect(report.faults[kind], `fault ${kind} injected`).toBeGreaterThanOrEqual(1);
  for (const [name, runs] of Object.entries(report.checks)) expect(runs, `check ${name} ran`).toBeGreaterThan(0);
  expect(report.tickets.created).toBeGreaterThanOrEqual(5);
  expect(processesNaming(report.socket), 'no tmux server or client of ours outlives the soak').toEqual([]);
});
