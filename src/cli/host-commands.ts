import { createInterface } from 'node:readline/promises';
import { hostIdProblem, type HostView } from '../core/hosts.js';
import { fail } from '../core/result.js';
import type { Command } from './command.js';
import { withContext } from './command.js';
import { ago, cell, failWith, line, toJson } from './output.js';

// `mcc hosts`: the hosts sharing the store, with their heartbeat; `mcc host forget HOST` fences one that is
// gone for good (its runtimes closed host_lost, their tickets back to todo).

function reachText(v: HostView): string {
  switch (v.reach.kind) {
    case 'reachable':
      return 'reachable';
    case 'unreachable':
      return 'UNREACHABLE';
    case 'forgotten':
      return 'forgotten';
    default: {
      const never: never = v.reach;
      throw new Error(`unhandled reachability ${JSON.stringify(never)}`);
    }
  }
}

/** One host as `--json` prints it. */
export function hostJson(v: HostView, now: number) {
  const h = v.host;
  return {
    id: h.id,
    state: v.reach.kind,
    heartbeatAt: new Date(h.heartbeatAt).toISOString(),
    heartbeatAgeSeconds: Math.max(0, Math.round((now - h.heartbeatAt) / 1000)),
    openRuntimes: v.openRuntimes,
    version: h.version,
    socket: h.tmuxSocket,
    labels: h.labels,
    sshTarget: h.sshTarget,
    epoch: h.epoch,
    forgottenAt: h.forgottenAt === null ? null : new Date(h.forgottenAt).toISOString(),
  };
}

export const hostsCommand: Command = {
  spec: {
    name: 'hosts',
    summary: 'List the hosts sharing this store: reachable, UNREACHABLE or forgotten, heartbeat age, runtimes.',
    usage: 'mcc hosts [--json]',
    positionals: [],
    flags: {},
  },
  run: (args, env, out) =>
    withContext(args, env, out, async (ctx) => {
      const views = await ctx.service.hosts.list();
      const now = ctx.service.clock.now();
      if (args.flags['json']) {
        out.stdout(`${toJson(views.map((v) => hostJson(v, now)))}\n`);
        return 0;
      }
      if (views.length === 0) {
        line(out, 'no hosts yet: a host registers when its daemon (mcc --auto) runs');
        return 0;
      }
      const idW = Math.min(32, Math.max(4, ...views.map((v) => v.host.id.length)));
      line(out, `${cell('HOST', idW)}  ${cell('STATE', 11)}  BEAT  RT  VERSION  SOCKET  LABELS  SSH`);
      for (const v of views) {
        const h = v.host;
        const me = h.id === ctx.service.host ? ' (this host)' : '';
        line(
          out,
          `${cell(h.id, idW)}  ${cell(reachText(v), 11)}  ${ago(h.heartbeatAt, now).padStart(4)}  ` +
            `${String(v.openRuntimes).padStart(2)}  ${h.version}  ${h.tmuxSocket}  ` +
            `${h.labels.length === 0 ? '-' : h.labels.join(',')}  ${h.sshTarget ?? '-'}${me}`,
        );
      }
      return 0;
    }),
};

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const hostCommand: Command = {
  spec: {
    name: 'host',
    summary:
      'Fence a host that is gone: its runtimes are closed host_lost, their tickets go back to todo; if it returns, its daemon retires them (exit 3 while its daemon beats).',
    usage: 'mcc host forget HOST [--yes]',
    positionals: [
      { name: 'forget', required: true },
      { name: 'HOST', required: true },
    ],
    flags: {
      yes: { kind: 'boolean', help: 'do not ask (required when stdin is not a terminal)' },
    },
  },
  run: async (args, env, out) => {
    const [sub, id] = args.positionals as [string, string];
    if (sub !== 'forget') return failWith(out, fail('invalid', `host: unknown subcommand "${sub}" (forget)`));
    const problem = hostIdProblem(id);
    if (problem !== null) return failWith(out, fail('invalid', `host forget: ${problem}`));
    const yes = Boolean(args.flags['yes']);
    if (!yes && !process.stdin.isTTY)
      return failWith(out, fail('invalid', `host forget ${id}: stdin is not a terminal; pass --yes to confirm`));
    return withContext(args, env, out, async (ctx) => {
      if (!yes) {
        const views = await ctx.service.hosts.list();
        const v = views.find((x) => x.host.id === id);
        const what = v ? `${v.openRuntimes} open runtime${v.openRuntimes === 1 ? '' : 's'}` : 'unknown host';
        if (!(await confirm(`forget host ${id} (${what}): close them host_lost, tickets back to todo? [y/N] `))) {
          line(out, 'nothing changed');
          return 1;
        }
      }
      const res = await ctx.service.hosts.forget(id);
      if (!res.ok) return failWith(out, res);
      const { host, closed } = res.value;
      if (args.flags['json']) {
        out.stdout(
          `${toJson({
            host: host.id,
            epoch: host.epoch,
            closed: closed.map((c) => ({
              runtime: c.runtime.id,
              ticket: c.runtime.ticketKey,
              ticketStatus: c.ticket?.status ?? null,
            })),
          })}\n`,
        );
        return 0;
      }
      line(out, `forgot host ${host.id} (epoch ${host.epoch}): ${closed.length} runtime(s) closed host_lost`);
      for (const c of closed)
        line(
          out,
          `  ${c.runtime.ticketKey}: runtime ${c.runtime.id} (${c.runtime.tmuxSession}) closed` +
            (c.ticket ? `; ticket ${c.ticket.status}` : ''),
        );
      return 0;
    });
  },
};
