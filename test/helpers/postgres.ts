// A throwaway PostgreSQL cluster per test file (src/bench/pg-cluster.ts, which the bench uses too): the caller
// destroys it in afterAll, or usePostgres() does both.
import { afterAll, beforeAll } from 'vitest';
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

/** One throwaway cluster for the calling test file (or describe block): started before its tests, destroyed after. */
export function usePostgres(): { readonly server: TestPostgres } {
  let server: TestPostgres | null = null;
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  });
  return {
    get server(): TestPostgres {
      if (server === null) throw new Error('usePostgres: the cluster is not started (used outside a test?)');
      return server;
    },
  };
}
