// The review checks' seam: run one argv in a workdir under a time limit, and read what a git workdir says
// about its branch. The adapter lives in src/probes (child processes); core decides when and records.

export interface CheckRequest {
  argv: readonly string[];
  cwd: string;
  timeoutMs: number;
  /** How many of the last output lines (stdout and stderr interleaved) to keep. */
  tailLines: number;
  /** Aborting kills the check (the process that runs it is stopping). */
  signal?: AbortSignal;
}

export interface CheckRun {
  argv: readonly string[];
  /** null when it did not exit by itself (timed out, killed, could not start). */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** Raw last lines of its output; core sanitizes them before they are stored. */
  tail: string[];
  /** Why it could not start or how it ended abnormally, in words; null for a plain exit. */
  error: string | null;
}

export interface GitEvidence {
  branch: string;
  /** The ref the branch is compared with and the merge base found. */
  base: string;
  diffStat: string[];
  commits: string[];
}

export interface ChecksPort {
  run(req: CheckRequest): Promise<CheckRun>;
  /** The branch's diff stat and commits against its base; null when `cwd` is not a git work tree. */
  git(cwd: string, opts: { maxLines: number }): Promise<GitEvidence | null>;
}
