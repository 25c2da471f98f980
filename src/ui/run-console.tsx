import { spawnSync } from 'node:child_process';
import { render } from 'ink';
import type { Config } from '../core/config.js';
import { ConsoleController } from '../core/console-controller.js';
import type { MissionControl } from '../core/service.js';
import { App } from './app.js';
import { createUiStore, type UiStore } from './ui-store.js';

// Runs the console in this terminal: a controller polls, Ink renders the App, and `t` hands the terminal
// to `tmux attach` (Ink unmounted, stdio inherited) and takes it back on detach. Quitting stops only our
// poller: the agents keep running in their tmux sessions.

/** What the console needs from the CLI's context (McContext fits). */
export interface ConsoleContext {
  service: MissionControl;
  config: Config;
  dbPath: string;
}

export interface ConsoleOptions {
  readonly: boolean;
  intervalMs: number;
}

type Exit = { kind: 'quit' } | { kind: 'attach'; session: string };

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[H\x1b[2J';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/** One mounted App until the operator quits or attaches. */
function renderUntilExit(
  ctx: ConsoleContext,
  controller: ConsoleController,
  ui: UiStore,
  opts: ConsoleOptions,
): Promise<Exit> {
  return new Promise((resolve) => {
    let exit: Exit | null = null;
    // Unmount outside the key handler that asked for it, so Ink finishes the keypress first.
    const finish = (e: Exit) => {
      if (exit) return;
      exit = e;
      setImmediate(() => instance.unmount());
    };
    const instance = render(
      <App
        service={ctx.service}
        controller={controller}
        readonly={opts.readonly}
        dbPath={ctx.dbPath}
        socket={ctx.config.socket}
        ui={ui}
        onQuit={() => finish({ kind: 'quit' })}
        onAttach={(session) => finish({ kind: 'attach', session })}
      />,
      { exitOnCtrlC: false },
    );
    // Ink also unmounts on its own (SIGTERM, SIGHUP on SSH logout): that is a quit.
    void instance.waitUntilExit().then(
      () => resolve(exit ?? { kind: 'quit' }),
      () => resolve(exit ?? { kind: 'quit' }),
    );
  });
}

/** Give the terminal to `tmux attach`; true when tmux exited cleanly (the operator detached). */
function attach(
  ctx: ConsoleContext,
  session: string,
  alt: boolean,
  readonly: boolean,
): { ok: boolean; detail: string } {
  const argv = ctx.service.attachArgv(session);
  // A read-only console attaches a read-only client: watching must not be able to type into an agent.
  if (readonly) argv.push('-r');
  // Inside tmux, `tmux attach` refuses to nest while TMUX is set; our server is a different one anyway.
  const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;
  if (alt) process.stdout.write(ALT_SCREEN_OFF);
  const res = spawnSync(argv[0] as string, argv.slice(1), { stdio: 'inherit', env });
  if (alt) process.stdout.write(ALT_SCREEN_ON);
  if (res.error) return { ok: false, detail: `could not run ${argv[0]}: ${res.error.message}` };
  if (res.status !== 0) return { ok: false, detail: `tmux attach exited ${res.status ?? res.signal}` };
  return { ok: true, detail: '' };
}

/** Run the interactive console until `q`; resolves with the exit code. Never touches the runtimes on exit. */
export async function runConsole(ctx: ConsoleContext, opts: ConsoleOptions): Promise<number> {
  if (!process.stdin.isTTY) {
    process.stderr.write(
      'mcc: the console needs a terminal (stdin is not a TTY); use `mcc list` or `mcc --auto` instead\n',
    );
    return 2;
  }
  const controller = new ConsoleController(ctx.service, { intervalMs: opts.intervalMs, readonly: opts.readonly });
  const ui = createUiStore();
  const alt = Boolean(process.stdout.isTTY);
  if (alt) process.stdout.write(ALT_SCREEN_ON);
  controller.start();
  try {
    for (;;) {
      const exit = await renderUntilExit(ctx, controller, ui, opts);
      if (exit.kind === 'quit') return 0;
      const res = attach(ctx, exit.session, alt, opts.readonly);
      ui.getState().flash(
        res.ok ? `attach: back from ${exit.session}` : `attach: ${res.detail}`,
        res.ok ? 'ok' : 'error',
      );
      controller.poke();
    }
  } finally {
    await controller.stop();
    if (alt) process.stdout.write(ALT_SCREEN_OFF);
  }
}
