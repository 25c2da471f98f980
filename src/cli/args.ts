// A small, strict argument parser: every command declares its flags, anything else is a usage error
// (exit 2) that names the offending argument.

export type FlagKind = 'string' | 'boolean' | 'number';

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  positionals: { name: string; required: boolean; rest?: boolean }[];
  flags: Record<string, { kind: FlagKind; help: string }>;
}

export const GLOBAL_FLAGS: CommandSpec['flags'] = {
  db: { kind: 'string', help: 'store file (default $XDG_STATE_HOME/mcc/mcc.db; env MCC_DB)' },
  socket: { kind: 'string', help: 'tmux socket name (default mcc; env MCC_TMUX_SOCKET)' },
  config: { kind: 'string', help: 'config file (default $XDG_CONFIG_HOME/mcc/config.json; env MCC_CONFIG)' },
  json: { kind: 'boolean', help: 'print data as JSON' },
  help: { kind: 'boolean', help: 'show help' },
};

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean | number>;
}

export class UsageError extends Error {}

/** Parse argv against a command's spec plus the global flags. */
export function parseArgs(argv: readonly string[], spec: CommandSpec): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  const known = { ...GLOBAL_FLAGS, ...spec.flags };
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || !arg.startsWith('--') || arg === '-') {
      if (!onlyPositionals && arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) {
        throw new UsageError(`${spec.name}: unknown option "${arg}"`);
      }
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const def = known[name];
    if (!def) throw new UsageError(`${spec.name}: unknown option "--${name}"`);
    if (def.kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`${spec.name}: --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${spec.name}: --${name} needs a value`);
    if (def.kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n) || value.trim() === '')
        throw new UsageError(`${spec.name}: --${name} must be a number, got "${value}"`);
      flags[name] = n;
    } else flags[name] = value;
  }
  if (flags.help) return { positionals, flags };
  const required = spec.positionals.filter((p) => p.required).length;
  const rest = spec.positionals.some((p) => p.rest);
  if (positionals.length < required) {
    const missing = spec.positionals[positionals.length]?.name ?? 'argument';
    throw new UsageError(`${spec.name}: missing ${missing}\nusage: ${spec.usage}`);
  }
  if (!rest && positionals.length > spec.positionals.length) {
    throw new UsageError(
      `${spec.name}: unexpected argument "${positionals[spec.positionals.length]}"\nusage: ${spec.usage}`,
    );
  }
  return { positionals, flags };
}

/** Help text for one command, generated from its spec. */
export function helpOf(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary, ''];
  const all = { ...spec.flags, ...GLOBAL_FLAGS };
  for (const [name, f] of Object.entries(all)) {
    const arg = f.kind === 'boolean' ? '' : f.kind === 'number' ? ' N' : ' VALUE';
    lines.push(`  --${(name + arg).padEnd(18)} ${f.help}`);
  }
  return lines.join('\n');
}
