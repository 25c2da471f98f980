// What a `mcc` process loads: one-shot commands never load the console stack (Ink, React, src/ui), `--help`
// loads neither the store nor the probes, and `mcc console` does load the console (the check's own control).
// The compiled binary runs under a module hook (node --import) that writes the URL of every ES module it
// loads to a file; a file of the bundle counts as every compiled module it holds (the build's manifest), so a
// chunk that carries the console stack is caught however it is named. No timing here: the figures are in the
// bench and the report.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, DIST } from '../global-setup.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';

const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) {
  log = data.log;
}
export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n');
  return nextLoad(url, context);
}
`;

const REGISTER = `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { log: process.env.MCC_TEST_LOAD_LOG } });
`;

const DIST_URL = pathToFileURL(DIST).href;
const CONSOLE_STACK = [/\/node_modules\/ink\//, /\/node_modules\/react\//, /\/node_modules\/react-reconciler\//];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The files the process loaded (the bundle's files, external packages' modules). */
  files: string[];
  /** The same with each bundle file expanded into the compiled modules it holds. */
  loaded: string[];
}

/** The bundle's files and the compiled modules each holds (written by the build, read once it has run). */
let manifest: Record<string, string[]> | null = null;
function modulesOf(url: string): string[] {
  manifest ??= JSON.parse(readFileSync(join(DIST, 'cli/bundle-manifest.json'), 'utf8')) as Record<string, string[]>;
  return [url, ...(manifest[url] ?? [])];
}

let dir: TmpDir;
let sock: TmuxSocket;
let runs = 0;

beforeEach(() => {
  dir = makeTmpDir('mcc-startup-');
  sock = makeTmuxSocket('mcc-startup');
  writeFileSync(join(dir.path, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir.path, 'register.mjs'), REGISTER);
  writeFileSync(join(dir.path, 'config.json'), '{}\n');
});

afterEach(async () => {
  await sock.cleanup();
  dir.cleanup();
});

/** `mcc ...args` under the hook, stdin not a terminal; resolves with its exit code, output and loaded modules. */
function mcc(args: string[]): Promise<Run> {
  const log = join(dir.path, `loaded-${++runs}.txt`);
  writeFileSync(log, '');
  const env: NodeJS.ProcessEnv = {
    ...sock.env,
    MCC_DB: join(dir.path, 'state', 'mcc.db'),
    MCC_CONFIG: join(dir.path, 'config.json'),
    MCC_TMUX_SOCKET: sock.name,
    XDG_STATE_HOME: join(dir.path, 'xdg-state'),
    XDG_CONFIG_HOME: join(dir.path, 'xdg-config'),
    MCC_TEST_LOAD_LOG: log,
    NO_COLOR: '1',
  };
  delete env['MCC_FAILPOINTS'];
  delete env['MCC_TMUX_BIN'];
  delete env['NODE_OPTIONS'];
  const register = pathToFileURL(join(dir.path, 'register.mjs')).href;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', register, BIN, ...args],
      { env, timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        // A non-zero exit is a result to assert on; not starting, or a timeout, is a failure of the test.
        if (err && typeof err.code !== 'number') return reject(new Error(`mcc ${args.join(' ')}: ${err.message}`));
        resolve({
          code: child.exitCode,
          stdout,
          stderr,
          files: readFileSync(log, 'utf8').split('\n').filter(Boolean),
          loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean).flatMap(modulesOf),
        });
      },
    );
    child.stdin?.end();
  });
}

/** The modules of `run` that belong to the console: Ink, React, and src/ui except the text helpers the CLI prints with. */
function consoleModules(run: Run): string[] {
  return run.loaded.filter(
    (u) =>
      CONSOLE_STACK.some((re) => re.test(u)) || (u.startsWith(`${DIST_URL}/ui/`) && u !== `${DIST_URL}/ui/text.js`),
  );
}

const matching = (run: Run, re: RegExp) => run.loaded.filter((u) => re.test(u));

describe('what a mcc process loads', () => {
  it('one-shot commands (add, list, list --json, show) load the store but never Ink, React or the views', async () => {
    const added = await mcc(['add', 'first ticket']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim()).toMatch(/^MC-\d+$/);
    const key = added.stdout.trim();
    const runs = [added, await mcc(['list']), await mcc(['list', '--json']), await mcc(['show', key])];
    for (const [i, run] of runs.entries()) {
      expect(run.code, `run ${i}: ${run.stderr}`).toBe(0);
      // The hook saw the program and the store: an empty or broken log would pass the next line vacuously.
      expect(run.loaded).toContain(`${DIST_URL}/cli/main.js`);
      expect(matching(run, /\/node_modules\/better-sqlite3\//), `run ${i}`).not.toEqual([]);
      expect(consoleModules(run), `run ${i}`).toEqual([]);
    }
    // The executable is the bundle: `mcc list` loads a handful of files, not the ~180 modules tsc emits and zod
    // is made of (each one a resolve, a read and a compile on every run).
    const ours = runs[1]!.files.filter((u) => u.startsWith(`${DIST_URL}/`));
    expect(ours.length, ours.join('\n')).toBeLessThan(20);
    expect(runs[1]!.loaded.length).toBeGreaterThan(100);
    expect(runs[1]!.stdout).toContain('first ticket');
    expect((JSON.parse(runs[2]!.stdout) as { ticket: { key: string } }[]).map((t) => t.ticket.key)).toEqual([key]);
    // No command loads a process library: show asks tmux about the ticket's pane through node:child_process.
    for (const run of runs) expect(matching(run, /\/node_modules\/execa\//)).toEqual([]);
    expect(runs[3]!.loaded).toContain(`${DIST_URL}/probes/command-runner.node.js`);
  });

  it('--help loads neither the store, nor zod, nor the probes, nor the console', async () => {
    const help = await mcc(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('commands:');
    expect(help.loaded).toContain(`${DIST_URL}/cli/main.js`);
    expect(consoleModules(help)).toEqual([]);
    expect(matching(help, /\/node_modules\/(better-sqlite3|zod|execa)\//)).toEqual([]);
    expect(matching(help, new RegExp(`^${DIST_URL}/(store|probes)/`))).toEqual([]);
  });

  it('console loads Ink, React and the views (and without a terminal refuses with exit 2)', async () => {
    const run = await mcc(['console']);
    expect(run.stderr).toContain('the console needs a terminal');
    expect(run.code).toBe(2);
    expect(matching(run, /\/node_modules\/ink\//)).not.toEqual([]);
    expect(matching(run, /\/node_modules\/react\//)).not.toEqual([]);
    expect(run.loaded).toContain(`${DIST_URL}/ui/app.js`);
  });
});
