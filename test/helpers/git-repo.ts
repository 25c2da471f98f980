// A real git repository in a temp dir (branch main, one commit), removed when the test ends.
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { makeTmpDir } from './tmp.js';

export interface TestRepo {
  /** The main checkout (real path, as git prints it). */
  repo: string;
  /** A directory beside it for worktrees. */
  root: string;
  git(args: string[], cwd?: string): string;
}

/** A repository with one commit on `main`; its worktrees go to `root`. */
export function useGitRepo(): TestRepo {
  const tmp = makeTmpDir('mcc-git-');
  onTestFinished(() => tmp.cleanup());
  const base = realpathSync(tmp.path);
  const repo = join(base, 'repo');
  mkdirSync(repo);
  const git = (args: string[], cwd = repo) =>
    execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git(['init', '-q', '-b', 'main']);
  git(['config', 'user.name', 'mcc test']);
  git(['config', 'user.email', 'mcc@example.invalid']);
  writeFileSync(join(repo, 'README'), 'hello\n');
  git(['add', 'README']);
  git(['commit', '-q', '-m', 'first']);
  return { repo, root: join(base, 'repo.mcc-worktrees'), git };
}
