import { readFileSync } from 'node:fs';
import type { Finding } from '../core/findings.js';
import { fail, ok, type Result } from '../core/result.js';
import type { MissionControl, PaneTailView } from '../core/service.js';
import type { TicketDetail } from '../core/store.port.js';
import { notAKey, TICKET_KEY_RE, TICKET_STATUSES, type TicketStatus } from '../core/types.js';
import { UsageError, type Parsed } from './args.js';
import type { Command } from './command.js';
import { withContext } from './command.js';
import { ago, cell, failWith, line, toJson, type Out } from './output.js';
import { gitStateText, workspaceJson } from './worktree-commands.js';

// Commands over the ticket rows: add, list, show, move.

function asStatus(s: string, what: string): Result<TicketStatus> {
  return (TICKET_STATUSES as readonly string[]).includes(s)
    ? ok(s as TicketStatus)
    : fail('invalid', `${what}: "${s}" is not one of ${TICKET_STATUSES.join(', ')}`);
}

export const addCommand: Command = {
  spec: {
    name: 'add',
    summary: 'Add a ticket (state todo) and print its key.',
    usage: 'mcc add TITLE [--body TEXT | --body-file PATH] [--profile NAME] [--check-in DURATION] [--host-label L]',
    positionals: [{ name: 'TITLE', required: true }],
    flags: {
      body: { kind: 'string', help: 'ticket body (the prompt text)' },
      'body-file': { kind: 'string', help: 'read the body from a file (- for stdin)' },
      profile: { kind: 'string', help: 'agent profile (default: the config defaultProfile)' },
      'check-in': {
        kind: 'string',
        help: 'expected check-in (90s, 30m, 2h): OVERDUE when working this long with no marker',
      },
      'host-label': {
        kind: 'string',
        arg: 'L',
        help: 'only a daemon started with --label L picks this ticket up (mcc --auto --pickup)',
      },
    },
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      if (args.flags['body'] !== undefined && args.flags['body-file'] !== undefined) {
        return failWith(out, { ok: false, code: 'invalid', message: 'add: give --body or --body-file, not both' });
      }
      let body = String(args.flags['body'] ?? '');
      const file = args.flags['body-file'];
      if (typeof file === 'string') {
        try {
          body = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
        } catch (e) {
          return failWith(out, {
            ok: false,
            code: 'invalid',
            message: `add: --body-file ${file}: ${(e as Error).message}`,
          });
        }
      }
      const profile = args.flags['profile'];
      const checkIn = args.flags['check-in'];
      // Loaded with the context already; a static import would load zod for `mcc --help` too.
      const { durationSeconds } = await import('../core/config.js');
      const checkInSeconds = checkIn === undefined ? null : durationSeconds(String(checkIn));
      if (checkIn !== undefined && checkInSeconds === null)
        return failWith(out, {
          ok: false,
          code: 'invalid',
          message: `add: --check-in ${String(checkIn)}: not a duration up to 7 days (e.g. 90s, 30m, 2h)`,
        });
      const created = await ctx.service.createTicket({
        title: args.positionals[0]!,
        body,
        ...(profile !== undefined ? { profile: String(profile) } : {}),
        ...(checkInSeconds !== null ? { checkInSeconds } : {}),
        ...(typeof args.flags['host-label'] === 'string' ? { hostLabel: args.flags['host-label'] } : {}),
      });
      if (!created.ok) return failWith(out, { ...created, message: `add: ${created.message}` });
      const t = created.value;
      if (args.flags['json']) out.stdout(`${toJson(t)}\n`);
      else line(out, t.key);
      return 0;
    }),
};

/**
 * All of stdin as UTF-8. Not readFileSync(0): on a non-blocking pipe (a parent that writes a large body
 * through execa or a shell pipeline) that fails with EAGAIN as soon as the pipe runs empty mid-body.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Tickets the text view of `mcc list` prints unless `--limit` says otherwise. */
export const LIST_LIMIT = 200;

interface ListOptions {
  state: TicketStatus | null;
  limit: number | null;
  after: string | null;
  json: boolean;
}

/** The list flags, checked before the store is opened (or created): a bad one is a usage error, exit 2. */
function listOptions(args: Parsed): ListOptions {
  const state = args.flags['state'];
  let status: TicketStatus | null = null;
  if (typeof state === 'string') {
    const s = asStatus(state, '--state');
    if (!s.ok) throw new UsageError('list', s.message);
    status = s.value;
  }
  const limit = args.flags['limit'];
  if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1))
    throw new UsageError('list', `--limit must be a whole number >= 1, got ${String(limit)}`);
  const after = args.flags['after'];
  if (typeof after === 'string' && !TICKET_KEY_RE.test(after))
    throw new UsageError('list', `--after: ${notAKey(after)}`);
  return {
    state: status,
    limit: typeof limit === 'number' ? limit : null,
    after: typeof after === 'string' ? after : null,
    json: args.flags['json'] === true,
  };
}

