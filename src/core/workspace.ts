import type { WorkspaceConfig } from './config.js';
import { finding, type Finding } from './findings.js';
import type { GitPort, WorktreeEntry } from './git.port.js';
import { fail, ok, type Result } from './result.js';
import type { Workspace, WorkspaceClaim } from './store.port.js';
import type { RuntimeSession, TicketStatus } from './types.js';

// Work isolation: which directory a pickup takes, how it is made ready, and what may be deleted and why.
// The judgements are pure; the two steps that talk to git take the port, so a strict fake drives them in tests.

/** The branch a ticket's agent works on. */
export function branchOf(key: string): string {
  return `mc/${key}`;
}

/** The pool's slot names, `pool-1..N`. */
export function slotNames(size: number): string[] {
  return Array.from({ length: size }, (_, i) => `pool-${i + 1}`);
}

/** Where a ticket's worktree or a pool slot lives. */
export function workspacePath(cfg: WorkspaceConfig, name: string): string {
  return `${cfg.root}/${name}`;
}

/** git prints real paths; configs may carry a trailing slash. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/(.)\/+$/, '$1');
  return norm(a) === norm(b);
}

export interface SlotChoice {
  /** Slots to try in order: the ticket's own slot first, then free ones. */
  candidates: string[];
  /** Slots another ticket's open runtime holds, for the message when none is free. */
  held: { slot: string; by: string }[];
}

/** Order a pool's slots for `key`: its own slot, then slots nobody holds or whose holder has no open runtime. */
export function chooseSlots(
  key: string,
  size: number,
  rows: readonly Workspace[],
  openTickets: ReadonlySet<string>,
): SlotChoice {
  const own: string[] = [];
  const free: string[] = [];
  const held: { slot: string; by: string }[] = [];
  for (const slot of slotNames(size)) {
    const row = rows.find((w) => w.mode === 'pool' && w.slot === slot);
    const holder = row?.ticketKey ?? null;
    if (holder === key) own.push(slot);
    else if (holder !== null && openTickets.has(holder)) held.push({ slot, by: holder });
    else free.push(slot);
  }
  return { candidates: [...own, ...free], held };
}

export interface WorkspacePlan {
  /** Claims to try in order; the store refuses one another pickup took first, then the next is tried. */
  claims: WorkspaceClaim[];
  /** Pool slots passed over because they hold uncommitted changes: never reset, reported. */
  skipped: string[];
}

/** Decide where `key` works: its own worktree, or the first pool slot that is free and clean. */
export async function planWorkspace(
  git: GitPort,
  cfg: WorkspaceConfig,
  key: string,
  rows: readonly Workspace[],
  openTickets: ReadonlySet<string>,
): Promise<Result<WorkspacePlan>> {
  let base = cfg.base;
  if (base === null) {
    const head = await git.currentBranch(cfg.repo);
    if (!head.ok) return head;
    base = head.value;
  }
  const branch = branchOf(key);
  if (cfg.mode === 'worktree') {
    const path = workspacePath(cfg, key);
    return ok({ claims: [{ repo: cfg.repo, path, mode: 'worktree', slot: null, branch, base }], skipped: [] });
  }
  const mine = rows.filter((w) => samePath(w.repo, cfg.repo));
  const { candidates, held } = chooseSlots(key, cfg.poolSize, mine, openTickets);
  const listed = await git.worktrees(cfg.repo);
  if (!listed.ok) return listed;
  const claims: WorkspaceClaim[] = [];
  const skipped: string[] = [];
  for (const slot of candidates) {
    const path = workspacePath(cfg, slot);
    const row = mine.find((w) => w.slot === slot);
    if (listed.value.some((e) => samePath(e.path, path)) && row?.ticketKey !== key) {
      const changes = await git.changes(cfg.repo, path);
      if (!changes.ok) return changes;
      if (changes.value.length > 0) {
        const by = row?.ticketKey ? ` (left by ${row.ticketKey})` : '';
        skipped.push(`${slot}: ${plural(changes.value.length, 'uncommitted change')}${by}, never reset`);
        continue;
      }
    }
    claims.push({ repo: cfg.repo, path, mode: 'pool', slot, branch, base });
  }
  if (claims.length === 0) {
    const why = [...held.map((h) => `${h.slot}: in use by ${h.by}`), ...skipped];
    return fail('conflict', `${key}: no free clean pool slot in ${cfg.root} (${why.join('; ')})`);
  }
  return ok({ claims, skipped });
}

/** What `prepare` did to the directory. */
export type Prepared = 'created' | 'reused' | 'reset';

/**
 * Make the claimed directory exist on its branch: a worktree made by an earlier attempt is reused as it is;
 * a pool slot moves to the ticket's branch only while it is clean (checked again under the claim).
 */
