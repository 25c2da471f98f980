import { spawn } from 'node:child_process';
import type { CommandOutcome, CommandRequest, CommandRunner } from '../core/command-runner.port.js';

// The real CommandRunner, on node:child_process alone: a one-shot `mcc` that asks tmux once must not pay for a
// process library's module tree (execa's 134 modules cost more than the whole `mcc list` query).

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** More output than this is cut off and reported (a tmux capture of 100,000 lines is far below it). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** After a timeout's SIGTERM, how long a command gets before SIGKILL. */
const KILL_AFTER_MS = 2000;

export interface NodeRunnerOptions {
  /** Used when a request names no timeout. */
  timeoutMs?: number;
  /** Extra environment merged over process.env (e.g. `LC_ALL=C` for a parser that expects English dates). */
  env?: Record<string, string>;
}

/**
 * The real CommandRunner: never throws for a failing command. Timeouts, spawn errors, signals and output
 * overflow come back as `failure` so that callers can tell "the command said no" from "we could not ask".
 * Arguments go to execve as they are: never through a shell.
 */
export class NodeCommandRunner implements CommandRunner {
  private readonly timeoutMs: number;
  private readonly env: Record<string, string> | undefined;

  constructor(opts: NodeRunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.env = opts.env;
  }

  run(req: CommandRequest): Promise<CommandOutcome> {
    return new Promise((resolve) => {
      let child;
      try {
        child = spawn(req.file, [...req.args], {
          // No stdin at all unless we have input: a tmux client must never wait on, or read from, our terminal.
          stdio: [req.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
          ...(this.env !== undefined ? { env: { ...process.env, ...this.env } } : {}),
        });
      } catch (err) {
        // Invalid before any process exists (a NUL byte in an argument).
        resolve({ exitCode: null, stdout: '', stderr: '', failure: 'spawn_error', detail: errorText(err) });
        return;
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let overflow = false;
      let timedOut = false;
      let spawnError: string | null = null;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        if (overflow) return;
        bytes += chunk.length;
        if (bytes > MAX_OUTPUT_BYTES) {
          overflow = true;
          child.kill('SIGKILL');
          return;
        }
        into.push(chunk);
      };
      child.stdout?.on('data', collect(out));
      child.stderr?.on('data', collect(err));
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      }, req.timeoutMs ?? this.timeoutMs);
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = e.code ?? e.message;
      });
      if (req.input !== undefined && child.stdin) {
        // A command that exits without reading all of it closes the pipe: its exit status says what happened.
        child.stdin.on('error', () => undefined);
        child.stdin.end(req.input);
      }
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        const base = {
          exitCode: code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        if (spawnError !== null)
          resolve({ ...base, exitCode: null, failure: 'spawn_error', detail: `${spawnError}: ${req.file}` });
        else if (timedOut)
          resolve({
            ...base,
            exitCode: null,
            failure: 'timeout',
            detail: `timed out after ${req.timeoutMs ?? this.timeoutMs} ms`,
          });
        else if (overflow) resolve({ ...base, failure: 'signal', detail: 'output exceeded the buffer limit' });
        else if (signal !== null)
          resolve({ ...base, exitCode: null, failure: 'signal', detail: `killed by ${signal}` });
        else resolve(base);
      });
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
