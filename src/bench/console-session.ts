import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { IPty } from 'node-pty';
import type { IBufferCell, IBufferLine, Terminal } from '@xterm/headless';
import { HEADER_LINES } from '../ui/layout.js';
import type { Cleanup } from './fixtures.js';

// The console as an operator sees it: `node dist/cli/bin.js` in a pseudo-terminal (node-pty, 80x24), its
// output fed to a headless xterm, and frames read from that screen buffer. No fixed sleeps decide a
// figure: every wait is for a screen predicate or for the output to fall quiet.

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = resolve(here, '../cli/bin.js');
export const RUN_CONSOLE = resolve(here, '../ui/run-console.js');
export const COLS = 80;
export const ROWS = 24;

/** Whether the console has been built (src/ui is finished by another engineer). */
export function consoleBuilt(): boolean {
  return existsSync(BIN) && existsSync(RUN_CONSOLE);
}

export interface ConsoleTarget {
  db: string;
  socket: string;
  config: string;
  intervalSeconds: number;
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=DIR` to see where the console spends its time. */
  nodeArgs?: readonly string[];
  /**
   * MCC_TMUX_EXEC=1: one tmux process per command; otherwise MCC_TMUX_CONTROL=1, the control client even on a tmux
   * before 3.7 (its own throwaway server: the bench measures what the client costs, see controlModeSafe).
   */
  tmuxExec?: boolean;
}

/** A running console: its pid, screen predicates, and key presses timed to the frame they cause. */
export class ConsoleSession {
  private lastDataAt = performance.now();
  private waiters: { pred: () => boolean; resolve: (at: number) => void }[] = [];
  private exited = false;
  private readonly cell: IBufferCell;
  readonly exit: Promise<number>;

  private constructor(
    private readonly pty: IPty,
    private readonly term: Terminal,
    readonly startedAt: number,
  ) {
    this.cell = term.buffer.active.getNullCell();
    pty.onData((d) => {
      this.lastDataAt = performance.now();
      term.write(d, () => this.check());
    });
    this.exit = new Promise((res) =>
      pty.onExit((e) => {
        this.exited = true;
        this.check();
        res(e.exitCode);
      }),
    );
  }

  /** Start the console on `t`; it is killed by the cleanup if the bench stops early. */
  static async start(t: ConsoleTarget, cleanup: Cleanup): Promise<ConsoleSession> {
    const { default: pty } = await import('node-pty');
    const { default: xterm } = await import('@xterm/headless');
    // Ink renders a single final frame when it thinks it runs in CI; an operator's terminal is not CI. The
    // tmux mode is the target's, never one inherited from whoever runs the bench.
    const { CI: _ci, TMUX: _t, TMUX_PANE: _p, MCC_TMUX_EXEC: _x, MCC_TMUX_CONTROL: _c, ...env } = process.env;
    const term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true, scrollback: 0 });
    const t0 = performance.now();
    const p = pty.spawn(process.execPath, [...(t.nodeArgs ?? []), BIN, '--interval', String(t.intervalSeconds)], {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      cwd: dirname(t.db),
      env: {
        ...env,
        TERM: 'xterm-256color',
        MCC_DB: t.db,
        MCC_TMUX_SOCKET: t.socket,
        MCC_CONFIG: t.config,
        ...(t.tmuxExec === true ? { MCC_TMUX_EXEC: '1' } : { MCC_TMUX_CONTROL: '1' }),
      },
    });
    const s = new ConsoleSession(p, term, t0);
    cleanup.add(`console pid ${p.pid}`, () => s.kill());
    return s;
  }

  get pid(): number {
    return this.pty.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The screen as text, one string per row. */
  lines(): string[] {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < ROWS; y++) out.push(buf.getLine(buf.viewportY + y)?.translateToString(true) ?? '');
    return out;
  }

  /** Text and attributes (inverse, bold, colours) of the rows under the header: a selection moved by colour alone still counts. */
  bodySignature(): string {
    const buf = this.term.buffer.active;
    let sig = '';
    for (let y = HEADER_LINES; y < ROWS; y++) {
      const line = buf.getLine(buf.viewportY + y);
      if (line) sig += `${line.translateToString(true)}\u0000${this.attrs(line)}\n`;
    }
    return sig;
  }

  private attrs(line: IBufferLine): string {
    let out = '';
    let last = '';
    for (let x = 0; x < line.length; x++) {
      const c = line.getCell(x, this.cell);
      if (!c) break;
      const a = `${c.isInverse()}${c.isBold()}${c.getFgColorMode()}:${c.getFgColor()}/${c.getBgColorMode()}:${c.getBgColor()}`;
      if (a !== last) out += `${x}=${a};`;
      last = a;
    }
    return out;
  }

  private check(): void {
    const now = performance.now();
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve(now);
      return false;
    });
  }

  /** The time (performance.now) at which the screen first satisfied `pred`, or null at the deadline or exit. */
  until(pred: () => boolean, timeoutMs: number): Promise<number | null> {
    if (pred()) return Promise.resolve(performance.now());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      const waiter = {
        pred: () => this.exited || pred(),
        resolve: (at: number) => {
          clearTimeout(timer);
          resolve(this.exited && !pred() ? null : at);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Wait until no output arrived for `quietMs` (the frame is complete), at most `maxMs`. */
  async quiet(quietMs = 60, maxMs = 3000): Promise<void> {
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline && !this.exited) {
      const idle = performance.now() - this.lastDataAt;
      if (idle >= quietMs) return;
      await new Promise((r) => setTimeout(r, quietMs - idle + 1));
    }
  }

  /** Press `bytes` once the screen is quiet; ms until the body of the screen changed, or NaN if it never did. */
  async press(bytes: string, timeoutMs = 5000): Promise<number> {
    await this.quiet();
    const before = this.bodySignature();
    const t0 = performance.now();
    this.pty.write(bytes);
    const at = await this.until(() => this.bodySignature() !== before, timeoutMs);
    return at === null ? Number.NaN : at - t0;
  }

  /** Quit with `q`; SIGTERM, then SIGKILL, if it does not leave. */
  async quit(): Promise<void> {
    if (this.exited) return;
    this.pty.write('q');
    const gone = await Promise.race([
      this.exit.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    if (!gone) this.kill();
    await Promise.race([this.exit, new Promise((r) => setTimeout(r, 2000))]);
  }

  kill(): void {
    if (this.exited) return;
    try {
      process.kill(this.pty.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
