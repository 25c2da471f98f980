import { spawnSync } from 'node:child_process';
import type { Applied } from '../core/apply.js';
import type { MissionControl, PassReport } from '../core/service.js';
import type { Result } from '../core/result.js';
import { notAKey, sessionName, TICKET_KEY_RE } from '../core/types.js';
import type { Routed } from '../core/command-desk.js';
import type { Command } from './command.js';
import { withContext } from './command.js';
import { failWith, line, toJson, type Out } from './output.js';
import { followQueued, waitMsOf, WAIT_FLAGS } from './remote-command.js';

// Commands over runtimes: each goes through the command desk, exactly as the console's keys do: a runtime of
// this host is acted on here by the one core service; one of another host becomes a command for that host's
// daemon, and the CLI waits for its result (--no-wait, --wait-seconds N).

const keyArg = [{ name: 'KEY', required: true }];
const WAIT_USAGE = '[--no-wait | --wait-seconds N]';

function simple(name: string, summary: string, op: 'adopt' | 'interrupt' | 'retire'): Command {
  return {
    spec: { name, summary, usage: `mcc ${name} KEY ${WAIT_USAGE}`, positionals: keyArg, flags: { ...WAIT_FLAGS } },
    run: (args, env, out) => {
      const waitMs = waitMsOf(args, name);
      if (!waitMs.ok) return Promise.resolve(failWith(out, waitMs));
      return withContext(args, env, out, async (ctx) => {
        const desk = ctx.service.commandDesk();
        const res: Result<Routed<string>> = await desk[op](args.positionals[0]!);
        if (!res.ok) return failWith(out, res);
        const json = Boolean(args.flags['json']);
        if (res.value.where === 'queued') return followQueued(desk, res.value, waitMs.value, out, json);
        if (json) out.stdout(`${toJson({ ok: true, message: res.value.value })}\n`);
        else line(out, res.value.value);
        return 0;
      });
    },
  };
}

export const adoptCommand = simple(
  'adopt',
  'Point a ticket at its live runtime (PID-verified), as the reconciler would.',
  'adopt',
);
export const interruptCommand = simple(
  'interrupt',
  "Send the profile's interrupt keys to the ticket's live runtime.",
  'interrupt',
);
export const retireCommand = simple(
  'retire',
  'Kill the ticket runtime and close its row; an in_progress ticket returns to todo.',
  'retire',
);

export const pickupCommand: Command = {
  spec: {
    name: 'pickup',
    summary:
      'Start a runtime for a todo ticket (or adopt its live one). The prompt is delivered when the agent is ready.',
    usage: `mcc pickup KEY [--on HOST] ${WAIT_USAGE}`,
    positionals: keyArg,
    flags: {
      on: {
        kind: 'string',
        arg: 'HOST',
        help: "start it on HOST (its daemon does): default here, or the ticket's host",
      },
      ...WAIT_FLAGS,
    },
  },
  run: (args, env, out) => {
    const waitMs = waitMsOf(args, 'pickup');
    if (!waitMs.ok) return Promise.resolve(failWith(out, waitMs));
    return withContext(args, env, out, async (ctx) => {
      const desk = ctx.service.commandDesk();
      const on = args.flags['on'];
      const res = await desk.pickup(args.positionals[0]!, typeof on === 'string' ? { host: on } : {});
      if (!res.ok) return failWith(out, res);
      if (res.value.where === 'queued')
        return followQueued(desk, res.value, waitMs.value, out, Boolean(args.flags['json']));
      const { ticket, runtime, how, prompt } = res.value.value;
      if (args.flags['json']) {
        out.stdout(`${toJson(res.value.value)}\n`);
        return 0;
      }
      line(
        out,
        `${ticket.key} ${ticket.status}: ${how} ${runtime.tmuxSession} (pid ${runtime.pid ?? '?'}, ${runtime.status})`,
      );
      line(
        out,
        prompt === 'sent'
          ? 'prompt delivered'
          : 'prompt pending: delivered by the next pass once the agent is ready (mcc reconcile, the console, or mcc --auto)',
      );
      return 0;
    });
  },
};

