// A private tmux server per test: `tmux -L mcc-demo-test-<pid>-<rand>`, never the default server.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MAIN, ROOT } from '../global-setup.js';

const TARGET = 'demo';

/** Last non-empty line of a captured screen (what the `ready` regex is matched against). */
export function lastLine(screen: string): string {
  const lines = screen.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

export const isReady = (screen: string): boolean => /^demo> ?$/m.test(lastLine(screen));
export const count = (screen: string, needle: string): number => screen.split(needle).length - 1;

export class DemoPane {
  readonly socket = `mcc-demo-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'mcc-demo-test-'));
  private readonly conf = join(this.dir, 'tmux.conf');
  private socketPath: string | undefined;
  private readonly env: NodeJS.ProcessEnv;

  constructor() {
    writeFileSync(this.conf, 'set -g remain-on-exit on\n');
    const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;
    this.env = env;
  }

  tmux(args: string[], input?: string): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', this.conf, ...args], {
      input,
      encoding: 'utf8',
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 10_000,
    });
  }

  /** Starts `node dist/demo-agent/main.js <flags>` in a detached 120x40 session. */
  start(flags: string[]): void {
    this.tmux([
      'new-session',
      '-d',
      '-s',
      TARGET,
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      ROOT,
      process.execPath,
      DEMO_MAIN,
      ...flags,
    ]);
    this.socketPath = this.tmux(['display-message', '-p', '#{socket_path}']).trim();
  }

  capture(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', TARGET]);
  }

  /** `<pane_dead> <pane_dead_status>`, e.g. "0 " while alive, "1 3" after exit 3. */
  paneState(): string {
    return this.tmux(['display-message', '-p', '-t', TARGET, '#{pane_dead} #{pane_dead_status}']).trim();
  }

  panePid(): number {
    return Number(this.tmux(['display-message', '-p', '-t', TARGET, '#{pane_pid}']).trim());
  }

  /** Polls the screen until `predicate` holds; throws with the last screen at the deadline. */
  async waitFor(what: string, predicate: (screen: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (predicate(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Waits for the pane's process to exit and returns its exit status. tmux 3.3a sometimes misses the
   * SIGCHLD of a pane process (pane_dead is 1 but pane_dead_status stays empty until some other child of
   * the server exits), so while the status is missing we make the server reap with `run-shell true`.
   */
  async waitForExit(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [dead, status] = this.paneState().split(' ');
      if (dead === '1' && status !== undefined && status !== '') return Number(status);
      if (Date.now() > deadline)
        throw new Error(`pane state is "${this.paneState()}" after ${timeoutMs} ms; screen:\n${this.capture()}`);
      if (dead === '1') this.tmux(['run-shell', 'true']);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Types literal text (no Enter). */
  type(text: string): void {
    this.tmux(['send-keys', '-t', TARGET, '-l', text]);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', TARGET, ...keys]);
  }

  /** Pastes like the product does: load-buffer from stdin, then a bracketed paste that keeps LFs. */
  paste(text: string): void {
    this.tmux(['load-buffer', '-'], text);
    this.tmux(['paste-buffer', '-p', '-d', '-r', '-t', TARGET]);
  }

  dispose(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
    const uid = process.getuid?.() ?? 0;
    rmSync(this.socketPath ?? join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${uid}`, this.socket), { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The JSON lines of a demo agent log (`--input-log`, `--prompt-log`); [] while the file is empty. */
export function readJsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `probe` until it returns a value other than undefined; throws with `what` at the deadline. */
export async function waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
