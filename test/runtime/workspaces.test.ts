// Work isolation on real git repositories and the real binary on a private tmux socket: each ticket gets its
// own worktree and branch, nothing with work in it is ever deleted, a dirty pool slot is skipped, and a pickup
// that crashed after making its worktree converges in one pass and is reused by the retry.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGitRepo, type TestRepo } from '../helpers/git-repo.js';
import { useHarness, waitUntilTime, type Harness } from './helpers.js';

function withWorkspace(h: Harness, workspace: Record<string, unknown>): void {
  const config = JSON.parse(readFileSync(h.configPath, 'utf8')) as {
    profiles: Record<string, Record<string, unknown>>;
  };
  const demo = config.profiles['demo'] ?? {};
  config.profiles['demo'] = { ...demo, workspace };
  writeFileSync(h.configPath, JSON.stringify(config, null, 2));
}

async function ok(h: Harness, args: string[]): Promise<string> {
  const r = await h.mcc(args);
  expect(r.exitCode, `mcc ${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
  return r.stdout;
}

async function addTickets(h: Harness, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await ok(h, ['add', `ticket ${i}`]);
}

async function paneCwd(h: Harness, key: string): Promise<string> {
  const r = await h.mcc(['show', key, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runtimes: { workdir: string | null }[] }).runtimes[0]?.workdir ?? '';
}

interface Listed {
  path: string;
  ticket: string | null;
  branch: string | null;
  dirty: boolean;
  keep: boolean;
  why: string[];
}

async function worktrees(h: Harness): Promise<Listed[]> {
  return JSON.parse(await ok(h, ['worktrees', '--json'])) as Listed[];
}

function branches(r: TestRepo): string[] {
  return r.git(['branch', '--format=%(refname:short)']).split('\n').filter(Boolean).sort();
}

describe('workspaces', () => {
  it('three tickets on one repo get three worktrees on mc/MC-1..3, and the agent runs in its own', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const r = useGitRepo();
    withWorkspace(h, { repo: r.repo, mode: 'worktree' });
    await addTickets(h, 3);
    for (const key of ['MC-1', 'MC-2', 'MC-3']) await ok(h, ['pickup', key]);
    expect(branches(r)).toEqual(['main', 'mc/MC-1', 'mc/MC-2', 'mc/MC-3']);
    for (const key of ['MC-1', 'MC-2', 'MC-3']) {
      const [row] = h.openRuntimes(key);
      expect(row?.workdir).toBe(join(r.root, key));
      expect(row?.branch).toBe(`mc/${key}`);
      expect(existsSync(join(r.root, key, 'README'))).toBe(true);
      expect(await paneCwd(h, key)).toBe(join(r.root, key));
      const pane = await h.pane(`mc-${key}`);
      expect(readlinkSync(`/proc/${pane?.pid}/cwd`)).toBe(join(r.root, key));
    }
    const shown = await ok(h, ['show', 'MC-2']);
    expect(shown).toContain(`workspace: ${join(r.root, 'MC-2')}  mc/MC-2 0 ahead of main, clean`);
  });

  it('a dirty worktree survives retire and done, and prune keeps it saying why; a clean one is pruned', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const r = useGitRepo();
    withWorkspace(h, { repo: r.repo, mode: 'worktree' });
    await addTickets(h, 3);
    for (const key of ['MC-1', 'MC-2', 'MC-3']) await ok(h, ['pickup', key]);
    writeFileSync(join(r.root, 'MC-1', 'work.txt'), 'unsaved work\n');
    // MC-3 commits on its branch, never pushed nor merged: kept although the tree is clean.
    writeFileSync(join(r.root, 'MC-3', 'feature.txt'), 'feature\n');
    r.git(['add', 'feature.txt'], join(r.root, 'MC-3'));
    r.git(['commit', '-q', '-m', 'feature'], join(r.root, 'MC-3'));
    for (const key of ['MC-1', 'MC-2', 'MC-3']) {
      await ok(h, ['retire', key]);
      await ok(h, ['move', key, 'done']);
    }
    expect(readFileSync(join(r.root, 'MC-1', 'work.txt'), 'utf8')).toBe('unsaved work\n');
    const listed = await worktrees(h);
    expect(listed.map((w) => [w.ticket, w.dirty, w.keep])).toEqual([
      ['MC-1', true, true],
      ['MC-2', false, false],
      ['MC-3', false, true],
    ]);
    const dry = await ok(h, ['worktrees', 'prune', '--dry-run']);
    expect(dry).toContain(`would remove ${join(r.root, 'MC-2')}`);
    expect(existsSync(join(r.root, 'MC-2'))).toBe(true);
    const pruned = await ok(h, ['worktrees', 'prune']);
    expect(pruned).toContain(`removed ${join(r.root, 'MC-2')}`);
    expect(pruned).toContain(`kept ${join(r.root, 'MC-1')}: 1 uncommitted change`);
    expect(pruned).toContain(`kept ${join(r.root, 'MC-3')}: 1 commit on mc/MC-3 on no remote and not merged into main`);
    expect(existsSync(join(r.root, 'MC-2'))).toBe(false);
    expect(readFileSync(join(r.root, 'MC-1', 'work.txt'), 'utf8')).toBe('unsaved work\n');
    expect((await worktrees(h)).map((w) => w.ticket)).toEqual(['MC-1', 'MC-3']);
  });

  it('a pool slot is reused only when clean: a dirty one is skipped and reported, never reset', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const r = useGitRepo();
    withWorkspace(h, { repo: r.repo, mode: 'pool', poolSize: 2 });
    await addTickets(h, 3);
    const slot = (n: number) => join(r.root, `pool-${n}`);
    await ok(h, ['pickup', 'MC-1']);
    expect(h.openRuntimes('MC-1')[0]?.workdir).toBe(slot(1));
    writeFileSync(join(slot(1), 'left.txt'), 'left behind\n');
    await ok(h, ['retire', 'MC-1']);
    await ok(h, ['pickup', 'MC-2']);
    expect(h.openRuntimes('MC-2')[0]?.workdir).toBe(slot(2));
    const skipped = h.events('MC-2').find((e) => e.kind === 'workspace.skipped');
    expect(skipped?.root_cause).toContain('pool-1: 1 uncommitted change (left by MC-1), never reset');
    await ok(h, ['retire', 'MC-2']);
    // pool-2 is clean again: MC-3 takes it and it moves to mc/MC-3; pool-1 keeps MC-1's file.
    await ok(h, ['pickup', 'MC-3']);
    expect(h.openRuntimes('MC-3')[0]?.workdir).toBe(slot(2));
    expect(r.git(['branch', '--show-current'], slot(2)).trim()).toBe('mc/MC-3');
    expect(readFileSync(join(slot(1), 'left.txt'), 'utf8')).toBe('left behind\n');
    // Every slot taken or dirty: the pickup is refused, naming each.
    await ok(h, ['add', 'ticket 4']);
    const refused = await h.mcc(['pickup', 'MC-4']);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('pool-2: in use by MC-3');
    expect(refused.stderr).toContain('pool-1: 1 uncommitted change');
  });

  it('a crash after the worktree was made converges in one reconcile pass; the retry reuses the worktree', async () => {
    const h = useHarness({ ttlSeconds: 1, profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const r = useGitRepo();
    withWorkspace(h, { repo: r.repo, mode: 'worktree' });
    await addTickets(h, 1);
    const crashed = await h.mcc(['pickup', 'MC-1'], { env: { MCC_FAILPOINTS: 'pickup.after_worktree=crash' } });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const dir = join(r.root, 'MC-1');
    expect(existsSync(dir)).toBe(true);
    expect(await h.sessions()).toEqual([]);
    writeFileSync(join(dir, 'note.txt'), 'made before the crash\n');
    const row = h.openRuntimes('MC-1')[0];
    await waitUntilTime((row ? Date.parse(row.created_at) : Date.now()) + 1000);
    await ok(h, ['reconcile']);
    expect(h.openRuntimes('MC-1')).toEqual([]);
    expect(h.ticket('MC-1').status).toBe('todo');
    const warned = h.events('MC-1').filter((e) => e.kind === 'reconcile.warning' && e.summary.includes('worktree'));
    expect(warned.map((e) => e.summary)).toEqual([
      `MC-1: worktree ${dir} (mc/MC-1) has no runtime; the next pickup of MC-1 works in it again`,
    ]);
    await ok(h, ['pickup', 'MC-1']);
    expect(h.openRuntimes('MC-1')[0]?.workdir).toBe(dir);
    expect(h.events('MC-1').some((e) => e.kind === 'pickup.workspace' && e.summary.startsWith('reused'))).toBe(true);
    expect(readFileSync(join(dir, 'note.txt'), 'utf8')).toBe('made before the crash\n');
  });
});
