import { chmodSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'rolldown';

// `npm run build`, after tsc: bundle the `mcc` executable (dist/cli/bin.js) in place. Loading ~180 small ES
// modules (zod alone is ~100) cost `mcc list` about a third of its run; one bundle with a chunk per lazily
// loaded part (the console, the daemon, PostgreSQL's adapter, the demo agent) loads a handful. Native and
// optional packages stay outside: better-sqlite3 finds its addon next to itself, pg is loaded only for a
// postgres:// store. The chunks sit beside bin.js, so `selfArgv()` (bin.js next to the running module) holds.

const CHUNK_PREFIX = 'mcc-';
/** Which compiled modules each file of the bundle holds (file URLs), for tests that check what a command loads. */
export const MANIFEST = 'bundle-manifest.json';
// react-devtools-core: ink imports it only when DEV=true, and it is not installed.
const EXTERNAL = ['better-sqlite3', 'pg', 'node-pty', 'react-devtools-core'];

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../cli');

async function bundle(): Promise<void> {
  // Chunks of an earlier build (their names carry a hash) would pile up.
  for (const f of readdirSync(cli)) if (f.startsWith(CHUNK_PREFIX) || f === MANIFEST) rmSync(join(cli, f));
  const out = await build({
    input: join(cli, 'bin.js'),
    platform: 'node',
    external: (id) => EXTERNAL.some((p) => id === p || id.startsWith(`${p}/`)),
    logLevel: 'warn',
    output: {
      dir: cli,
      format: 'esm',
      entryFileNames: 'bin.js',
      chunkFileNames: `${CHUNK_PREFIX}[name]-[hash].js`,
    },
  });
  chmodSync(join(cli, 'bin.js'), 0o755);
  const manifest: Record<string, string[]> = {};
  for (const o of out.output) {
    if (o.type !== 'chunk') continue;
    manifest[pathToFileURL(join(cli, o.fileName)).href] = o.moduleIds
      .filter((id) => id.startsWith('/'))
      .map((id) => pathToFileURL(id).href);
  }
  writeFileSync(join(cli, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}

bundle().catch((e: unknown) => {
  process.stderr.write(`bundle: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
