import type { Command } from './command.js';
import { intervalMsOf, withContext } from './command.js';
import { HOST_LABEL_RE, HOST_LABEL_RULE, SSH_TARGET_RE } from '../core/hosts.js';
import { failWith } from './output.js';

// `mcc --auto` as the command table lists it; the daemon itself (daemon.ts, with the poller and the checks
// runner) loads only when it runs.

export const autoCommand: Command = {
  spec: {
    name: '--auto',
    summary: 'Headless reconciler: a pass every interval; with --pickup also starts todo tickets up to --max-runtimes.',
    usage:
      'mcc --auto [--interval S] [--once] [--dry-run] [--pickup] [--max-runtimes N] [--label L]... [--ssh-target T] [--json]',
    positionals: [],
    flags: {
      auto: { kind: 'boolean', help: 'run the reconciler' },
      interval: { kind: 'number', help: 'seconds between passes (default: config intervalSeconds)' },
      once: { kind: 'boolean', help: 'one pass, then exit' },
      'dry-run': { kind: 'boolean', help: 'print what would be done, change nothing' },
      pickup: { kind: 'boolean', help: 'also pick up todo tickets' },
      'max-runtimes': {
        kind: 'number',
        help: 'cap on working runtimes of this host for --pickup (default 4; idle runtimes of in_review tickets do not count)',
      },
      label: {
        kind: 'string',
        arg: 'L',
        multiple: true,
        help: 'a label of this host (repeatable): --pickup also starts tickets added with --host-label L',
      },
      'ssh-target': {
        kind: 'string',
        arg: 'TARGET',
        help: "what other hosts run ssh with to attach to this host's sessions (default: config sshTarget)",
      },
    },
  },
  run: (args, env, out) =>
    withContext(
      args,
      env,
      out,
      async (ctx) => {
        const interval = intervalMsOf(args, ctx.config);
        if (!interval.ok) return failWith(out, interval);
        const max = typeof args.flags['max-runtimes'] === 'number' ? args.flags['max-runtimes'] : 4;
        if (!Number.isInteger(max) || max < 0)
          return failWith(out, {
            ok: false,
            code: 'invalid',
            message: `--max-runtimes must be a whole number >= 0, got ${max}`,
          });
        const target = typeof args.flags['ssh-target'] === 'string' ? args.flags['ssh-target'] : ctx.config.sshTarget;
        if (target !== null && !SSH_TARGET_RE.test(target))
          return failWith(out, {
            ok: false,
            code: 'invalid',
            message: `--ssh-target "${target}": an ssh destination (user@host, an ssh_config alias), no spaces, not starting with -`,
          });
        const labels = typeof args.flags['label'] === 'string' ? args.flags['label'].split(',') : [];
        const badLabel = labels.find((l) => !HOST_LABEL_RE.test(l));
        if (badLabel !== undefined)
          return failWith(out, {
            ok: false,
            code: 'invalid',
            message: `--label "${badLabel.slice(0, 40)}": ${HOST_LABEL_RULE}`,
          });
        const { runDaemon } = await import('./daemon.js');
        const { commandWakeFor } = await import('../store/command-wake.notify.js');
        const abort = new AbortController();
        const stop = () => abort.abort();
        // `on`, not `once`: execa's exit hook counts signal listeners, and a `once` listener that already
        // fired no longer counts, so the hook would re-raise the signal and kill us mid-pass.
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        try {
          return await runDaemon(
            ctx.service,
            {
              intervalMs: interval.value,
              once: Boolean(args.flags['once']),
              dryRun: Boolean(args.flags['dry-run']),
              pickup: Boolean(args.flags['pickup']),
              maxRuntimes: max,
              json: Boolean(args.flags['json']),
              sshTarget: target,
              labels,
              wake: commandWakeFor(ctx.store, ctx.service.host),
            },
            out,
            abort.signal,
          );
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      },
      'auto',
    ),
};
