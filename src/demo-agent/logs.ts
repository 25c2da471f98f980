// The demo agent's evidence for tests: what reached it while it could not take input, and every prompt it
// accepted. JSON lines, appended synchronously so a test that sees the screen change can read the entry.
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';

/** Where the agent was when input arrived that it did not take as a prompt. */
export type NotReadyPhase = 'signin' | 'booting' | 'working';
/** What became of that input: dropped, an interrupt of the work, kept for later (no terminal), or leaving sign-in. */
export type InputEffect = 'ignored' | 'interrupt' | 'queued' | 'continue';

export interface InputLogEntry {
  ts: string;
  phase: NotReadyPhase;
  effect: InputEffect;
  /** The chunk as received; JSON escapes its control characters (ESC is \u001b). */
  bytes: string;
}

export interface PromptLogEntry {
  ts: string;
  /** The agent that accepted it: a text accepted by two agents is told apart from one typed twice into one. */
  pid: number;
  prompt: number;
  lines: number;
  chars: number;
  text: string;
}

export class DemoLogs {
  private constructor(
    private inputFd: number | null,
    private promptFd: number | null,
  ) {}

  /** Opens (creating, appending) the logs that were asked for; throws an Error naming the flag and the path. */
  static open(paths: { inputLog: string | null; promptLog: string | null }): DemoLogs {
    const created = paths.inputLog !== null && !existsSync(paths.inputLog) ? paths.inputLog : null;
    const input = openLog('--input-log', paths.inputLog);
    try {
      return new DemoLogs(input, openLog('--prompt-log', paths.promptLog));
    } catch (err) {
      if (input !== null) closeSync(input);
      if (created !== null) rmSync(created, { force: true }); // nothing half-made when the second one fails
      throw err;
    }
  }

  input(entry: Omit<InputLogEntry, 'ts'>): void {
    if (this.inputFd !== null) writeSync(this.inputFd, `${JSON.stringify({ ts: now(), ...entry })}\n`);
  }

  prompt(entry: Omit<PromptLogEntry, 'ts' | 'pid'>): void {
    if (this.promptFd !== null)
      writeSync(this.promptFd, `${JSON.stringify({ ts: now(), pid: process.pid, ...entry })}\n`);
  }

  close(): void {
    for (const fd of [this.inputFd, this.promptFd]) if (fd !== null) closeSync(fd);
    this.inputFd = null;
    this.promptFd = null;
  }
}

const now = (): string => new Date().toISOString();

function openLog(flag: string, path: string | null): number | null {
  if (path === null) return null;
  try {
    return openSync(path, 'a');
  } catch (err) {
    throw new Error(`${flag} ${path}: cannot open for appending (${err instanceof Error ? err.message : String(err)})`);
  }
}
