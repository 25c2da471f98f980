// Expected failures are values with a code; exceptions are for bugs.

export type ErrorCode =
  | 'conflict' // state changed underneath, or held by someone else (exit 3)
  | 'not_found' // no such ticket / runtime (exit 4)
  | 'invalid' // bad input (exit 2)
  | 'probe_unknown' // tmux or /proc could not be observed: nothing destructive was done (exit 1)
  | 'tmux_failed' // a tmux command failed (exit 1)
  | 'git_failed' // a git command failed (exit 1)
  | 'store_failed' // the store could not be written (disk full, I/O error, read-only): nothing was written (exit 1)
  | 'not_ready'; // the runtime cannot take input now; the message stays queued

export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
  /** Who holds the ticket, for conflicts. */
  holder?: string;
}

/**
 * A store operation whose port signature has no failure channel could not be done (the disk is full, an I/O
 * error): expected on real machines, so the CLI prints its message, not a stack trace. Nothing was written.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

export type Result<T> = { ok: true; value: T } | Failure;

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string, extra: { holder?: string } = {}): Failure {
  return { ok: false, code, message, ...extra };
}

/** Process exit code for an error code; the CLI contract documented in the README. */
export function exitCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'invalid':
      return 2;
    case 'conflict':
      return 3;
    case 'not_found':
      return 4;
    case 'probe_unknown':
    case 'tmux_failed':
    case 'git_failed':
    case 'store_failed':
    case 'not_ready':
      return 1;
    default: {
      const never: never = code;
      throw new Error(`unhandled error code ${String(never)}`);
    }
  }
}
