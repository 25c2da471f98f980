import type { CommandOutcome, CommandRequest, CommandRunner } from '../core/command-runner.port.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

export interface ExecaRunnerOptions {
  /** Used when a request names no timeout. */
  timeoutMs?: number;
  /** Extra environment merged over process.env (e.g. `LC_ALL=C` for a parser that expects English dates). */
  env?: Record<string, string>;
}

/**
 * The real CommandRunner: never throws for a failing command. Timeouts, spawn errors, signals and output
 * overflow come back as `failure` so that callers can tell "the command said no" from "we could not ask".
 */
export class ExecaCommandRunner implements CommandRunner {
  private readonly timeoutMs: number;
  private readonly env: Record<string, string> | undefined;

  constructor(opts: ExecaRunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.env = opts.env;
  }

  async run(req: CommandRequest): Promise<CommandOutcome> {
    // Loaded on the first command, not with this module: `mcc list` runs none, and execa's module tree costs a
    // one-shot command more than its whole store query.
    const { execa } = await import('execa');
    try {
      const r = await execa(req.file, [...req.args], {
        // No stdin at all unless we have input: a tmux client must never wait on, or read from, our terminal.
        ...(req.input !== undefined ? { input: req.input } : { stdin: 'ignore' as const }),
        timeout: req.timeoutMs ?? this.timeoutMs,
        reject: false,
        stripFinalNewline: false,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        ...(this.env !== undefined ? { env: this.env } : {}),
      });
      const base = { exitCode: r.exitCode ?? null, stdout: asText(r.stdout), stderr: asText(r.stderr) };
      if (r.timedOut) return { ...base, exitCode: null, failure: 'timeout', detail: r.shortMessage ?? 'timed out' };
      if (r.isMaxBuffer) return { ...base, failure: 'signal', detail: 'output exceeded the buffer limit' };
      if (r.signal !== undefined)
        return { ...base, exitCode: null, failure: 'signal', detail: `killed by ${r.signal}` };
      if (r.exitCode === undefined) {
        return {
          ...base,
          exitCode: null,
          failure: 'spawn_error',
          detail: r.code ?? r.shortMessage ?? 'could not start',
        };
      }
      return base;
    } catch (err) {
      // execa rejects synchronously-invalid options (e.g. a NUL byte in an argument) even with reject: false.
      return { exitCode: null, stdout: '', stderr: '', failure: 'spawn_error', detail: errorText(err) };
    }
  }
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
