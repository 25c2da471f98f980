// A private tmux socket per test (`tmux -L mcc-test-<pid>-<rand>`); cleanup kills that server and removes its
// socket file by name. The operator's default server is never touched.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TmuxSocket {
  name: string;
  /** Where tmux puts the socket file for `-L name` (TMUX_TMPDIR or /tmp, then tmux-<uid>). */
  path: string;
  /** Environment for running tmux in tests: without TMUX / TMUX_PANE, so a test run inside tmux is not confused. */
  env: NodeJS.ProcessEnv;
  /** `tmux -L name ...` with a 10 s timeout; rejects on a non-zero exit. */
  tmux(args: string[]): Promise<{ stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

/** Where tmux keeps the socket file of `-L name` for this user. */
export function socketPath(name: string): string {
  const uid = process.getuid?.() ?? 0;
  return join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${uid}`, name);
}

/** A new unique socket name with helpers; call cleanup (e.g. from onTestFinished) when done. */
export function makeTmuxSocket(prefix = 'mcc-test'): TmuxSocket {
  const name = `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const { TMUX: _t, TMUX_PANE: _p, ...env } = process.env;
  const tmux = (args: string[]) => execFileP('tmux', ['-L', name, ...args], { env, timeout: 10_000, encoding: 'utf8' });
  return {
    name,
    path: socketPath(name),
    env,
    tmux,
    async cleanup() {
      await tmux(['kill-server']).catch(() => undefined);
      // kill-server leaves the socket file behind.
      rmSync(socketPath(name), { force: true });
    },
  };
}

/** Run `fn` with a fresh socket, always cleaning it up. */
export async function withTmuxSocket<T>(fn: (s: TmuxSocket) => Promise<T>): Promise<T> {
  const s = makeTmuxSocket();
  try {
    return await fn(s);
  } finally {
    await s.cleanup();
  }
}
