import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { exitCodeOf } from '../core/result.js';
import { globalContextOptions, loadContext, type Command } from './command.js';
import { line } from './output.js';

// `mcc doctor`: each check on its own line; exit 1 when any check fails, 2 when the config or the store is unusable.

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  if (isAbsolute(cmd)) return isExecutable(cmd);
  return (env['PATH'] ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, cmd)));
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export const doctorCommand: Command = {
  spec: {
    name: 'doctor',
    summary:
      'Check tmux, the store, the socket and the profiles; one line per check, exit 1 if any fails, 2 if the config or store is unusable.',
    usage: 'mcc doctor',
    positionals: [],
    flags: {},
  },
  async run(args, env, out) {
    let failed = 0;
    const check = (okay: boolean, text: string) => {
      if (!okay) failed++;
      line(out, `${okay ? 'ok  ' : 'FAIL'} ${text}`);
    };
    const tmuxBin = env['MCC_TMUX_BIN'] || 'tmux';
    const v = spawnSync(tmuxBin, ['-V'], { encoding: 'utf8' });
    check(
      v.status === 0,
      v.status === 0
        ? `tmux present: ${v.stdout.trim()}`
        : `tmux not runnable (${tmuxBin}): ${v.error?.message ?? v.stderr}`,
    );
    const { openContext } = await loadContext();
    const ctx = await openContext({ ...globalContextOptions(args), env });
    if (!ctx.ok) {
      // A bad config or an unusable store is bad input (exit 2, as every command), not a failed check.
      check(false, ctx.message);
      return exitCodeOf(ctx.code);
    }
    const { config, dbPath, service, serverStore } = ctx.value;
    try {
      check(
        true,
        `config: ${config.source ?? 'built-in defaults (no config file)'}; ttl ${config.ttlSeconds}s, retry limit ${config.retryLimit}, interval ${config.intervalSeconds}s`,
      );
      try {
        if (serverStore) {
          // A server database: no file mode to check; a write proves the connection, the schema and the grants.
          const t = await service.storeWriteCheck();
          check(true, `store writable: ${dbPath} (PostgreSQL, event ${t.id})`);
        } else {
          const mode = (statSync(dbPath).mode & 0o777).toString(8);
          const t = await service.storeWriteCheck();
          check(mode === '600', `store writable: ${dbPath} (mode ${mode}, event ${t.id})`);
        }
      } catch (e) {
        check(false, `store ${dbPath}: ${(e as Error).message}`);
      }
      const obs = await service.observeTmux();
      check(
        obs.kind === 'ok',
        obs.kind === 'ok'
          ? `socket ${config.socket}: ${obs.panes.length} pane(s)`
          : `socket ${config.socket}: ${obs.reason}`,
      );
      const control = await ctx.value.tmux.controlMode();
      // Information, not a failure: the exec path is always there.
      check(true, `tmux control client ${control.why}`);
      for (const p of Object.values(config.profiles)) {
        const prog = p.command[0]!;
        const found = onPath(prog, env);
        // A built-in agent profile nobody configured is an offer, not a requirement: its CLI may be absent.
        const required = p.name === config.defaultProfile || config.fileProfiles.includes(p.name);
        check(
          found || !required,
          `profile ${p.name}: ${prog} ${found ? 'found' : required ? 'not found on PATH' : 'not installed (built-in profile, unused by default)'}${p.ready ? '' : ' (no ready pattern: prompts are never delivered)'}`,
        );
      }
    } finally {
      ctx.value.close();
    }
    return failed > 0 ? 1 : 0;
  },
};
