import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';

// The model-based test at a depth CI does not reach: `npm run test:model -- --runs 100000 [--seed S]`. CI runs
// the same test with 1,000 runs on a fixed seed; this runs it as deep as asked, on a seed it prints first, so a
// failure can be replayed (fast-check also prints the shrunk sequence and its path). `--store pg` runs the
// model's store over PostgreSQL (the store-pg vitest project: a throwaway cluster it starts and stops, or the
// server `--db postgres://...` names, whose user may create databases).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SPEC: CommandSpec = {
  name: 'test-model',
  summary: 'run the model-based test deep: many runs on one printed seed',
  usage: 'npm run test:model -- [--runs N] [--seed S] [--store sqlite|pg] [--db postgres://...]',
  positionals: [],
  flags: {
    runs: { kind: 'number', help: 'sequences to try (default 100000)' },
    seed: { kind: 'number', help: 'fast-check seed (default: a random one, printed)' },
    store: {
      kind: 'string',
      arg: 'KIND',
      help: 'the store adapter: sqlite (default) or pg (a throwaway PostgreSQL cluster)',
    },
    db: {
      kind: 'string',
      arg: 'URL',
      help: 'with --store pg: an existing server to make the test databases on (default: a throwaway cluster)',
    },
  },
};

function main(argv: readonly string[]): number {
  let runs = 100_000;
  let seed = randomInt(-(2 ** 31), 2 ** 31 - 1);
  let store = 'sqlite';
  let db: string | undefined;
  try {
    const { flags } = parseArgs(argv, SPEC, HELP_FLAG);
    if (flags['help']) {
      process.stdout.write(`${helpOf(SPEC, HELP_FLAG)}\n`);
      return 0;
    }
    if (flags['runs'] !== undefined) runs = flags['runs'] as number;
    if (flags['seed'] !== undefined) seed = flags['seed'] as number;
    if (!Number.isInteger(runs) || runs < 1)
      throw new UsageError(SPEC.name, `--runs must be an integer >= 1, got ${runs}`);
    if (!Number.isInteger(seed)) throw new UsageError(SPEC.name, `--seed must be an integer, got ${seed}`);
    if (flags['store'] !== undefined) store = flags['store'] as string;
    if (store !== 'sqlite' && store !== 'pg')
      throw new UsageError(SPEC.name, `--store must be sqlite or pg, got ${JSON.stringify(store)}`);
    if (flags['db'] !== undefined) {
      db = flags['db'] as string;
      if (store !== 'pg') throw new UsageError(SPEC.name, '--db needs --store pg');
      if (!/^postgres(ql)?:\/\//i.test(db)) throw new UsageError(SPEC.name, '--db must be a postgres:// URL');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`test-model: ${e.message}\n${helpOf(SPEC, HELP_FLAG)}\n`);
    return 2;
  }
  process.stdout.write(`model test: ${runs} runs, seed ${seed}, store ${store}\n`);
  const started = Date.now();
  // One project only: the file is in both, and MODEL_RUNS would apply to both.
  const project = store === 'pg' ? 'store-pg' : 'mcc';
  const env: NodeJS.ProcessEnv = { ...process.env, MODEL_RUNS: String(runs), MODEL_SEED: String(seed) };
  if (db !== undefined) env['MCC_TEST_PG_URL'] = db;
  const res = spawnSync(
    resolve(ROOT, 'node_modules/.bin/vitest'),
    ['run', '--project', project, 'test/core/model.property.test.ts'],
    { cwd: ROOT, stdio: 'inherit', env },
  );
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const ok = res.status === 0;
  process.stdout.write(
    `model test: ${ok ? 'passed' : 'FAILED'}: ${runs} runs, seed ${seed}, ${minutes} min` +
      `${ok ? '' : ` (replay: MODEL_SEED=${seed} MODEL_PATH=<path above> npx vitest run --project ${project} test/core/model.property.test.ts)`}\n`,
  );
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
