import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:agents` only: real agent CLIs, offline, one at a time. Its files are named *.agents.ts so
// the main suite (test/**/*.test.ts) never picks them up.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/agents/**/*.agents.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
