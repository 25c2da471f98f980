import type { CommandOutcome, CommandRunner } from '../core/command-runner.port.js';
import { fail, ok, type Result } from '../core/result.js';
import {
  ENV_NAME_RE,
  TMUX_KEY_NAME_RE,
  type SpawnedPane,
  type SpawnSpec,
  type TmuxObservation,
  type TmuxPort,
} from '../core/tmux.port.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './command-runner.node.js';
import { defaultTmuxConfigPath, ensureTmuxConfig } from './tmux-config.js';
import { TmuxControlClient } from './tmux-control.js';
import { controlModeSafe } from './tmux-control-protocol.js';
import {
  BUFFER_NAME_RE,
  classifyTmuxError,
  describeOutcome,
  formatLiteral,
  PANE_FORMAT,
  PANE_ID_RE,
  parsePaneList,
  SESSION_NAME_RE,
  SOCKET_NAME_RE,
  STORE_TAG_OPTION,
  STORE_TAG_RE,
  tmuxArg,
} from './tmux-protocol.js';

export { classifyTmuxError, ourPanes, type OurPane, type TmuxErrorKind } from './tmux-protocol.js';

export const DEFAULT_TMUX_SOCKET = 'mcc';
export const PANE_WIDTH = 200;
export const PANE_HEIGHT = 50;
const MAX_CAPTURE_LINES = 100_000;
/** Waits before asking an exiting server again to make a session (about 1.6 s in all). */
const SERVER_EXITING_RETRY_MS = [50, 150, 400, 1000];

export interface TmuxProbeOptions {
  /** Name for `tmux -L`: a private server, never the operator's default one. */
  socket: string;
  runner: CommandRunner;
  tmuxBin?: string;
  /** Where the probe writes its server config (TMUX_CONFIG); defaults to the mcc state directory. */
  configFile?: string;
  now?: () => number;
  timeoutMs?: number;
  /**
   * `control`: the commands of a pass (list-panes, capture, keys, paste, buffers, kill) go over one persistent
   * `tmux -C` client, with the exec path whenever that client is not there. `exec` (default): one tmux process
   * per command, through the runner. `auto`: control once `tmux -V` shows a tmux that takes control clients
   * safely (`controlModeSafe`), exec otherwise.
   */
  mode?: 'control' | 'exec' | 'auto';
}

/** Whether a command may simply be run again over exec when the control client ended before answering it. */
type Retry = 'retry' | 'once';

/** The tmux server on our private socket, driven through the CommandRunner. */
export class TmuxProbe implements TmuxPort {
  readonly socket: string;
  private readonly runner: CommandRunner;
  private readonly bin: string;
  private readonly configFile: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private configWritten = false;
  private readonly control: TmuxControlClient | null;
  /** `auto` mode: the version check, run once before the first command; then whether control may be used. */
  private versionCheck: Promise<void> | null = null;
  private controlAllowed: boolean;
  private controlNote: string;
  private readonly autoMode: boolean;

  constructor(opts: TmuxProbeOptions) {
    // A bad socket name is a bug upstream (config validation); `/` in it would point -L elsewhere.
    if (!SOCKET_NAME_RE.test(opts.socket))
      throw new TypeError(`invalid tmux socket name ${JSON.stringify(opts.socket)}`);
    this.socket = opts.socket;
    this.runner = opts.runner;
    this.bin = opts.tmuxBin ?? 'tmux';
    this.configFile = opts.configFile ?? defaultTmuxConfigPath();
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const mode = opts.mode ?? 'exec';
    this.control =
      mode === 'exec'
        ? null
        : new TmuxControlClient({ bin: this.bin, socket: this.socket, timeoutMs: this.timeoutMs, now: this.now });
    this.controlAllowed = mode === 'control';
    this.controlNote =
      mode === 'exec' ? 'off: one tmux process per command' : mode === 'control' ? 'on (forced)' : 'not decided yet';
    this.autoMode = mode === 'auto';
  }

  /** Whether the control client is used, and why (for `mcc doctor`); asks tmux for its version if undecided. */
  async controlMode(): Promise<{ on: boolean; why: string }> {
    await this.decided();
    return { on: this.control !== null && this.controlAllowed, why: this.controlNote };
  }

