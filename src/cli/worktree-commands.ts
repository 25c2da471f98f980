import { fail } from '../core/result.js';
import { sanitizeForTerminal } from '../core/sanitize.js';
import type { Verdict, WorkspaceFacts } from '../core/workspace.js';
import type { Command } from './command.js';
import { withContext } from './command.js';
import { failWith, line, toJson } from './output.js';

// `mcc worktrees`: every worktree and pool slot mcc made, with its ticket, its git state and why it is kept;
// `mcc worktrees prune` removes only those nothing would be lost with.

/** One workspace as `--json` prints it. */
export function workspaceJson(facts: WorkspaceFacts, verdict: Verdict | { keep: false; why: string }) {
  const w = facts.ws;
  return {
    path: w.path,
    repo: w.repo,
    mode: w.mode,
    slot: w.slot,
    branch: w.branch,
    base: w.base,
    ticket: w.ticketKey,
    ticketStatus: facts.ticketStatus,
    runtime: facts.openRuntime?.id ?? null,
    exists: facts.exists,
    dirty: facts.changes > 0,
    changes: facts.changes,
    ahead: facts.ahead,
    unsaved: facts.unsaved,
    error: facts.error,
    keep: verdict.keep,
    why: Array.isArray(verdict.why) ? verdict.why : [verdict.why],
  };
}

/** `mc/MC-1 2 ahead of main, dirty (3 changes)`: the line `mcc show` and `mcc worktrees` print. */
export function gitStateText(f: WorkspaceFacts): string {
  if (f.error) return `git state unknown: ${f.error}`;
  if (!f.exists) return 'directory gone';
  const branch = f.ws.branch ?? 'no branch';
  const dirty = f.changes > 0 ? `dirty (${f.changes} change${f.changes === 1 ? '' : 's'})` : 'clean';
  return `${branch} ${f.ahead} ahead of ${f.ws.base}, ${dirty}`;
}

export const worktreesCommand: Command = {
  spec: {
    name: 'worktrees',
    summary:
      'List every worktree and pool slot mcc made (ticket, git state, why it is kept); `prune` removes only the safe ones.',
    usage: 'mcc worktrees [prune] [--dry-run] [--json]',
    positionals: [{ name: 'prune', required: false }],
    flags: {
      'dry-run': { kind: 'boolean', help: 'prune: say what would be removed, remove nothing' },
    },
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const sub = args.positionals[0];
      if (sub !== undefined && sub !== 'prune')
        return failWith(out, fail('invalid', `worktrees: unknown subcommand "${sub}" (prune)`));
      const dryRun = Boolean(args.flags['dry-run']);
      if (sub === undefined && dryRun) return failWith(out, fail('invalid', 'worktrees: --dry-run goes with prune'));
      if (sub === undefined) {
        const listed = await ctx.service.worktrees();
        if (!listed.ok) return failWith(out, listed);
        if (args.flags['json']) {
          out.stdout(`${toJson(listed.value.map((x) => workspaceJson(x.facts, x.verdict)))}\n`);
          return 0;
        }
        if (listed.value.length === 0) line(out, '(no worktrees)');
        for (const { facts, verdict } of listed.value) {
          const w = facts.ws;
          const who = w.ticketKey ? `${w.ticketKey} ${facts.ticketStatus ?? 'gone'}` : 'free';
          line(out, `${w.path}  ${w.slot ?? 'worktree'}  ${who}  ${gitStateText(facts)}`);
          if (verdict.keep) for (const why of verdict.why) line(out, `  kept: ${why}`);
          else line(out, `  removable: ${verdict.why}`);
        }
        return 0;
      }
      const pruned = await ctx.service.pruneWorktrees({ dryRun });
      if (!pruned.ok) return failWith(out, pruned);
      const { removed, kept, failed } = pruned.value;
      if (args.flags['json']) {
        out.stdout(
          `${toJson({
            dryRun,
            removed: removed.map((r) => workspaceJson(r.facts, { keep: false, why: r.why })),
            kept: kept.map((k) => workspaceJson(k.facts, { keep: true, why: k.why })),
            failed,
          })}\n`,
        );
      } else {
        for (const r of removed) line(out, `${dryRun ? 'would remove' : 'removed'} ${r.facts.ws.path}: ${r.why}`);
        for (const k of kept) line(out, `kept ${k.facts.ws.path}: ${k.why.join('; ')}`);
      }
      // Failures are errors: on stderr whatever the output format, so a script that reads only stderr sees why.
      for (const f of failed) out.stderr(`mcc: worktrees prune: failed ${sanitizeForTerminal(f)}\n`);
      return failed.length > 0 ? 1 : 0;
    }),
};
