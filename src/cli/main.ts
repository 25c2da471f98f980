import { sanitizeForTerminal } from '../core/sanitize.js';
import { StoreError } from '../core/result.js';
import { notAKey, TICKET_KEY_RE } from '../core/types.js';
import { DEMO_AGENT_SPEC } from '../demo-agent/args.js';
import { asksForHelp, helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from './args.js';
import type { Command } from './command.js';
import { intervalMsOf, loadContext, withContext } from './command.js';
import { autoCommand } from './auto-command.js';
import { commandsCommand } from './command-commands.js';
import { doctorCommand } from './doctor.js';
import { hostCommand, hostsCommand } from './host-commands.js';
import { MCC_VERSION } from './host-id.js';
import { failWith, processOut, type Out } from './output.js';
import {
  adoptCommand,
  attachCommand,
  interruptCommand,
  pickupCommand,
  reconcileCommand,
  retireCommand,
  sendCommand,
} from './runtime-commands.js';
import { approveCommand, blockCommand, changesCommand } from './review-commands.js';
import { addCommand, listCommand, moveCommand, showCommand } from './ticket-commands.js';
import { worktreesCommand } from './worktree-commands.js';

// Entry point: `mcc` opens the console; `mcc COMMAND ...` runs one command; `mcc --auto` runs the daemon.
// Exit codes: 0 ok, 1 unexpected error, 2 bad usage or input, 3 conflict, 4 not found.

const consoleCommand: Command = {
  spec: {
    name: 'console',
    summary: 'Open the console (the default when no command is given).',
    usage: 'mcc [console] [--readonly] [--interval S]',
    positionals: [],
    flags: {
      readonly: { kind: 'boolean', help: 'watch only: every mutating key is disabled' },
      interval: { kind: 'number', help: 'seconds between polls (default: config intervalSeconds)' },
    },
  },
  run: async (args, env, out) => {
    const { operatorActor } = await loadContext();
    return withContext(
      args,
      env,
      out,
      async (ctx) => {
        const interval = intervalMsOf(args, ctx.config);
        if (!interval.ok) return failWith(out, interval);
        // React's development build profiles every render: ten times the CPU and memory at 10,000 rows.
        process.env['NODE_ENV'] ??= 'production';
        // Ink, React and the views load here only: one-shot commands never pay for them.
        const { runConsole } = await import('../ui/run-console.js');
        return runConsole(ctx, { readonly: Boolean(args.flags['readonly']), intervalMs: interval.value });
      },
      operatorActor(env, 'console'),
    );
  },
};

const demoAgentCommand: Command = {
  spec: DEMO_AGENT_SPEC,
  // The demo agent parses its own argv (it is also a standalone program): see main().
  run: async () => 2,
};

export const COMMANDS: Command[] = [
  addCommand,
  listCommand,
  showCommand,
  moveCommand,
  approveCommand,
  changesCommand,
  blockCommand,
  pickupCommand,
  sendCommand,
  adoptCommand,
  interruptCommand,
  retireCommand,
  reconcileCommand,
  attachCommand,
  commandsCommand,
  worktreesCommand,
  hostsCommand,
  hostCommand,
  doctorCommand,
  consoleCommand,
  demoAgentCommand,
];

/** Every command as `mcc --help` and the README list them. */
export const LISTED_COMMANDS: readonly Command[] = [...COMMANDS, autoCommand];

function topHelp(): string {
  const rows = LISTED_COMMANDS.map(
    (c: { spec: CommandSpec }) => `  ${c.spec.usage.padEnd(58)}\n      ${c.spec.summary}`,
  );
  return [
    'mcc: Mission Control console for AI coding agents running in tmux, one session per ticket.',
    '',
    'usage: mcc [COMMAND] [ARGS] [--db PATH] [--socket NAME] [--host NAME] [--config PATH] [--json] [-h|--help]',
    '',
    'commands:',
    ...rows,
    '',
    'exit codes: 0 ok, 1 unexpected error, 2 bad usage or input, 3 conflict (changed underneath or held by someone else), 4 not found',
    'environment: MCC_DB, MCC_TMUX_SOCKET, MCC_HOST, MCC_CONFIG, MCC_FAILPOINTS (tests), NO_COLOR',
  ].join('\n');
}

/** Run the CLI; returns the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: Out = processOut): Promise<number> {
  try {
    const first = argv[0];
    if (first === '--help' || first === '-h' || first === 'help') {
      out.stdout(`${topHelp()}\n`);
      return 0;
    }
    if (first === '--version') {
      out.stdout(`mcc ${MCC_VERSION}\n`);
      return 0;
    }
    if (argv.includes('--auto') && (first === undefined || first.startsWith('-'))) {
      return await runCommand(autoCommand, argv, env, out);
    }
    if (first === 'demo-agent') {
      if (asksForHelp(argv.slice(1))) {
        out.stdout(`${helpOf(DEMO_AGENT_SPEC, HELP_FLAG)}\n`);
        return 0;
      }
      const { runDemoAgent } = await import('../demo-agent/demo-agent.js');
      return await runDemoAgent(argv.slice(1));
    }
    const cmd =
      first === undefined || first.startsWith('-') ? consoleCommand : COMMANDS.find((c) => c.spec.name === first);
    if (!cmd) {
      out.stderr(`mcc: unknown command "${sanitizeForTerminal(first ?? '')}"; see mcc --help\n`);
      return 2;
    }
    const rest = cmd === consoleCommand && first !== 'console' ? argv : argv.slice(1);
    return await runCommand(cmd, rest, env, out);
  } catch (e) {
    if (e instanceof UsageError) {
      // The message quotes the operator's argument, which may hold escape sequences.
      out.stderr(`mcc: ${e.command}: ${sanitizeForTerminal(e.message)}\n`);
      return 2;
    }
    if (e instanceof StoreError) {
      out.stderr(`mcc: ${sanitizeForTerminal(e.message)}\n`);
      return 1;
    }
    out.stderr(`mcc: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

async function runCommand(cmd: Command, argv: readonly string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const parsed = parseArgs(argv, cmd.spec);
  if (parsed.flags['help']) {
    out.stdout(`${helpOf(cmd.spec)}\n`);
    return 0;
  }
  // A bad key is refused before the store is opened (or created): nothing is written for it.
  cmd.spec.positionals.forEach((p, i) => {
    const value = parsed.positionals[i];
    if (p.name === 'KEY' && value !== undefined && !TICKET_KEY_RE.test(value))
      throw new UsageError(cmd.spec.name, notAKey(value));
  });
  return cmd.run(parsed, env, out);
}
