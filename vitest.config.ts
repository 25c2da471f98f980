import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Native modules (better-sqlite3, node-pty) and real tmux servers: processes, not threads.
    pool: 'forks',
    // Most tests wait on agents and tmux rather than compute: more files in flight than cores pays off.
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
