import { defineConfig } from 'vitest/config';

// The store's behaviour suites and the model test, run a second time against PostgreSQL (issue 13: one store
// test suite for both adapters). The files are dialect-blind: test/helpers/test-store.ts opens the adapter
// MCC_TEST_STORE names, on a fresh database of the cluster test/helpers/pg-global-setup.ts starts once per run.
const STORE_BEHAVIOUR = [
  'test/store/ops.test.ts',
  'test/store/cas.property.test.ts',
  'test/store/messages-leases.test.ts',
  'test/store/list-page.test.ts',
  'test/store/load-active.test.ts',
  'test/store/lease-takeover.test.ts',
  'test/store/commands.test.ts',
  'test/store/hosts.test.ts',
  'test/store/race.test.ts',
  'test/core/model.property.test.ts',
];

const shared = {
  // Native modules (better-sqlite3, node-pty) and real tmux servers: processes, not threads.
  pool: 'forks',
  testTimeout: 60_000,
  hookTimeout: 60_000,
} as const;

export default defineConfig({
  test: {
    // Most tests wait on agents and tmux rather than compute: more files in flight than cores pays off.
    maxWorkers: 3,
    // The root's global setup runs once per run whichever projects run: it builds dist/ (the racers of
    // commands.test.ts load dist/store in both projects).
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'mcc',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          ...shared,
        },
      },
      {
        test: {
          name: 'store-pg',
          include: STORE_BEHAVIOUR,
          env: { MCC_TEST_STORE: 'pg' },
          globalSetup: ['test/helpers/pg-global-setup.ts'],
          ...shared,
        },
      },
    ],
  },
});
