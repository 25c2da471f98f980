import { homedir } from 'node:os';
import { join } from 'node:path';

/** The store file: `--db`, else `MCC_DB`, else `$XDG_STATE_HOME/mcc/mcc.db`, else `~/.local/state/mcc/mcc.db`. */
export function resolveDbPath(input: { flag?: string; env: NodeJS.ProcessEnv }): string {
  if (input.flag !== undefined && input.flag !== '') return input.flag;
  const fromEnv = input.env['MCC_DB'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = input.env['XDG_STATE_HOME'];
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'mcc', 'mcc.db');
  const home = input.env['HOME'] !== undefined && input.env['HOME'] !== '' ? input.env['HOME'] : homedir();
  return join(home, '.local', 'state', 'mcc', 'mcc.db');
}

/** True when a `--db` / MCC_DB value names a PostgreSQL server store (by its URL scheme) rather than a file. */
export function isServerStore(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}