/** `--json`: the full overview rows, written as they are read, as the same text one JSON.stringify would make. */
async function listJson(service: MissionControl, o: ListOptions, out: Out): Promise<number> {
  let buf = '[';
  let n = 0;
  const visited = await service.eachOverview(
    {
      ...(o.state ? { states: [o.state] } : {}),
      ...(o.limit !== null ? { limit: o.limit } : {}),
      ...(o.after !== null ? { after: o.after } : {}),
    },
    (row) => {
      // A one-element array pretty-printed is `[\n` + the element at the depth it has in the whole array + `\n]`.
      buf += `${n++ === 0 ? '\n' : ',\n'}${toJson([row]).slice(2, -2)}`;
      if (buf.length >= JSON_CHUNK) {
        out.stdout(buf);
        buf = '';
      }
    },
  );
  if (!visited.ok) return failWith(out, visited);
  out.stdout(`${buf}${n === 0 ? ']' : '\n]'}\n`);
  return 0;
}

/** How much JSON is gathered before one write: few system calls, and never the whole list in memory. */
const JSON_CHUNK = 1 << 16;

// 48,000: by hand, because toLocaleString's first call loads ICU data (~30 ms of a 100 ms command).
const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/** The text view: one page of narrow rows, then what it left out and how to see it. */
async function listText(service: MissionControl, o: ListOptions, out: Out): Promise<number> {
  const limit = o.limit ?? LIST_LIMIT;
  const found = await service.listPage({
    ...(o.state ? { states: [o.state] } : { excludeStates: ['done'] }),
    limit,
    ...(o.after !== null ? { after: o.after } : {}),
  });
  if (!found.ok) return failWith(out, found);
  const { rows, remaining, byState } = found.value;
  const stored = TICKET_STATUSES.reduce((n, s) => n + byState[s], 0);
  if (stored === 0 && !o.state) line(out, 'no tickets yet: mcc add "TITLE" --body "what to do"');
  else if (rows.length === 0)
    line(out, `no ${o.state ?? 'open'} tickets${o.after !== null ? ` after ${o.after}` : ''}`);
  else {
    const now = Date.now();
    line(
      out,
      `${cell('KEY', 9)} ${cell('STATE', 11)} ${cell('RUNTIME', 9)} ${cell('PID', 8)} ${cell('AGE', 5)} ${cell('TRY', 3)} TITLE`,
    );
    for (const t of rows) {
      const r = t.runtime;
      // The row holds the title's head; a title that goes on past it is shown cut, as a whole one would be.
      const title = t.titleCut ? `${t.title}…` : t.title;
      line(
        out,
        `${cell(t.key, 9)} ${cell(t.status, 11)} ${cell(r ? r.status : '-', 9)} ${cell(r?.pid ? String(r.pid) : '-', 8)} ${cell(r ? ago(r.createdAt, now) : '-', 5)} ${cell(String(t.attempts), 3)} ${cell(title, 60).trimEnd()}`,
      );
    }
  }
  const last = rows.at(-1);
  if (remaining > 0 && last) {
    const next = `mcc list${o.state ? ` --state ${o.state}` : ''}${o.limit !== null ? ` --limit ${limit}` : ''} --after ${last.key}`;
    line(out, `… ${count(remaining)} more not shown (--limit ${limit}; next page: ${next})`);
  }
  if (!o.state && byState.done > 0)
    line(out, `… ${count(byState.done)} done tickets not shown (mcc list --state done)`);
  return 0;
}

export const listCommand: Command = {
  spec: {
    name: 'list',
    summary: `List tickets with their runtime status: those not done (up to ${LIST_LIMIT}) and a count of the rest; --json lists every ticket in full.`,
    usage: 'mcc list [--state STATE] [--limit N] [--after KEY] [--json]',
    positionals: [],
    flags: {
      state: { kind: 'string', help: `only this state (${TICKET_STATUSES.join(', ')})` },
      limit: { kind: 'number', help: `at most N tickets (default ${LIST_LIMIT}; with --json: all)` },
      after: { kind: 'string', arg: 'KEY', help: 'only tickets after this key (the next page)' },
    },
  },
  run: (args, env, out) => {
    const o = listOptions(args);
    return withContext(args, env, out, (ctx) =>
      o.json ? listJson(ctx.service, o, out) : listText(ctx.service, o, out),
    );
  },
};

/** What a fresh observation adds to the stored rows: findings (badges) and the screen's reading. */
type Inspection = { findings: Finding[]; screen: PaneTailView | null } | null;

