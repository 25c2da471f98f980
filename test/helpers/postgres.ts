// A throwaway PostgreSQL cluster per test file (src/bench/pg-cluster.ts, which the bench uses too): the caller
// destroys it in afterAll.
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../src/bench/pg-cluster.js';

export { freePort } from '../../src/bench/pg-cluster.js';
export type TestPostgres = ThrowawayPostgres;

/** Start a throwaway cluster and say which, where and how fast; throws with the log's tail when it cannot. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const pg = await startThrowawayPostgres('test postgres');
  console.info(
    `test postgres: ${pg.flavour} on 127.0.0.1:${pg.port} (initdb ${pg.initMs} ms, ready after ${pg.readyMs} ms), ` +
      `log ${pg.logFile}`,
  );
  return pg;
}
