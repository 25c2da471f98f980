import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';

// The model-based test at a depth CI does not reach: `npm run test:model -- --runs 100000 [--seed S]`. CI runs
// the same test with 1,000 runs on a fixed seed; this runs it as deep as asked, on a seed it prints first, so a
// failure can be replayed (fast-check also prints the shrunk sequence and its path).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SPEC: CommandSpec = {
  name: 'test-model',
  summary: 'run the model-based test deep: many runs on one printed seed',
  usage: 'npm run test:model -- [--runs N] [--seed S]',
  positionals: [],
  flags: {
    runs: { kind: 'number', help: 'sequences to try (default 100000)' },
    seed: { kind: 'number', help: 'fast-check seed (default: a random one, printed)' },
  },
};

function main(argv: readonly string[]): number {
  let runs = 100_000;
  let seed = randomInt(-(2 ** 31), 2 ** 31 - 1);
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
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`test-model: ${e.message}\n${helpOf(SPEC, HELP_FLAG)}\n`);
    return 2;
  }
  process.stdout.write(`model test: ${runs} runs, seed ${seed}\n`);
  const started = Date.now();
  const res = spawnSync(resolve(ROOT, 'node_modules/.bin/vitest'), ['run', 'test/core/model.property.test.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, MODEL_RUNS: String(runs), MODEL_SEED: String(seed) },
  });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const ok = res.status === 0;
  process.stdout.write(
    `model test: ${ok ? 'passed' : 'FAILED'}: ${runs} runs, seed ${seed}, ${minutes} min` +
      `${ok ? '' : ` (replay: MODEL_SEED=${seed} MODEL_PATH=<path above> npx vitest run test/core/model.property.test.ts)`}\n`,
  );
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