function printDetail(out: Parameters<Command['run']>[2], d: TicketDetail, seen: Inspection): void {
  const t = d.ticket;
  const now = Date.now();
  line(
    out,
    `${t.key}  ${t.status}${t.humanInputRequired ? '  (asks a human)' : ''}${t.blockedReason ? `  blocked: ${t.blockedReason}` : ''}`,
  );
  line(out, `title:    ${t.title}`);
  line(
    out,
    `profile:  ${t.profile}   attempts: ${t.attempts}   worker_pid: ${t.workerPid ?? '-'}   version: ${t.version}`,
  );
  if (t.body.trim()) {
    line(out, 'body:');
    for (const l of t.body.split('\n')) line(out, `  ${l}`);
  }
  line(out, 'runtimes:');
  if (d.runtimes.length === 0) line(out, '  (none)');
  for (const r of d.runtimes) {
    line(
      out,
      `  #${r.id} ${r.status} ${r.tmuxSession} pane ${r.paneId ?? '-'} pid ${r.pid ?? '-'} started ${ago(r.createdAt, now)} ago${r.closedReason ? ` closed: ${r.closedReason}` : ''}${r.exitStatus !== null ? ` exit ${r.exitStatus}` : ''}${r.workdir ? ` workdir ${r.workdir}` : ''}${r.branch ? ` branch ${r.branch}` : ''}`,
    );
  }
  if (seen) {
    line(out, 'findings:');
    if (seen.findings.length === 0) line(out, '  (none)');
    for (const f of seen.findings) line(out, `  ${f.drift ?? 'routine'}: ${f.summary}`);
    if (seen.screen) {
      line(out, `screen: ${seen.screen.status ?? 'cannot tell'}`);
      for (const e of seen.screen.explain) line(out, `  ${e}`);
    }
  }
  const open = d.messages.filter((m) => m.status === 'pending' || m.status === 'delivering');
  line(out, `messages: ${d.messages.length} (${open.length} waiting)`);
  for (const m of d.messages)
    line(out, `  #${m.id} ${m.kind} ${m.status} attempts ${m.attempts} (${m.body.length} chars)`);
  line(out, 'activity (newest first):');
  for (const e of d.events) {
    line(out, `  ${new Date(e.at).toISOString()} ${e.status.padEnd(7)} ${e.actor} ${e.kind}: ${e.summary}`);
    if (e.rootCause) line(out, `      root_cause: ${e.rootCause}`);
    if (e.safeRetry) line(out, `      safe_retry: ${e.safeRetry}`);
    if (e.stopCondition) line(out, `      stop_condition: ${e.stopCondition}`);
    if (e.humanInputRequired) line(out, '      human_input_required: yes');
    for (const a of e.nextActions) line(out, `      next: ${a}`);
  }
}

export const showCommand: Command = {
  spec: {
    name: 'show',
    summary: 'Show a ticket, its runtime rows, messages and activity log.',
    usage: 'mcc show KEY [--json]',
    positionals: [{ name: 'KEY', required: true }],
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const found = await ctx.service.ticketDetail(args.positionals[0]!);
      if (!found.ok)
        return failWith(out, found.code === 'invalid' ? { ...found, message: `show: ${found.message}` } : found);
      // A fresh look at the world says what the rows cannot: badges (NOT-READY, DRIFT...) and why the screen
      // reads as it does. tmux being unreadable is itself a finding, never a failure of `show`.
      const seen = await ctx.service.inspect(found.value.ticket.key);
      const inspection: Inspection = seen.ok ? seen.value : null;
      const ws = await ctx.service.workspaceOf(found.value.ticket.key);
      const workspace = ws.ok && ws.value ? workspaceJson(ws.value.facts, ws.value.verdict) : null;
      if (args.flags['json']) out.stdout(`${toJson({ ...found.value, ...(inspection ?? {}), workspace })}\n`);
      else {
        printDetail(out, found.value, inspection);
        if (ws.ok && ws.value) line(out, `workspace: ${ws.value.facts.ws.path}  ${gitStateText(ws.value.facts)}`);
      }
      return 0;
    }),
};

export const moveCommand: Command = {
  spec: {
    name: 'move',
    summary:
      'Operator move of a ticket to another state (e.g. review, done, back to todo). From blocked to todo resets attempts.',
    usage: 'mcc move KEY STATE',
    positionals: [
      { name: 'KEY', required: true },
      { name: 'STATE', required: true },
    ],
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const [key, state] = args.positionals as [string, string];
      const s = asStatus(state, 'move');
      if (!s.ok) return failWith(out, s);
      const res = await ctx.service.move(key, s.value);
      if (!res.ok) return failWith(out, res);
      line(out, `${key} -> ${res.value.status}`);
      return 0;
    }),
};
