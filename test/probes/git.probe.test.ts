// The git adapter on a real repository: a lock another git process holds is waited out, not reported.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandOutcome, CommandRequest } from '../../src/core/command-runner.port.js';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import { GitProbe, parseWorktreeList } from '../../src/probes/git.probe.js';
import { useGitRepo } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/wait.js';

describe('GitProbe', () => {
  it('retries while another process holds a lock, then succeeds', async () => {
    const r = useGitRepo();
    const real = new NodeCommandRunner();
    const outcomes: CommandOutcome[] = [];
    const runner = {
      async run(req: CommandRequest) {
        const out = await real.run(req);
        outcomes.push(out);
        return out;
      },
    };
    const git = new GitProbe({ runner, lockBackoffMs: Array.from({ length: 200 }, () => 25) });
    // Another git holds the ref lock of the branch the worktree creates.
    mkdirSync(join(r.repo, '.git', 'refs', 'heads', 'mc'), { recursive: true });
    const lock = join(r.repo, '.git', 'refs', 'heads', 'mc', 'MC-1.lock');
    writeFileSync(lock, '');
    const path = join(r.root, 'MC-1');
    const pending = git.addWorktree(r.repo, path, 'mc/MC-1', 'main');
    await waitFor(
      'a refused attempt',
      () => outcomes.length,
      (n) => n >= 2,
    );
    expect(outcomes[0]?.stderr).toMatch(/lock/);
    rmSync(lock);
    expect(await pending).toEqual({ ok: true, value: undefined });
    expect(existsSync(join(path, 'README'))).toBe(true);
    expect(await git.worktrees(r.repo)).toEqual({
      ok: true,
      value: [
        { path: r.repo, branch: 'main' },
        { path, branch: 'mc/MC-1' },
      ],
    });
  });

  it('a failure that is not a lock is reported at once, in git own words', async () => {
    const r = useGitRepo();
    const git = new GitProbe({ runner: new NodeCommandRunner() });
    const res = await git.aheadOf(r.repo, 'mc/none', 'main');
    expect(res).toMatchObject({ ok: false, code: 'git_failed' });
    expect(res.ok ? '' : res.message).toContain('mc/none');
  });

  it('parses detached and branch records', () => {
    expect(parseWorktreeList('worktree /a\nHEAD 1\nbranch refs/heads/main\n\nworktree /b\nHEAD 2\ndetached\n')).toEqual(
      [
        { path: '/a', branch: 'main' },
        { path: '/b', branch: null },
      ],
    );
  });
});