  private decided(): Promise<void> {
    if (!this.autoMode) return Promise.resolve();
    this.versionCheck ??= this.runner.run({ file: this.bin, args: ['-V'], timeoutMs: this.timeoutMs }).then((out) => {
      if (!succeeded(out)) {
        this.controlNote = `off: tmux -V failed (${describeOutcome(out)})`;
        return;
      }
      const verdict = controlModeSafe(out.stdout);
      this.controlAllowed = verdict.safe;
      this.controlNote = `${verdict.safe ? 'on' : 'off'}: ${verdict.why}`;
    });
    return this.versionCheck;
  }

  /** The pid of the control client's `tmux -C` process while there is one. */
  get controlPid(): number | undefined {
    return this.control?.pid;
  }

  /**
   * Hints from the control client's notifications (sessions, windows, dead panes), while it is connected; in
   * exec mode there is nothing to listen to and the listener is never called.
   */
  onChange(listener: () => void): () => void {
    return this.control?.onChange(listener) ?? (() => undefined);
  }

  /** Stop the control client (stdin ended, SIGTERM after a short grace); later calls use exec. */
  async close(): Promise<void> {
    await this.control?.close();
  }

  async observe(): Promise<TmuxObservation> {
    // Taken before asking: everything listed existed at or after `at`.
    const at = this.now();
    const out = await this.pass(['list-panes', '-a', '-F', PANE_FORMAT], 'retry');
    if (!succeeded(out)) {
      if (classifyTmuxError(out) === 'no_server') return { kind: 'ok', at, panes: [] };
      return { kind: 'unknown', at, reason: `tmux list-panes: ${describeOutcome(out)}` };
    }
    const parsed = parsePaneList(out.stdout);
    return parsed.ok ? { kind: 'ok', at, panes: parsed.panes } : { kind: 'unknown', at, reason: parsed.reason };
  }

  async newSession(spec: SpawnSpec): Promise<Result<SpawnedPane>> {
    if (!SESSION_NAME_RE.test(spec.session))
      return fail('invalid', `invalid session name ${JSON.stringify(spec.session)}`);
    const argv = directArgv(spec.argv);
    if (!argv.ok) return argv;
    const envArgs: string[] = [];
    for (const [k, v] of Object.entries(spec.env ?? {})) {
      if (!ENV_NAME_RE.test(k)) return fail('invalid', `invalid environment variable name ${JSON.stringify(k)}`);
      if (v.includes('\0')) return fail('invalid', `environment variable ${k} contains a NUL byte`);
      envArgs.push('-e', tmuxArg(`${k}=${v}`));
    }
    // Tagged in the same command list as the creation: tmux runs a list without serving other clients in
    // between, so no observation ever sees the session untagged.
    const tagArgs: string[] = [];
    if (spec.storeTag !== undefined) {
      if (!STORE_TAG_RE.test(spec.storeTag))
        return fail('invalid', `invalid store tag ${JSON.stringify(spec.storeTag)}`);
      // set-option takes a pane target: `=name:` is the exact session, its current window and pane.
      tagArgs.push(';', 'set-option', '-t', `=${spec.session}:`, STORE_TAG_OPTION, spec.storeTag);
    }
    const cwdArgs: string[] = [];
    if (spec.cwd !== undefined) {
      if (spec.cwd === '' || spec.cwd.includes('\0')) return fail('invalid', 'invalid working directory');
      cwdArgs.push('-c', tmuxArg(formatLiteral(spec.cwd)));
    }
    try {
      if (!this.configWritten) ensureTmuxConfig(this.configFile);
      this.configWritten = true;
    } catch (err) {
      return fail('tmux_failed', `cannot write tmux config ${this.configFile}: ${(err as Error).message}`);
    }
    const args = [
      '-f',
      this.configFile,
      // The config is read only when this command starts the server. If something else started the server on
      // our socket, this set still runs before the pane exists, in the same command list; setting it on the
      // session afterwards would race with an agent that exits at once and lose its exit status.
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'new-session',
      '-d',
      '-s',
      spec.session,
      '-x',
      String(PANE_WIDTH),
      '-y',
      String(PANE_HEIGHT),
      ...cwdArgs,
      ...envArgs,
      '-P',
      '-F',
      '#{pane_id} #{pane_pid}',
      '--',
      ...argv.value.map(tmuxArg),
      ...tagArgs,
    ];
    let out = await this.tmux(args);
    // A server on its way out (its last session just closed; it waits for its clients to go, longer while a
    // busy control client drains) refuses new clients with "server exited unexpectedly". Nothing was made:
    // a session created by a server that then exits goes with it, and a live one would answer "duplicate".
    for (const waitMs of SERVER_EXITING_RETRY_MS) {
      if (succeeded(out) || classifyTmuxError(out) !== 'server_exiting') break;
      await new Promise((r) => setTimeout(r, waitMs));
      out = await this.tmux(args);
    }
    if (!succeeded(out)) {
      if (classifyTmuxError(out) === 'duplicate_session')
        return fail('conflict', `tmux session ${spec.session} already exists`);
      return fail('tmux_failed', `tmux new-session ${spec.session}: ${describeOutcome(out)}`);
    }
    this.control?.nudge();
    const m = /^(%[0-9]+) ([1-9][0-9]*)\n?$/.exec(out.stdout);
    if (m === null)
      return fail('tmux_failed', `tmux new-session ${spec.session}: unexpected output ${JSON.stringify(out.stdout)}`);
    return ok({ paneId: m[1] as string, panePid: Number(m[2]) });
  }

