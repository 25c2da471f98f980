import type { Result } from './result.js';

// The git operations work isolation needs, each on one repository named by its main checkout. Failures are
// `git_failed` with git's own words; a lock another git process holds is waited out by the adapter, never
// reported as a failure.

export interface WorktreeEntry {
  path: string;
  /** The branch checked out there (short name), or null when detached. */
  branch: string | null;
}

export interface GitPort {
  /** The branch HEAD of `repo` points at (the default base); `invalid` when HEAD is detached. */
  currentBranch(repo: string): Promise<Result<string>>;
  /** Every worktree of `repo`, the main checkout first. */
  worktrees(repo: string): Promise<Result<WorktreeEntry[]>>;
  branchExists(repo: string, branch: string): Promise<Result<boolean>>;
  /** A new worktree at `path` on `branch`; the branch is created from `newFrom` when given. */
  addWorktree(repo: string, path: string, branch: string, newFrom: string | null): Promise<Result<void>>;
  /** A new worktree at `path` with a detached HEAD at `base` (an empty pool slot). */
  addDetachedWorktree(repo: string, path: string, base: string): Promise<Result<void>>;
  /** Check `branch` out in the worktree at `path`, creating it from `newFrom` when given. */
  switchBranch(repo: string, path: string, branch: string, newFrom: string | null): Promise<Result<void>>;
  /** Uncommitted changes in the worktree at `path` (`git status --porcelain` lines; untracked files count). */
  changes(repo: string, path: string): Promise<Result<string[]>>;
  /** How many commits `branch` has that `base` does not. */
  aheadOf(repo: string, branch: string, base: string): Promise<Result<number>>;
  /** Commits of `branch` that are neither on any remote-tracking branch nor merged into `base`: only here. */
  unsavedCommits(repo: string, branch: string, base: string): Promise<Result<number>>;
  /** Remove a worktree; git itself refuses one with changes (no --force, ever). */
  removeWorktree(repo: string, path: string): Promise<Result<void>>;
}
