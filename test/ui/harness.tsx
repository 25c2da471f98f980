// The console against a real store (temp dir) and real tmux (private socket), rendered by ink-testing-library.
// Tests press COMMANDS (resolved through the keymap) and wait for frame predicates with a deadline.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { openContext, type McContext } from '../../src/cli/context.js';
import { ConsoleController } from '../../src/core/console-controller.js';
import type { PromptLogEntry } from '../../src/demo-agent/logs.js';
import { App } from '../../src/ui/app.js';
import { commandOf, keySequence, type CommandId } from '../../src/ui/keymap.js';
import { cellWidth } from '../../src/ui/text.js';
import { DEMO_MAIN } from '../global-setup.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';

type Stdin = { write(data: string): void };
type Ink = ReturnType<typeof render>;

/** Type the default key of a command, looked up in the keymap. */
export function press(stdin: Stdin, id: CommandId): void {
  const key = commandOf(id).keys[0];
  if (key === undefined) throw new Error(`${id} has no key`);
  stdin.write(keySequence(key));
}

/** Poll the last frame until `predicate` holds; at the deadline throw with the frame. Never a fixed sleep. */
export async function waitForFrame(
  lastFrame: () => string | undefined,
  predicate: (frame: string) => boolean,
  what = 'a matching frame',
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (predicate(frame)) return frame;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last frame:\n${frame}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Styling Ink adds (SGR), removed so assertions see the text. */
export function plain(frame: string): string {
  return frame.replace(/\x1b\[[0-9;]*m/g, '');
}

/** The frame line that shows a ticket (the grid row), or ''. */
export function rowOf(frame: string, key: string): string {
  return (
    plain(frame)
      .split('\n')
      .find((l) => new RegExp(`^[ >] ${key} `).test(l)) ?? ''
  );
}

/** Every frame line fits `columns`, and there are at most `lines` of them. */
export function fits(frame: string, columns: number, lines: number): boolean {
  const ls = plain(frame).split('\n');
  return ls.length <= lines && ls.every((l) => cellWidth(l) <= columns);
}

export interface ConsoleHarness {
  ctx: McContext;
  ink: Ink;
  sock: TmuxSocket;
  dir: TmpDir;
  dbPath: string;
  attached: string[];
  quits: number;
  press(id: CommandId): void;
  type(text: string): void;
  frame(): string;
  waitFor(predicate: (frame: string) => boolean, what?: string, timeoutMs?: number): Promise<string>;
  /** Change the terminal size the App sees, as a resize would. */
  resize(columns: number, rows: number): void;
  /** The demo agent's prompt log (`promptLog: true`), one entry per accepted prompt; [] before the first. */
  prompts(): PromptLogEntry[];
  /** Write the store's SQLite file directly, as another program (or a hand fix) would. */
  sql(statement: string, ...params: unknown[]): void;
  /** Stop the console and close the store, keeping the temp dir and the tmux server (for `reuse`). */
  close(): Promise<void>;
  /** close(), then kill the private tmux server and remove the temp dir. */
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  readonly?: boolean;
  /** A tmux binary that fails, to see an unknown observation. */
  brokenTmux?: string;
  columns?: number;
  rows?: number;
  /** Open the same store and socket as a closed harness (a console restarted); cleaning up this one cleans both. */
  reuse?: Pick<ConsoleHarness, 'dir' | 'sock'>;
  /** Extra fields of the demo profile (e.g. `checks`), as the config file spells them. */
  profile?: Record<string, unknown>;
  /** Let the demo agent log its prompts in the temp dir (read them with `prompts()`). */
  promptLog?: boolean;
}

function promptLogPath(dir: string): string {
  return join(dir, 'demo.prompt.jsonl');
}

function writeConfig(dir: string, opts: HarnessOptions): string {
  const path = join(dir, 'config.json');
  const logFlags = opts.promptLog ? ['--prompt-log', promptLogPath(dir)] : [];
  const demo = {
    command: [process.execPath, DEMO_MAIN, '--boot-ms', '200', '--work-ms', '5000', ...logFlags],
    ready: '^demo> ?$',
    busy: 'esc to interrupt',
    question: '^QUESTION:',
    interrupt: ['Escape'],
    submit: ['Enter'],
    ...opts.profile,
  };
  writeFileSync(path, JSON.stringify({ ttlSeconds: 2, intervalSeconds: 0.2, retryLimit: 3, profiles: { demo } }));
  return path;
}

/** A PATH-less shim that fails every tmux call with an odd error. */
export function brokenTmuxShim(dir: string): string {
  const path = join(dir, 'tmux-broken');
  writeFileSync(path, '#!/bin/sh\necho "tmux: lost server protocol (odd error 4711)" >&2\nexit 1\n');
  chmodSync(path, 0o700);
  return path;
}

/** Open a real context in a temp dir on a private tmux socket and render the console for it. */
export async function startConsole(opts: HarnessOptions = {}): Promise<ConsoleHarness> {
  const dir = opts.reuse?.dir ?? makeTmpDir('mcc-ui-test-');
  const sock = opts.reuse?.sock ?? makeTmuxSocket('mcc-ui-test');
  const dbPath = join(dir.path, 'mc.db');
  const env: NodeJS.ProcessEnv = {
    ...sock.env,
    MCC_DB: dbPath,
    MCC_TMUX_SOCKET: sock.name,
    MCC_CONFIG: writeConfig(dir.path, opts),
  };
  if (opts.brokenTmux) env['MCC_TMUX_BIN'] = opts.brokenTmux;
  const opened = await openContext({ env, actor: 'console:test' });
  if (!opened.ok) throw new Error(`openContext: ${opened.message}`);
  const ctx = opened.value;
  const controller = new ConsoleController(ctx.service, { intervalMs: 200, readonly: Boolean(opts.readonly) });
  let closed = false;
  const h = {
    attached: [] as string[],
    quits: 0,
  };
  const ink = render(
    <App
      service={ctx.service}
      controller={controller}
      readonly={Boolean(opts.readonly)}
      dbPath={dbPath}
      socket={ctx.config.socket}
      color={false}
      onAttach={(s) => h.attached.push(s)}
      onQuit={() => h.quits++}
    />,
  );
  const resize = (columns: number, rows: number) => {
    Object.defineProperty(ink.stdout, 'columns', { configurable: true, get: () => columns });
    Object.defineProperty(ink.stdout, 'rows', { configurable: true, get: () => rows });
    ink.stdout.emit('resize');
  };
  resize(opts.columns ?? 100, opts.rows ?? 24);
  controller.start();
  return Object.assign(h, {
    ctx,
    ink,
    sock,
    dir,
    dbPath,
    press: (id: CommandId) => press(ink.stdin, id),
    type: (text: string) => ink.stdin.write(text),
    frame: () => plain(ink.lastFrame() ?? ''),
    waitFor: (predicate: (f: string) => boolean, what?: string, timeoutMs?: number) =>
      waitForFrame(() => plain(ink.lastFrame() ?? ''), predicate, what, timeoutMs),
    resize,
    prompts(): PromptLogEntry[] {
      const log = promptLogPath(dir.path);
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as PromptLogEntry);
    },
    sql(statement: string, ...params: unknown[]) {
      const db = new Database(dbPath);
      try {
        db.prepare(statement).run(...params);
      } finally {
        db.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      ink.unmount();
      // A refresh still in flight would read a closed store: stop the poller first.
      await controller.stop();
      ctx.close();
    },
    async cleanup() {
      await this.close();
      await sock.cleanup();
      dir.cleanup();
    },
  });
}
