import type { CommandSpec, Parsed } from './args.js';
import { openContext, type McContext } from './context.js';
import { failWith, type Out } from './output.js';

export interface Command {
  spec: CommandSpec;
  run(args: Parsed, env: NodeJS.ProcessEnv, out: Out): Promise<number>;
}

/** Open the context from global flags, run `fn`, always close the store. Bad config exits 2 before any write. */
export async function withContext(
  args: Parsed,
  env: NodeJS.ProcessEnv,
  out: Out,
  fn: (ctx: McContext) => Promise<number>,
  actor?: string,
): Promise<number> {
  const ctx = openContext({
    ...(typeof args.flags['db'] === 'string' ? { db: args.flags['db'] } : {}),
    ...(typeof args.flags['socket'] === 'string' ? { socket: args.flags['socket'] } : {}),
    ...(typeof args.flags['config'] === 'string' ? { config: args.flags['config'] } : {}),
    env,
    ...(actor ? { actor } : {}),
  });
  if (!ctx.ok) return failWith(out, ctx);
  try {
    return await fn(ctx.value);
  } finally {
    ctx.value.close();
  }
}
