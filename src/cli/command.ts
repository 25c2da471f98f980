import type { Config } from '../core/config.js';
import { fail, ok, type Result } from '../core/result.js';
import type { CommandSpec, Parsed } from './args.js';
import type * as ContextModule from './context.js';
import type { ContextOptions, McContext } from './context.js';
import { failWith, type Out } from './output.js';

export interface Command {
  spec: CommandSpec;
  run(args: Parsed, env: NodeJS.ProcessEnv, out: Out): Promise<number>;
}

/** What the global flags say about the context: store, socket, config, and how tmux is driven. */
export function globalContextOptions(args: Parsed): Omit<ContextOptions, 'env'> {
  return {
    ...(typeof args.flags['db'] === 'string' ? { db: args.flags['db'] } : {}),
    ...(typeof args.flags['socket'] === 'string' ? { socket: args.flags['socket'] } : {}),
    ...(typeof args.flags['config'] === 'string' ? { config: args.flags['config'] } : {}),
    ...(typeof args.flags['host'] === 'string' ? { host: args.flags['host'] } : {}),
    ...(args.flags['tmux-exec'] === true ? { tmuxExec: true } : {}),
  };
}

/**
 * The wiring (store, probes, core service), loaded on first use: `mcc --help` and usage errors never pay for
 * SQLite, zod or the probes.
 */
export function loadContext(): Promise<typeof ContextModule> {
  return import('./context.js');
}

/** Open the context from global flags, run `fn`, always close the store. Bad config exits 2 before any write. */
export async function withContext(
  args: Parsed,
  env: NodeJS.ProcessEnv,
  out: Out,
  fn: (ctx: McContext) => Promise<number>,
  actor?: string,
): Promise<number> {
  const { openContext } = await loadContext();
  const ctx = await openContext({ ...globalContextOptions(args), env, ...(actor ? { actor } : {}) });
  if (!ctx.ok) return failWith(out, ctx);
  try {
    return await fn(ctx.value);
  } finally {
    ctx.value.close();
  }
}

/** `--interval S` (else the config's intervalSeconds) in ms; the console and the daemon accept the same range. */
export function intervalMsOf(args: Parsed, config: Config): Result<number> {
  const s = typeof args.flags['interval'] === 'number' ? args.flags['interval'] : config.intervalSeconds;
  if (!(s > 0) || s > 3600) return fail('invalid', `--interval must be in (0, 3600] seconds, got ${s}`);
  return ok(s * 1000);
}