export const sendCommand: Command = {
  spec: {
    name: 'send',
    summary: "Queue text for the ticket's runtime; delivered now if it is ready, else when it is.",
    usage: `mcc send KEY TEXT ${WAIT_USAGE}`,
    positionals: [
      { name: 'KEY', required: true },
      { name: 'TEXT', required: true, rest: true },
    ],
    flags: { ...WAIT_FLAGS },
  },
  run: (args, env, out) => {
    const waitMs = waitMsOf(args, 'send');
    if (!waitMs.ok) return Promise.resolve(failWith(out, waitMs));
    return withContext(args, env, out, async (ctx) => {
      const [key, ...words] = args.positionals as [string, ...string[]];
      const desk = ctx.service.commandDesk();
      const res = await desk.send(key, words.join(' '));
      if (!res.ok) return failWith(out, res);
      if (res.value.where === 'queued')
        return followQueued(desk, res.value, waitMs.value, out, Boolean(args.flags['json']));
      line(
        out,
        res.value.value === 'sent'
          ? `sent to ${key}`
          : `queued for ${key}: the runtime is busy or not ready; delivered when it is`,
      );
      return 0;
    });
  },
};

function describeApplied(a: Applied): string {
  const f = a.finding;
  const tag = f.drift ? `[${f.drift}] ` : '';
  const who = f.ticketKey ? `${f.ticketKey}: ` : '';
  const verdict =
    a.outcome === 'skipped'
      ? f.action.type === 'wait'
        ? 'waiting'
        : f.action.type === 'none'
          ? 'left alone'
          : 'planned'
      : a.outcome;
  return `${verdict.padEnd(10)} ${tag}${who}${f.summary}${a.detail ? ` (${a.detail})` : ''}`;
}

/** Print a pass report, one line per finding. */
export function printReport(out: Out, report: PassReport, json: boolean): void {
  if (json) {
    out.stdout(
      `${toJson({
        at: new Date(report.snapshot.at).toISOString(),
        observation: report.snapshot.tmux.kind === 'ok' ? 'ok' : `unknown: ${report.snapshot.tmux.reason}`,
        findings: report.applied.map((a) => ({ ...a.finding, outcome: a.outcome, detail: a.detail })),
      })}\n`,
    );
    return;
  }
  // Status bookkeeping (observe) is a write but not news: keep the report to what an operator acts on.
  const shown = report.applied.filter((a) => a.finding.action.type !== 'observe');
  if (shown.length === 0) line(out, 'nothing to do: ticket rows, runtime rows and tmux agree');
  for (const a of shown) line(out, describeApplied(a));
}

export const reconcileCommand: Command = {
  spec: {
    name: 'reconcile',
    summary:
      'One reconcile pass: observe tmux and processes once, diagnose drift, apply the fixes (or only show them).',
    usage: 'mcc reconcile [--dry-run] [--json]',
    positionals: [],
    flags: { 'dry-run': { kind: 'boolean', help: 'show the plan, change nothing' } },
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const report = await ctx.service.reconcile(args.flags['dry-run'] ? 'dry-run' : 'auto');
      printReport(out, report, Boolean(args.flags['json']));
      // Exit 1 when tmux could not be seen, so scripts notice that nothing could be confirmed.
      return report.snapshot.tmux.kind === 'ok' ? 0 : 1;
    }),
};

/**
 * Attach through `run` (the real one spawns with the terminal inherited): this host's tmux for a local runtime,
 * `ssh TARGET -t -- tmux -L SOCKET attach -t =SESSION` for a runtime of another host (an argv, never a shell).
 */
export async function runAttach(
  service: MissionControl,
  key: string,
  out: Out,
  run: (argv: readonly string[]) => number | null,
): Promise<number> {
  const argv = await service.hosts.attachArgv(key);
  if (!argv.ok) return failWith(out, argv);
  const status = run(argv.value);
  if (status === 0) return 0;
  const remote = argv.value[0] === 'ssh';
  return failWith(out, {
    ok: false,
    code: 'not_found',
    message: remote
      ? `attach: ${argv.value.join(' ')} exited with ${status ?? 'a signal'}`
      : `attach: no session ${sessionName(key)} on socket ${service.socket}`,
  });
}

export const attachCommand: Command = {
  spec: {
    name: 'attach',
    summary:
      "Attach this terminal to the ticket's tmux session (over ssh for a runtime of another host); detach (C-b d) to come back.",
    usage: 'mcc attach KEY',
    positionals: keyArg,
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const key = args.positionals[0]!;
      if (!TICKET_KEY_RE.test(key))
        return failWith(out, { ok: false, code: 'invalid', message: `attach: ${notAKey(key)}` });
      if (!process.stdin.isTTY)
        return failWith(out, { ok: false, code: 'invalid', message: 'attach: needs a terminal (stdin is not a TTY)' });
      return runAttach(
        ctx.service,
        key,
        out,
        (argv) => spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' }).status,
      );
    }),
};
