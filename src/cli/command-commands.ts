import { CommandDesk } from '../core/command-desk.js';
import { ageText, decodeResult, noHostRegistry, type Command as QueuedCommand } from '../core/commands.js';
import { fail } from '../core/result.js';
import { notAKey, TICKET_KEY_RE } from '../core/types.js';
import type { Command } from './command.js';
import { withContext } from './command.js';
import { ago, cell, failWith, line, toJson } from './output.js';

// `mcc commands`: the command queue (issue 13), newest first: what operators asked of other hosts' daemons,
// and what came of it.

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** One command as `--json` prints it: arguments and result parsed. */
export function commandJson(c: QueuedCommand) {
  let args: unknown;
  try {
    args = JSON.parse(c.args);
  } catch {
    args = c.args;
  }
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: c.id,
    host: c.targetHost,
    kind: c.kind,
    ticket: c.ticketKey,
    args,
    status: c.status,
    result: decodeResult(c.result),
    actor: c.actor,
    createdAt: iso(c.createdAt),
    expiresAt: iso(c.expiresAt),
    claimedAt: iso(c.claimedAt),
    claimedBy: c.claimedBy,
    finishedAt: iso(c.finishedAt),
  };
}

function resultText(c: QueuedCommand, now: number): string {
  const r = decodeResult(c.result);
  if (r === null)
    return c.status === 'queued' ? `waiting for ${c.targetHost}, expires in ${ageText(c.expiresAt - now)}` : 'running';
  return r.ok ? r.summary : `${r.code}: ${r.message}`;
}

export const commandsCommand: Command = {
  spec: {
    name: 'commands',
    summary: "List recent commands queued for hosts' daemons (actions on other hosts' runtimes) and their results.",
    usage: 'mcc commands [--host H] [--ticket KEY] [--limit N] [--json]',
    positionals: [],
    flags: {
      host: { kind: 'string', arg: 'H', help: 'only commands for this host' },
      ticket: { kind: 'string', arg: 'KEY', help: 'only commands on this ticket' },
      limit: { kind: 'number', help: `at most N commands, newest first (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})` },
    },
  },
  run: (args, env, out) => {
    const ticket = args.flags['ticket'];
    const host = args.flags['host'];
    const limit = args.flags['limit'] ?? DEFAULT_LIMIT;
    // Checked before the store is opened: a bad flag writes nothing, not even a new store.
    if (typeof ticket === 'string' && !TICKET_KEY_RE.test(ticket))
      return Promise.resolve(failWith(out, fail('invalid', `commands: --ticket: ${notAKey(ticket)}`)));
    if (typeof host === 'string' && host.trim() === '')
      return Promise.resolve(failWith(out, fail('invalid', 'commands: --host is empty')));
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      return Promise.resolve(
        failWith(
          out,
          fail('invalid', `commands: --limit must be a whole number in 1..${MAX_LIMIT}, got ${String(limit)}`),
        ),
      );
    return withContext(args, env, out, async (ctx) => {
      const { deps } = ctx;
      const desk = new CommandDesk({
        service: ctx.service,
        store: deps.store,
        hosts: noHostRegistry,
        clock: deps.clock,
        host: deps.host,
        actor: deps.actor,
      });
      const rows = await desk.list({
        ...(typeof ticket === 'string' ? { ticketKey: ticket } : {}),
        ...(typeof host === 'string' ? { host } : {}),
        limit,
      });
      if (args.flags['json']) {
        out.stdout(`${toJson(rows.map(commandJson))}\n`);
        return 0;
      }
      if (rows.length === 0) {
        line(out, 'no commands');
        return 0;
      }
      const now = deps.clock.now();
      line(
        out,
        `${cell('ID', 6)} ${cell('STATUS', 8)} ${cell('KIND', 9)} ${cell('TICKET', 9)} ${cell('HOST', 16)} ${cell('AGE', 5)} ${cell('ACTOR', 16)} RESULT`,
      );
      for (const c of rows)
        line(
          out,
          `${cell(String(c.id), 6)} ${cell(c.status, 8)} ${cell(c.kind, 9)} ${cell(c.ticketKey ?? '-', 9)} ${cell(c.targetHost, 16)} ${cell(ago(c.createdAt, now), 5)} ${cell(c.actor, 16)} ${resultText(c, now)}`,
        );
      return 0;
    });
  },
};