export async function prepareWorkspace(git: GitPort, w: WorkspaceClaim): Promise<Result<Prepared>> {
  const listed = await git.worktrees(w.repo);
  if (!listed.ok) return listed;
  const entry: WorktreeEntry | undefined = listed.value.find((e) => samePath(e.path, w.path));
  if (entry?.branch === w.branch) return ok('reused');
  if (w.mode === 'worktree' && entry !== undefined)
    return fail('conflict', `${w.path} is a worktree on ${entry.branch ?? 'a detached HEAD'}, not on ${w.branch}`);
  const exists = await git.branchExists(w.repo, w.branch);
  if (!exists.ok) return exists;
  const from = exists.value ? null : w.base;
  if (entry === undefined && w.mode === 'worktree') {
    const made = await git.addWorktree(w.repo, w.path, w.branch, from);
    return made.ok ? ok('created') : made;
  }
  if (entry === undefined) {
    const made = await git.addDetachedWorktree(w.repo, w.path, w.base);
    if (!made.ok) return made;
  } else {
    const changes = await git.changes(w.repo, w.path);
    if (!changes.ok) return changes;
    if (changes.value.length > 0)
      return fail(
        'conflict',
        `${w.slot ?? w.path} has ${plural(changes.value.length, 'uncommitted change')}: never reset`,
      );
  }
  const switched = await git.switchBranch(w.repo, w.path, w.branch, from);
  if (!switched.ok) return switched;
  return ok(entry === undefined ? 'created' : 'reset');
}

/** What git and the store say of one workspace, for the keep-or-remove judgement. */
export interface WorkspaceFacts {
  ws: Workspace;
  ticketStatus: TicketStatus | null;
  openRuntime: Pick<RuntimeSession, 'id' | 'status'> | null;
  /** False when git no longer lists the directory as a worktree. */
  exists: boolean;
  changes: number;
  ahead: number;
  unsaved: number;
  /** Set when git could not be read: such a workspace is always kept. */
  error: string | null;
}

export type Verdict = { keep: true; why: string[] } | { keep: false; why: string };

/** Whether removing the workspace could lose anything or disturb anyone; every reason to keep it is named. */
export function judgeWorkspace(f: WorkspaceFacts): Verdict {
  const { ws } = f;
  if (f.error !== null) return { keep: true, why: [`cannot read its git state: ${f.error}`] };
  if (!f.exists) return { keep: false, why: 'its directory is no longer a worktree (only the record is dropped)' };
  const why: string[] = [];
  if (f.openRuntime) why.push(`in use by runtime ${f.openRuntime.id} (${f.openRuntime.status})`);
  if (f.changes > 0) why.push(plural(f.changes, 'uncommitted change'));
  if (f.unsaved > 0)
    why.push(`${plural(f.unsaved, 'commit')} on ${ws.branch} on no remote and not merged into ${ws.base}`);
  if (ws.mode === 'pool') why.push('pool slot: the next pickup reuses it');
  else if (ws.ticketKey !== null && f.ticketStatus !== null && f.ticketStatus !== 'done')
    why.push(`${ws.ticketKey} is ${f.ticketStatus}: its next pickup or review works here`);
  if (why.length > 0) return { keep: true, why };
  const whose = ws.ticketKey ? `${ws.ticketKey} ${f.ticketStatus ?? 'gone'}, ` : '';
  return { keep: false, why: `${whose}clean, every commit on a remote or merged into ${ws.base}` };
}

/** Gather the facts of one workspace from git (the directory list comes from one `worktree list`). */
export async function workspaceFacts(
  git: GitPort,
  ws: Workspace,
  listed: Result<WorktreeEntry[]>,
  ticketStatus: TicketStatus | null,
  openRuntime: Pick<RuntimeSession, 'id' | 'status'> | null,
): Promise<WorkspaceFacts> {
  const base = { ws, ticketStatus, openRuntime, exists: false, changes: 0, ahead: 0, unsaved: 0, error: null };
  if (!listed.ok) return { ...base, error: listed.message };
  if (!listed.value.some((e) => samePath(e.path, ws.path))) return base;
  const changes = await git.changes(ws.repo, ws.path);
  if (!changes.ok) return { ...base, exists: true, error: changes.message };
  if (ws.branch === null) return { ...base, exists: true, changes: changes.value.length };
  const ahead = await git.aheadOf(ws.repo, ws.branch, ws.base);
  const unsaved = await git.unsavedCommits(ws.repo, ws.branch, ws.base);
  const error = !ahead.ok ? ahead.message : !unsaved.ok ? unsaved.message : null;
  return {
    ...base,
    exists: true,
    changes: changes.value.length,
    ahead: ahead.ok ? ahead.value : 0,
    unsaved: unsaved.ok ? unsaved.value : 0,
    error,
  };
}

/**
 * WORKTREE-LEFT: a ticket's worktree on disk with no open runtime while the ticket is still to be worked on,
 * typically made by a pickup that crashed before its agent started. Nothing is deleted; the retry reuses it.
 */
export function leftWorktreeFindings(
  rows: readonly Workspace[],
  statusOf: ReadonlyMap<string, TicketStatus>,
  openTickets: ReadonlySet<string>,
  onDisk: (ws: Workspace) => boolean,
): Finding[] {
  const out: Finding[] = [];
  for (const ws of rows) {
    const key = ws.ticketKey;
    if (ws.mode !== 'worktree' || key === null || openTickets.has(key)) continue;
    const status = statusOf.get(key);
    if (status !== 'todo' && status !== 'in_progress' && status !== 'blocked') continue;
    if (!onDisk(ws)) continue;
    out.push(
      finding({
        ticketKey: key,
        runtimeId: null,
        drift: 'WORKTREE-LEFT',
        severity: 'warning',
        summary: `${key}: worktree ${ws.path} (${ws.branch ?? 'no branch'}) has no runtime; the next pickup of ${key} works in it again`,
        evidence: [`workspace ${ws.id} of ${ws.repo}, ticket ${status}`],
        action: { type: 'none' },
      }),
    );
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
