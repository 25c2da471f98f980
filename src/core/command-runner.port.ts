/** The one seam through which probes run external commands (tmux, ps). */
export interface CommandRequest {
  file: string;
  args: readonly string[];
  /** Text written to the command's stdin (tmux load-buffer -). */
  input?: string;
  timeoutMs?: number;
}

export interface CommandOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not start, timed out or was killed. */
  failure?: 'timeout' | 'spawn_error' | 'signal';
  detail?: string;
}

export interface CommandRunner {
  run(req: CommandRequest): Promise<CommandOutcome>;
}
