import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

// The one argument parser of every program here (the CLI, the demo agent, the smoke script, the bench), on
// node's util.parseArgs in strict mode: each program declares its flags, anything else is a usage error
// (exit 2) that names the offending argument.

export type FlagKind = 'string' | 'boolean' | 'number';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** One-letter alias: `h` makes `-h` mean `--help`. */
  short?: string;
  /** How help names the value (`PATH`, `S`); default `VALUE`, or `N` for a number. */
  arg?: string;
  /** A string flag that may be given several times: its values are joined with commas. */
  multiple?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  positionals: { name: string; required: boolean; rest?: boolean }[];
  flags: FlagSpecs;
}

/** `--help`/`-h`: the only global flag of the standalone programs. */
export const HELP_FLAG: FlagSpecs = { help: { kind: 'boolean', short: 'h', help: 'show help' } };

/** Flags every `mcc` command accepts. */
export const GLOBAL_FLAGS: FlagSpecs = {
  db: { kind: 'string', arg: 'PATH', help: 'store file (default $XDG_STATE_HOME/mcc/mcc.db; env MCC_DB)' },
  socket: { kind: 'string', arg: 'NAME', help: 'tmux socket name (default mcc; env MCC_TMUX_SOCKET)' },
  host: {
    kind: 'string',
    arg: 'NAME',
    help: 'this host id (default hostname plus a short /etc/machine-id; env MCC_HOST)',
  },
  config: {
    kind: 'string',
    arg: 'PATH',
    help: 'config file (default $XDG_CONFIG_HOME/mcc/config.json; env MCC_CONFIG)',
  },
  json: { kind: 'boolean', help: 'print data as JSON' },
  'tmux-exec': {
    kind: 'boolean',
    help: 'one tmux process per command instead of the persistent control client (env MCC_TMUX_EXEC=1)',
  },
  ...HELP_FLAG,
};

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean | number>;
}

/** Bad usage: `message` names what was wrong; `command` is who says so (`add`, `demo-agent`, `smoke`). */
export class UsageError extends Error {
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

type NodeOptions = NonNullable<ParseArgsConfig['options']>;

function nodeOptions(known: FlagSpecs): NodeOptions {
  const options: NodeOptions = {};
  for (const [name, f] of Object.entries(known)) {
    options[name] = {
      type: f.kind === 'boolean' ? 'boolean' : 'string',
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/** `--json`, `--db=x`, `-h`: an argument that names an option rather than being a value. */
function looksLikeOption(arg: string, known: FlagSpecs): boolean {
  if (arg.startsWith('--')) return true;
  const shorts = Object.values(known).flatMap((f) => (f.short ? [f.short] : []));
  return arg.length > 1 && arg.startsWith('-') && shorts.includes(arg.charAt(1));
}

/**
 * util.parseArgs refuses every separate value that starts with a dash. A value that looks like an option
 * must stay an error (`--body --json` is a forgotten value, not the body "--json"), but `--interval -1` or
 * `--body -x` are plain values: those are glued to their option as `--flag=value` before parsing.
 */
function glueDashValues(argv: readonly string[], known: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    out.push(arg);
    if (arg === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : '';
    const takesValue = Object.hasOwn(known, name) && known[name]?.kind !== 'boolean';
    const next = argv[i + 1];
    if (takesValue && next?.startsWith('-') && !looksLikeOption(next, known)) {
      out[out.length - 1] = `${arg}=${next}`;
      i++;
    }
  }
  return out;
}

/** Our words for what strict util.parseArgs refused: the first offending token, found by a lenient parse. */
function explain(err: unknown, args: string[], options: NodeOptions): string {
  const { tokens } = nodeParseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const def = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!def) return `unknown option "${t.rawName}"`;
    if (def.type === 'boolean' && t.value !== undefined) return `--${t.name} takes no value`;
    if (def.type === 'string' && t.value === undefined) return `--${t.name} needs a value`;
    if (def.type === 'string' && !t.inlineValue && t.value?.startsWith('-')) {
      return `--${t.name} needs a value (got the option "${t.value}"; write --${t.name}=VALUE for a value starting with -)`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

function strictParse(args: string[], options: NodeOptions, command: string) {
  try {
    return nodeParseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    throw new UsageError(command, explain(err, args, options));
  }
}

/** Parse argv against a command's spec plus `globals` (every `mcc` command's by default). */
export function parseArgs(argv: readonly string[], spec: CommandSpec, globals: FlagSpecs = GLOBAL_FLAGS): Parsed {
  const known: FlagSpecs = { ...globals, ...spec.flags };
  const options = nodeOptions(known);
  const args = glueDashValues(argv, known);
  const { values, positionals } = strictParse(args, options, spec.name);
  const flags: Parsed['flags'] = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      flags[name] = value.map(String).join(',');
      continue;
    }
    if (known[name]?.kind === 'number' && typeof value === 'string') {
      const n = Number(value);
      if (!Number.isFinite(n) || value.trim() === '')
        throw new UsageError(spec.name, `--${name} must be a number, got "${value}"`);
      flags[name] = n;
    } else flags[name] = value;
  }
  if (flags['help']) return { positionals, flags };
  const required = spec.positionals.filter((p) => p.required).length;
  const rest = spec.positionals.some((p) => p.rest);
  if (positionals.length < required) {
    const missing = spec.positionals[positionals.length]?.name ?? 'argument';
    throw new UsageError(spec.name, `missing ${missing}\nusage: ${spec.usage}`);
  }
  if (!rest && positionals.length > spec.positionals.length) {
    throw new UsageError(
      spec.name,
      `unexpected argument "${positionals[spec.positionals.length]}"\nusage: ${spec.usage}`,
    );
  }
  return { positionals, flags };
}

/** Whether argv asks for help (`--help` or `-h` before any `--`), for programs that parse the rest later. */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Help text for one command, generated from its spec. */
export function helpOf(spec: CommandSpec, globals: FlagSpecs = GLOBAL_FLAGS): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary, ''];
  for (const [name, f] of Object.entries({ ...spec.flags, ...globals })) {
    const arg = f.kind === 'boolean' ? '' : ` ${f.arg ?? (f.kind === 'number' ? 'N' : 'VALUE')}`;
    const label = `${f.short ? `-${f.short}, ` : ''}--${name}${arg}`;
    lines.push(`  ${label.padEnd(20)} ${f.help}`);
  }
  return lines.join('\n');
}
