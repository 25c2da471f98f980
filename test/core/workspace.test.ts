// The workspace decisions against a strict fake git: every git call is expected in order, and an unexpected
// one (a reset of a dirty slot, a forced removal) fails the test even when the code swallowed it.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { WorkspaceConfig } from '../../src/core/config.js';
import type { GitPort } from '../../src/core/git.port.js';
import { ok, type Result } from '../../src/core/result.js';
import type { Workspace } from '../../src/core/store.port.js';
import {
  chooseSlots,
  judgeWorkspace,
  planWorkspace,
  prepareWorkspace,
  type WorkspaceFacts,
} from '../../src/core/workspace.js';

type Call = [keyof GitPort, ...unknown[]];

/** A GitPort that must see exactly the expected calls, in order. */
class StrictGit {
  private readonly queue: { call: Call; result: Result<unknown> }[] = [];
  private readonly errors: string[] = [];
  readonly port: GitPort;

  constructor() {
    const handler =
      (name: keyof GitPort) =>
      async (...args: unknown[]): Promise<Result<unknown>> => {
        const next = this.queue.shift();
        const got = JSON.stringify([name, ...args]);
        if (!next || !isDeepStrictEqual(next.call, [name, ...args])) {
          const msg = `unexpected git call ${got}; expected ${next ? JSON.stringify(next.call) : 'none'}`;
          this.errors.push(msg);
          throw new Error(msg);
        }
        return next.result;
      };
    const names: (keyof GitPort)[] = [
      'currentBranch',
      'worktrees',
      'branchExists',
      'addWorktree',
      'addDetachedWorktree',
      'switchBranch',
      'changes',
      'aheadOf',
      'unsavedCommits',
      'removeWorktree',
    ];
    this.port = Object.fromEntries(names.map((n) => [n, handler(n)])) as unknown as GitPort;
  }

  expect(call: Call, result: Result<unknown>): this {
    this.queue.push({ call, result });
    return this;
  }

  done(): void {
    expect(this.errors).toEqual([]);
    expect(this.queue.map((q) => q.call)).toEqual([]);
  }
}

const REPO = '/r/repo';
const ROOT = '/r/repo.mcc-worktrees';
const pool: WorkspaceConfig = { repo: REPO, mode: 'pool', base: 'main', poolSize: 3, root: ROOT };
const tree: WorkspaceConfig = { repo: REPO, mode: 'worktree', base: null, poolSize: 3, root: ROOT };