  async killSession(session: string): Promise<Result<void>> {
    if (!SESSION_NAME_RE.test(session)) return fail('invalid', `invalid session name ${JSON.stringify(session)}`);
    // Run again after a lost answer, a kill that did happen reads as not_found: "already gone", which is true.
    const out = await this.pass(['kill-session', '-t', `=${session}`], 'retry');
    if (succeeded(out)) return ok(undefined);
    const kind = classifyTmuxError(out);
    if (kind === 'not_found' || kind === 'no_server') return fail('not_found', `no tmux session ${session}`);
    return fail('tmux_failed', `tmux kill-session ${session}: ${describeOutcome(out)}`);
  }

  async capture(paneId: string, lines: number): Promise<Result<string[]>> {
    if (!PANE_ID_RE.test(paneId)) return fail('invalid', `invalid pane id ${JSON.stringify(paneId)}`);
    if (!Number.isInteger(lines) || lines < 1 || lines > MAX_CAPTURE_LINES)
      return fail('invalid', `invalid line count ${lines}`);
    const out = await this.pass(['capture-pane', '-p', '-J', '-t', paneId, '-S', `-${lines}`], 'retry');
    if (!succeeded(out)) {
      const kind = classifyTmuxError(out);
      if (kind === 'not_found' || kind === 'no_server') return fail('not_found', `no tmux pane ${paneId}`);
      return fail('probe_unknown', `tmux capture-pane ${paneId}: ${describeOutcome(out)}`);
    }
    const text = out.stdout.endsWith('\n') ? out.stdout.slice(0, -1) : out.stdout;
    const all = text === '' ? [] : text.split('\n');
    let end = all.length;
    while (end > 0 && (all[end - 1] as string).trim() === '') end--;
    return ok(all.slice(Math.max(0, end - lines), end));
  }

  async loadBuffer(name: string, text: string): Promise<Result<void>> {
    if (!BUFFER_NAME_RE.test(name)) return fail('invalid', `invalid buffer name ${JSON.stringify(name)}`);
    // Text goes through stdin only: as an argument, a trailing `;` or a `#()` could be read as tmux syntax.
    const out = await this.tmux(['load-buffer', '-b', name, '-'], text);
    if (succeeded(out)) return ok(undefined);
    return fail('tmux_failed', `tmux load-buffer ${name}: ${describeOutcome(out)}`);
  }

  async pasteBuffer(name: string, paneId: string): Promise<Result<void>> {
    if (!BUFFER_NAME_RE.test(name)) return fail('invalid', `invalid buffer name ${JSON.stringify(name)}`);
    if (!PANE_ID_RE.test(paneId)) return fail('invalid', `invalid pane id ${JSON.stringify(paneId)}`);
    // -p: bracketed paste when the agent asked for it; -r: keep LF (no CR, which would submit each line).
    const out = await this.pass(['paste-buffer', '-d', '-p', '-r', '-b', name, '-t', paneId], 'once');
    if (succeeded(out)) return ok(undefined);
    const kind = classifyTmuxError(out);
    if (kind === 'not_found' || kind === 'no_server')
      return fail('not_found', `tmux paste-buffer ${name} ${paneId}: ${describeOutcome(out)}`);
    return fail('tmux_failed', `tmux paste-buffer ${name} ${paneId}: ${describeOutcome(out)}`);
  }

