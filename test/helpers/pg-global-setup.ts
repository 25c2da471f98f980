// The store-pg project's global setup: one throwaway PostgreSQL cluster for the whole run (test/helpers/postgres.ts),
// handed to the test files as `inject('mccTestPgUrl')`; each test makes its own database on it. A cluster that
// cannot start fails the run with its log's tail: this project never skips. MCC_TEST_PG_URL names an existing
// server instead (a URL whose user may CREATE DATABASE), as `npm run test:model -- --db postgres://...` does.
import type { TestProject } from 'vitest/node';
import { isPgUrl } from '../../src/store/pg/connect.js';
import { createStoreTemplate, dropDatabase } from './pg-databases.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env['MCC_TEST_PG_URL'];
  if (given !== undefined && given !== '') {
    if (!isPgUrl(given)) throw new Error('MCC_TEST_PG_URL must be a postgres:// URL');
    const template = await createStoreTemplate(given);
    project.provide('mccTestPgUrl', given);
    project.provide('mccTestPgTemplate', template);
    return () => dropDatabase(given, template);
  }
  const { startTestPostgres } = await import('./postgres.js');
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
