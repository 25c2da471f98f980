import fc from 'fast-check';
import { describe, it } from 'vitest';
import { commands, type Model } from './model-commands.js';
import { settle } from './model-checks.js';
import { Env } from './model-env.js';
import { testStoreKind } from '../helpers/test-store.js';

// Model-based test of the whole runtime control loop: pickups crashing at every failpoint (from the CLI or the
// console), agents dying, zombies, pid reuse, reboots, sessions killed or made by hand, operator moves, adopts,
// retires and messages, tmux and /proc going blind, time passing, reconcile passes crashing mid-delivery, and a
// pass racing an operator command; against the real service and a real store (SQLite; PostgreSQL in the
// store-pg project) over a simulated tmux and process table. The invariants are checked after every command and
// after settling (model-checks.ts). fast-check prints the seed and the shrunk command sequence of any failure;
// replay with MODEL_SEED=<seed> MODEL_PATH=<path> npx vitest run --project mcc test/core/model.property.test.ts
// (--project store-pg for a failure on PostgreSQL).

// With MCC_TEST_STORE=pg (the store-pg project, or `npm run test:model -- --store pg`) the same commands and
// checks run over PostgreSQL, a fresh database per sequence: a short run on a fixed seed in `npm test`.
const PG = testStoreKind() === 'pg';
const RUNS = Number(process.env['MODEL_RUNS'] ?? (PG ? 12 : 1000));
// CI checks the same sequences every run (a landing never depends on luck); locally every run explores new
// ones, which is how this test keeps finding bugs. MODEL_SEED overrides both.
const seed = process.env['MODEL_SEED'] ?? (process.env['CI'] || PG ? '20261125' : undefined);
const path = process.env['MODEL_PATH'];
/** Milliseconds a run may take on average: a server round trip per statement costs more than a file. */
const PER_RUN_MS = PG ? 3000 : 120;

describe('model: pickup, crashes, deaths, operator moves and reconcile passes', () => {
  it(
    'every invariant holds after every command, and the world settles consistently',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (cmds) => {
          const env = await Env.open();
          try {
            await env.addTicket('plain body');
            await fc.asyncModelRun(() => ({ model: { tickets: 1 } satisfies Model, real: env }), cmds);
            env.log.push('final settle');
            await settle(env);
          } finally {
            await env.close();
          }
        }),
        { numRuns: RUNS, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) },
      );
    },
    60_000 + RUNS * PER_RUN_MS,
  );
});