  async hasBuffer(name: string): Promise<Result<boolean>> {
    if (!BUFFER_NAME_RE.test(name)) return fail('invalid', `invalid buffer name ${JSON.stringify(name)}`);
    const out = await this.pass(['list-buffers', '-F', '#{buffer_name}'], 'retry');
    if (!succeeded(out)) {
      if (classifyTmuxError(out) === 'no_server') return ok(false);
      return fail('probe_unknown', `tmux list-buffers: ${describeOutcome(out)}`);
    }
    return ok(out.stdout.split('\n').includes(name));
  }

  async deleteBuffer(name: string): Promise<Result<void>> {
    if (!BUFFER_NAME_RE.test(name)) return fail('invalid', `invalid buffer name ${JSON.stringify(name)}`);
    const out = await this.pass(['delete-buffer', '-b', name], 'retry');
    if (succeeded(out)) return ok(undefined);
    const kind = classifyTmuxError(out);
    if (kind === 'not_found' || kind === 'no_server') return ok(undefined);
    return fail('tmux_failed', `tmux delete-buffer ${name}: ${describeOutcome(out)}`);
  }

  async sendKeys(paneId: string, keys: string[]): Promise<Result<void>> {
    if (!PANE_ID_RE.test(paneId)) return fail('invalid', `invalid pane id ${JSON.stringify(paneId)}`);
    if (keys.length === 0) return fail('invalid', 'no keys to send');
    const bad = keys.find((k) => !TMUX_KEY_NAME_RE.test(k));
    if (bad !== undefined) return fail('invalid', `not a tmux key name: ${JSON.stringify(bad)}`);
    const out = await this.pass(['send-keys', '-t', paneId, ...keys], 'once');
    if (succeeded(out)) return ok(undefined);
    const kind = classifyTmuxError(out);
    if (kind === 'not_found' || kind === 'no_server') return fail('not_found', `no tmux pane ${paneId}`);
    return fail('tmux_failed', `tmux send-keys ${paneId}: ${describeOutcome(out)}`);
  }

  attachArgv(session: string): string[] {
    return [this.bin, '-L', this.socket, 'attach-session', '-t', `=${session}`];
  }

  /**
   * A command of the observation pass: over the control client when there is one, else exec. A command the
   * client took but never answered is run again over exec only when that is harmless (`retry`); keys and a
   * paste may already have reached the agent, so their outcome is a failure, never a second delivery.
   */
  private async pass(args: string[], retry: Retry): Promise<CommandOutcome> {
    await this.decided();
    if (this.control !== null && this.controlAllowed) {
      const r = await this.control.run(args);
      if (r.kind === 'answered') return r.outcome;
      if (r.kind === 'lost' && retry === 'once')
        return { exitCode: null, stdout: '', stderr: '', failure: r.failure, detail: r.reason };
    }
    return this.tmux(args);
  }

  private tmux(args: string[], input?: string): Promise<CommandOutcome> {
    return this.runner.run({
      file: this.bin,
      args: ['-L', this.socket, ...args],
      timeoutMs: this.timeoutMs,
      ...(input !== undefined ? { input } : {}),
    });
  }
}

function succeeded(out: CommandOutcome): boolean {
  return out.failure === undefined && out.exitCode === 0;
}

/**
 * tmux runs a one-element command through `sh -c`, so the pane pid would be the shell's, not the agent's.
 * `/usr/bin/env` execs its argument in place, keeping the pid. `=` or a leading `-` would be read by env itself.
 */
function directArgv(argv: readonly string[]): Result<string[]> {
  if (argv.length === 0 || argv[0] === '') return fail('invalid', 'empty command');
  if (argv.some((a) => a.includes('\0'))) return fail('invalid', 'command contains a NUL byte');
  if (argv.length > 1) return ok([...argv]);
  const only = argv[0] as string;
  if (only.includes('=') || only.startsWith('-')) return fail('invalid', `cannot run ${JSON.stringify(only)} directly`);
  return ok(['/usr/bin/env', only]);
}
