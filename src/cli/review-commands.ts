import type { Command } from './command.js';
import { withContext } from './command.js';
import { failWith, line, toJson } from './output.js';

// The review gate from the command line: approve, request changes, block. Each is one MissionControl call;
// exit codes as everywhere (2 usage, 3 conflict, 4 not found).

export const approveCommand: Command = {
  spec: {
    name: 'approve',
    summary: 'Approve a ticket in review (in_review -> done); failed or unfinished checks need --override.',
    usage: 'mcc approve KEY [--override]',
    positionals: [{ name: 'KEY', required: true }],
    flags: {
      override: { kind: 'boolean', help: 'approve although the review checks failed (recorded)' },
    },
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const key = args.positionals[0]!;
      const res = await ctx.service.approve(key, { override: Boolean(args.flags['override']) });
      if (!res.ok) return failWith(out, res);
      if (args.flags['json']) out.stdout(`${toJson(res.value)}\n`);
      else
        line(
          out,
          `${key} approved: done${res.value.reviewChecks === 'ok' ? '' : ` (checks: ${res.value.reviewChecks ?? 'none'})`}`,
        );
      return 0;
    }),
};

export const changesCommand: Command = {
  spec: {
    name: 'changes',
    summary: 'Request changes: the ticket goes back to in_progress and TEXT is queued to its runtime (or a fresh one).',
    usage: 'mcc changes KEY TEXT',
    positionals: [
      { name: 'KEY', required: true },
      { name: 'TEXT', required: true, rest: true },
    ],
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const [key, ...words] = args.positionals as [string, ...string[]];
      const res = await ctx.service.requestChanges(key, words.join(' '));
      if (!res.ok) return failWith(out, res);
      const v = res.value;
      if (args.flags['json']) out.stdout(`${toJson(v)}\n`);
      else
        line(
          out,
          v.runtime === 'live'
            ? `changes ${v.delivery === 'sent' ? 'sent to' : 'queued for'} ${key}'s runtime; ${key} in_progress`
            : `${key}'s runtime was gone: a fresh one was started; the changes follow its prompt`,
        );
      return 0;
    }),
};

export const blockCommand: Command = {
  spec: {
    name: 'block',
    summary: 'Block a ticket with a reason (from review, work or todo).',
    usage: 'mcc block KEY REASON',
    positionals: [
      { name: 'KEY', required: true },
      { name: 'REASON', required: true, rest: true },
    ],
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const [key, ...words] = args.positionals as [string, ...string[]];
      const res = await ctx.service.block(key, words.join(' '));
      if (!res.ok) return failWith(out, res);
      if (args.flags['json']) out.stdout(`${toJson(res.value)}\n`);
      else line(out, `${key} blocked: ${res.value.blockedReason ?? ''}`);
      return 0;
    }),
};