function ws(over: Partial<Workspace>): Workspace {
  return {
    id: 1,
    repo: REPO,
    path: `${ROOT}/pool-1`,
    mode: 'pool',
    slot: 'pool-1',
    branch: 'mc/MC-9',
    base: 'main',
    ticketKey: 'MC-9',
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

const listed = (...paths: [string, string | null][]) => ok(paths.map(([path, branch]) => ({ path, branch })));

describe('chooseSlots', () => {
  it('tries the ticket own slot first, then free ones; a slot whose holder runs is held', () => {
    const rows = [
      ws({ slot: 'pool-1', ticketKey: 'MC-2' }),
      ws({ slot: 'pool-2', ticketKey: 'MC-1' }),
      ws({ slot: 'pool-3', ticketKey: 'MC-3' }),
    ];
    expect(chooseSlots('MC-1', 3, rows, new Set(['MC-2']))).toEqual({
      candidates: ['pool-2', 'pool-3'],
      held: [{ slot: 'pool-1', by: 'MC-2' }],
    });
  });
});

describe('planWorkspace', () => {
  it('worktree mode: the base defaults to the repository HEAD branch, the branch is mc/<key>', async () => {
    const git = new StrictGit().expect(['currentBranch', REPO], ok('trunk'));
    const plan = await planWorkspace(git.port, tree, 'MC-4', [], new Set());
    expect(plan).toEqual(
      ok({
        claims: [{ repo: REPO, path: `${ROOT}/MC-4`, mode: 'worktree', slot: null, branch: 'mc/MC-4', base: 'trunk' }],
        skipped: [],
      }),
    );
    git.done();
  });

  it('pool mode: a dirty slot is skipped and named, never offered; a missing slot is offered', async () => {
    const rows = [ws({ slot: 'pool-1', path: `${ROOT}/pool-1`, ticketKey: 'MC-9' })];
    const git = new StrictGit()
      .expect(['worktrees', REPO], listed([REPO, 'main'], [`${ROOT}/pool-1`, 'mc/MC-9']))
      .expect(['changes', REPO, `${ROOT}/pool-1`], ok([' M a.txt', '?? b.txt']));
    const plan = await planWorkspace(git.port, pool, 'MC-1', rows, new Set());
    expect(plan.ok && plan.value.claims.map((c) => c.slot)).toEqual(['pool-2', 'pool-3']);
    expect(plan.ok && plan.value.skipped).toEqual(['pool-1: 2 uncommitted changes (left by MC-9), never reset']);
    git.done();
  });

  it('pool mode: nothing free is a conflict naming every slot', async () => {
    const small = { ...pool, poolSize: 2 };
    const rows = [ws({ slot: 'pool-1' }), ws({ id: 2, slot: 'pool-2', path: `${ROOT}/pool-2`, ticketKey: 'MC-8' })];
    const git = new StrictGit()
      .expect(['worktrees', REPO], listed([`${ROOT}/pool-1`, 'mc/MC-9'], [`${ROOT}/pool-2`, 'mc/MC-8']))
      .expect(['changes', REPO, `${ROOT}/pool-1`], ok(['?? x']));
    const plan = await planWorkspace(git.port, small, 'MC-1', rows, new Set(['MC-8']));
    expect(plan.ok).toBe(false);
    if (!plan.ok) {
      expect(plan.code).toBe('conflict');
      expect(plan.message).toContain('pool-2: in use by MC-8; pool-1: 1 uncommitted change (left by MC-9)');
    }
    git.done();
  });
});

describe('prepareWorkspace', () => {
  const claim = {
    repo: REPO,
    path: `${ROOT}/MC-1`,
    mode: 'worktree' as const,
    slot: null,
    branch: 'mc/MC-1',
    base: 'main',
  };

  it('a worktree already on its branch (a crashed pickup) is reused untouched', async () => {
    const git = new StrictGit().expect(['worktrees', REPO], listed([REPO, 'main'], [`${ROOT}/MC-1`, 'mc/MC-1']));
    expect(await prepareWorkspace(git.port, claim)).toEqual(ok('reused'));
    git.done();
  });

  it('a new worktree creates its branch from base; an existing branch is checked out as it is', async () => {
    const fresh = new StrictGit()
      .expect(['worktrees', REPO], listed([REPO, 'main']))
      .expect(['branchExists', REPO, 'mc/MC-1'], ok(false))
      .expect(['addWorktree', REPO, `${ROOT}/MC-1`, 'mc/MC-1', 'main'], ok(undefined));
    expect(await prepareWorkspace(fresh.port, claim)).toEqual(ok('created'));
    fresh.done();
    const again = new StrictGit()
      .expect(['worktrees', REPO], listed([REPO, 'main']))
      .expect(['branchExists', REPO, 'mc/MC-1'], ok(true))
      .expect(['addWorktree', REPO, `${ROOT}/MC-1`, 'mc/MC-1', null], ok(undefined));
    expect(await prepareWorkspace(again.port, claim)).toEqual(ok('created'));
    again.done();
  });

  it('a pool slot that turned dirty under the claim is refused, never switched', async () => {
    const slot = { ...claim, path: `${ROOT}/pool-1`, mode: 'pool' as const, slot: 'pool-1' };
    const git = new StrictGit()
      .expect(['worktrees', REPO], listed([`${ROOT}/pool-1`, 'mc/MC-9']))
      .expect(['branchExists', REPO, 'mc/MC-1'], ok(false))
      .expect(['changes', REPO, `${ROOT}/pool-1`], ok([' M a']));
    const res = await prepareWorkspace(git.port, slot);
    expect(res).toMatchObject({ ok: false, code: 'conflict' });
    git.done();
  });
});

describe('judgeWorkspace', () => {
  const facts = (over: Partial<WorkspaceFacts>): WorkspaceFacts => ({
    ws: ws({ mode: 'worktree', slot: null, path: `${ROOT}/MC-9` }),
    ticketStatus: 'done',
    openRuntime: null,
    exists: true,
    changes: 0,
    ahead: 0,
    unsaved: 0,
    error: null,
    ...over,
  });

  it('keeps, naming every reason: changes, unsaved commits, a runtime, an unfinished ticket, unreadable git', () => {
    expect(judgeWorkspace(facts({ changes: 2, unsaved: 1, openRuntime: { id: 4, status: 'running' } }))).toEqual({
      keep: true,
      why: [
        'in use by runtime 4 (running)',
        '2 uncommitted changes',
        '1 commit on mc/MC-9 on no remote and not merged into main',
      ],
    });
    expect(judgeWorkspace(facts({ ticketStatus: 'in_review' })).keep).toBe(true);
    expect(judgeWorkspace(facts({ error: 'boom' }))).toEqual({ keep: true, why: ['cannot read its git state: boom'] });
    expect(judgeWorkspace(facts({ ws: ws({}) })).keep).toBe(true);
  });

  it('removes a done ticket clean worktree whose commits are all on a remote or merged', () => {
    expect(judgeWorkspace(facts({ ahead: 3 }))).toEqual({
      keep: false,
      why: 'MC-9 done, clean, every commit on a remote or merged into main',
    });
  });
});
