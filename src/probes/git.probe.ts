import type { CommandOutcome, CommandRunner } from '../core/command-runner.port.js';
import type { GitPort, WorktreeEntry } from '../core/git.port.js';
import { fail, ok, type Result } from '../core/result.js';

// The git adapter over the command-runner seam: argv only, always `git -C <dir>`. Commands on one repository
// run one at a time in this process, and a lock another git process holds (`index.lock`, a ref's `.lock`) is
// retried with backoff: two pickups in two processes wait for each other instead of failing.

export interface GitProbeOptions {
  runner: CommandRunner;
  gitBin?: string;
  /** Waits between attempts while a lock is held (ms); the default waits about 6 s in all. */
  lockBackoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
}

const DEFAULT_BACKOFF = [50, 100, 200, 400, 800, 1600, 3000];

/** git's words for a lock file another process holds. */
export function isLockContention(stderr: string): boolean {
  return /Unable to create '[^']*\.lock': File exists|cannot lock ref|index\.lock/i.test(stderr);
}

export class GitProbe implements GitPort {
  private readonly gitBin: string;
  private readonly backoff: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: GitProbeOptions) {
    this.gitBin = opts.gitBin ?? 'git';
    this.backoff = opts.lockBackoffMs ?? DEFAULT_BACKOFF;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Run `git -C dir args` after the repository's previous command, retrying while a lock is held. */
  private git(repo: string, dir: string, args: readonly string[]): Promise<CommandOutcome> {
    const prev = this.queues.get(repo) ?? Promise.resolve();
    const next = prev.then(() => this.attempt(dir, args));
    const settled = next.catch(() => undefined);
    this.queues.set(repo, settled);
    void settled.then(() => {
      if (this.queues.get(repo) === settled) this.queues.delete(repo);
    });
    return next;
  }

  private async attempt(dir: string, args: readonly string[]): Promise<CommandOutcome> {
    for (let i = 0; ; i++) {
      const out = await this.opts.runner.run({
        file: this.gitBin,
        args: ['-C', dir, ...args],
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
      });
      const wait = this.backoff[i];
      if (out.exitCode === 0 || wait === undefined || !isLockContention(out.stderr)) return out;
      await this.sleep(wait);
    }
  }

  private async must(repo: string, dir: string, args: readonly string[]): Promise<Result<string>> {
    const out = await this.git(repo, dir, args);
    if (out.exitCode === 0) return ok(out.stdout);
    return fail('git_failed', `git -C ${dir} ${args.join(' ')}: ${describe(out)}`);
  }

  async currentBranch(repo: string): Promise<Result<string>> {
    const out = await this.git(repo, repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    if (out.exitCode === 0) return ok(out.stdout.trim());
    if (out.exitCode === 1 && !out.failure)
      return fail('invalid', `${repo}: HEAD is detached; name the base branch in the profile's workspace.base`);
    return fail('git_failed', `${repo}: cannot read HEAD: ${describe(out)}`);
  }

  async worktrees(repo: string): Promise<Result<WorktreeEntry[]>> {
    const out = await this.must(repo, repo, ['worktree', 'list', '--porcelain']);
    if (!out.ok) return out;
    return ok(parseWorktreeList(out.value));
  }

  async branchExists(repo: string, branch: string): Promise<Result<boolean>> {
    const out = await this.git(repo, repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
    if (out.exitCode === 0) return ok(true);
    if (out.exitCode === 1 && !out.failure) return ok(false);
    return fail('git_failed', `${repo}: cannot look up branch ${branch}: ${describe(out)}`);
  }

  async addWorktree(repo: string, path: string, branch: string, newFrom: string | null): Promise<Result<void>> {
    const args =
      newFrom === null ? ['worktree', 'add', path, branch] : ['worktree', 'add', '-b', branch, path, newFrom];
    return unit(await this.must(repo, repo, args));
  }

  async addDetachedWorktree(repo: string, path: string, base: string): Promise<Result<void>> {
    return unit(await this.must(repo, repo, ['worktree', 'add', '--detach', path, base]));
  }

  async switchBranch(repo: string, path: string, branch: string, newFrom: string | null): Promise<Result<void>> {
    const args = newFrom === null ? ['switch', branch] : ['switch', '--no-track', '-c', branch, newFrom];
    return unit(await this.must(repo, path, args));
  }

  async changes(repo: string, path: string): Promise<Result<string[]>> {
    const out = await this.must(repo, path, ['status', '--porcelain']);
    if (!out.ok) return out;
    return ok(out.value.split('\n').filter((l) => l.trim() !== ''));
  }

  async aheadOf(repo: string, branch: string, base: string): Promise<Result<number>> {
    return count(await this.must(repo, repo, ['rev-list', '--count', `${base}..${branch}`]));
  }

  async unsavedCommits(repo: string, branch: string, base: string): Promise<Result<number>> {
    return count(await this.must(repo, repo, ['rev-list', '--count', branch, '--not', base, '--remotes']));
  }

  async removeWorktree(repo: string, path: string): Promise<Result<void>> {
    return unit(await this.must(repo, repo, ['worktree', 'remove', path]));
  }
}

/** `git worktree list --porcelain` -> entries (blank-line separated records). */
export function parseWorktreeList(text: string): WorktreeEntry[] {
  const out: WorktreeEntry[] = [];
  for (const record of text.split(/\n\n+/)) {
    let path: string | null = null;
    let branch: string | null = null;
    for (const line of record.split('\n')) {
      if (line.startsWith('worktree ')) path = line.slice('worktree '.length);
      else if (line.startsWith('branch ')) branch = line.slice('branch '.length).replace(/^refs\/heads\//, '');
    }
    if (path !== null) out.push({ path, branch });
  }
  return out;
}

function describe(out: CommandOutcome): string {
  if (out.failure) return `${out.failure}${out.detail ? ` (${out.detail})` : ''}`;
  return out.stderr.trim() || `exit ${out.exitCode}`;
}

function unit(r: Result<string>): Result<void> {
  return r.ok ? ok(undefined) : r;
}

function count(r: Result<string>): Result<number> {
  if (!r.ok) return r;
  const n = Number.parseInt(r.value.trim(), 10);
  return Number.isNaN(n) ? fail('git_failed', `git rev-list printed ${JSON.stringify(r.value)}`) : ok(n);
}
