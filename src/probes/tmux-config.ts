import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The configuration our private tmux server starts with (`tmux -f`). Passing our own file also keeps the
 * operator's ~/.tmux.conf and /etc/tmux.conf (hooks, default-command, remain-on-exit off) out of our server.
 * remain-on-exit keeps a dead agent's pane, with pane_dead_status, until the reconciler has seen and closed it.
 * scroll-on-clear off: an agent that clears its whole screen (leaving a sign-in menu) must not have that screen
 * pushed into history right above its new output, where the readiness tail would still read it. The option is
 * tmux >= 3.3; -q lets an older server start without it.
 */
export const TMUX_CONFIG = [
  '# Written by mcc for its private tmux socket; read only when mcc starts that server.',
  'set -g remain-on-exit on',
  'set -g history-limit 5000',
  'set -g exit-empty on',
  'set -g default-size 200x50',
  'set -gq scroll-on-clear off',
  '',
].join('\n');

/** `$XDG_STATE_HOME/mcc/tmux.conf`, else `~/.local/state/mcc/tmux.conf`. */
export function defaultTmuxConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env['XDG_STATE_HOME'];
  const base = state !== undefined && state.startsWith('/') ? state : join(homedir(), '.local', 'state');
  return join(base, 'mcc', 'tmux.conf');
}

/** Write TMUX_CONFIG to `path` (0600, directory 0700) unless it already holds exactly that; throws on I/O errors. */
export function ensureTmuxConfig(path: string): void {
  let current: string | null = null;
  try {
    current = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (current === TMUX_CONFIG) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Write then rename, so a server starting concurrently never reads half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, TMUX_CONFIG, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
