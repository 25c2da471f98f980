import { isDeepStrictEqual } from 'node:util';
import type { CommandOutcome, CommandRequest, CommandRunner } from '../../src/core/command-runner.port.js';

/** One command the code under test must run next, and what it gets back. */
export interface Expectation {
  file: string;
  args: readonly string[];
  /** When given, stdin must be exactly this; when absent, the request must carry no input. */
  input?: string;
  outcome: CommandOutcome;
}

/**
 * A strict fake CommandRunner (after lazygit's fake_cmd_obj_runner): the code under test must run exactly the
 * expected commands, in order. An unexpected command throws at once and is remembered, so `assertDone()` fails
 * the test even when the code under test swallowed the exception.
 */
export class FakeRunner implements CommandRunner {
  readonly calls: CommandRequest[] = [];
  private readonly queue: Expectation[];
  private readonly errors: string[] = [];

  constructor(expected: Expectation[] = []) {
    this.queue = [...expected];
  }

  /** Append one more expected command. */
  expect(file: string, args: readonly string[], outcome: CommandOutcome, input?: string): this {
    this.queue.push({ file, args, outcome, ...(input !== undefined ? { input } : {}) });
    return this;
  }

  async run(req: CommandRequest): Promise<CommandOutcome> {
    this.calls.push(req);
    const next = this.queue.shift();
    const got = describe(req);
    if (next === undefined) return this.reject(`unexpected command (none expected): ${got}`);
    const mismatch =
      next.file !== req.file ||
      !isDeepStrictEqual([...next.args], [...req.args]) ||
      (next.input !== undefined ? next.input !== req.input : req.input !== undefined);
    if (mismatch) return this.reject(`unexpected command\n  expected: ${describe(next)}\n  got:      ${got}`);
    return { ...next.outcome };
  }

  /** Throws when an expected command was not run, or an unexpected one was. */
  assertDone(): void {
    if (this.errors.length > 0) throw new Error(this.errors.join('\n'));
    if (this.queue.length > 0) {
      throw new Error(`expected commands not run:\n${this.queue.map((e) => `  ${describe(e)}`).join('\n')}`);
    }
  }

  private reject(message: string): never {
    this.errors.push(message);
    throw new Error(message);
  }
}

function describe(r: { file: string; args: readonly string[]; input?: string | undefined }): string {
  const input = r.input !== undefined ? ` <<< ${JSON.stringify(r.input)}` : '';
  return `${r.file} ${JSON.stringify(r.args)}${input}`;
}

/** A successful outcome with the given stdout. */
export function success(stdout = ''): CommandOutcome {
  return { exitCode: 0, stdout, stderr: '' };
}

/** A command that ran and exited non-zero with the given stderr. */
export function exitWith(stderr: string, exitCode = 1, stdout = ''): CommandOutcome {
  return { exitCode, stdout, stderr };
}

/** A command killed by the runner's timeout. */
export function timedOut(): CommandOutcome {
  return { exitCode: null, stdout: '', stderr: '', failure: 'timeout', detail: 'timed out after 5000 ms' };
}

/** A command that could not start at all. */
export function spawnError(detail = 'ENOENT'): CommandOutcome {
  return { exitCode: null, stdout: '', stderr: '', failure: 'spawn_error', detail };
}
