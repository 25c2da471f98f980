// One persistent tmux control-mode client (`tmux -C`) per probe: commands are written one per line to its
// stdin and answered in order, at a fraction of the cost of a new `tmux` process per command.
//
// How it stays attached (tmux 3.3a source): a control client whose command does not attach it exits once the
// command is done (server_client_command_done sets CLIENT_EXIT unless CLIENT_ATTACHED), so it must attach to
// some session; we never make a session for it. It attaches to whichever session tmux picks (no -t: the best
// one, preferring unattached) with:
// - `-N`: attach-session has CMD_STARTSERVER, so without -N it would start a server on a socket that has none;
// - `-E`: attaching otherwise copies our update-environment variables into the session's environment;
// - `-f ignore-size`: never counts for the window size (a control client without a size is ignored anyway);
// - `-f no-output`: no %output, and control_pane_offset returns NULL for us, so server_client_check_pane_buffer
//   never stops reading an agent's pane because we are not reading ours (a stopped mcc must not stall agents);
// - not `-r`: a read-only client may run only CMD_READONLY commands (no send-keys, paste, kill).
// tmux reads our stdin itself (the client passes its fd): at EOF the server sets CLIENT_EXIT. But it lets a
// control client exit only once its pending output is written (server_client_check_exit, control_all_done), and
// output written after its reader died never is (EPIPE keeps it buffered): an mcc killed while tmux had an
// answer or a notification on its way would leave that client, and with it the server, forever. So the client
// runs under a small sh watchdog (WATCHDOG) that kills it when our end of an extra pipe closes, which the
// kernel does even on SIGKILL; a killed client process is dropped by the server at once.
// When our session is killed (detach-on-destroy) or the server stops, the client exits with `%exit`; the next
// call reconnects, with backoff after connections that answered nothing. Without a client, callers use exec.
// While someone listens (onChange), the notifications tmux sends every control client when sessions or windows
// come and go, our %exit, and a subscription to dead panes are passed on as hints, never as observations.
import { spawn, type ChildProcess } from 'node:child_process';
import type { CommandOutcome } from '../core/command-runner.port.js';
import {
  classifyNotification,
  ControlParser,
  controlCommandLine,
  outcomeOfBlock,
  subscribeArgs,
  unsubscribeArgs,
  type ControlEvent,
} from './tmux-control-protocol.js';

export interface TmuxControlOptions {
  bin: string;
  socket: string;
  /** Per command, and for attaching: past it the client is dropped. */
  timeoutMs: number;
  now?: () => number;
  /** First reconnect delay after a failed connection, doubling up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * While someone listens for changes, also subscribe to pane deaths (`refresh-client -B`, checked by tmux
   * once a second); default true. Without it only the session and window notifications wake the listeners.
   */
  watchPanes?: boolean;
}

/**
 * `unavailable`: not sent (no client, or an argument that cannot go over it); the caller uses exec.
 * `lost`: sent, but the client ended or timed out before answering: whether tmux ran it is unknown.
 */
export type ControlResult =
  | { kind: 'answered'; outcome: CommandOutcome }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'lost'; failure: 'timeout' | 'signal'; reason: string };

const CLOSE_GRACE_MS = 300;

/**
 * `sh -c WATCHDOG sh tmux args...`: runs tmux with our stdin (an asynchronous command's stdin would be /dev/null,
 * hence fd 4) and a watcher that SIGTERMs it when fd 3, a pipe only we write to, reaches EOF: our close(), our
 * exit, or our death. Exits with tmux's status; the watcher goes with it.
 */
const WATCHDOG = [
  'exec 4<&0',
  '"$@" <&4 3<&- 4<&- &',
  't=$!',
  '{ read -r _ <&3; kill "$t" 2>/dev/null; } 4<&- &',
  'w=$!',
  'wait "$t"',
  's=$?',
  'kill "$w" 2>/dev/null',
  'exit "$s"',
].join('\n');
const STDERR_LIMIT = 4096;
export const CONTROL_BACKOFF_MS = 500;
export const CONTROL_MAX_BACKOFF_MS = 10_000;

interface Pending {
  line: string;
  resolve: (r: ControlResult) => void;
  timer?: NodeJS.Timeout;
}

/** How a connection reaches the listeners of its client. */
interface HintSink {
  /** Whether anyone listens now (a connection subscribes only then). */
  watching(): boolean;
  hint(): void;
}

type ConnState = 'attaching' | 'ready' | 'dead';

/** One `tmux -C` process, from spawn to exit. */
class Connection {
  state: ConnState = 'attaching';
  answered = 0;
  readonly child: ChildProcess;
  private readonly parser = new ControlParser();
  /** Submitted before the attach answered: written once attached, `unavailable` if it fails. */
  private readonly waiting: Pending[] = [];
  /** Written, awaiting their blocks in order. */
  private readonly sent: Pending[] = [];
  private readonly attachTimer: NodeJS.Timeout;
  private stderr = '';
  private exitReason = '';
  /** Whether our subscription is on, and whether its first value since has arrived. */
  private subscribed = false;
  private baselineSeen = false;
  readonly closed: Promise<void>;

  constructor(
    private readonly opts: TmuxControlOptions,
    private readonly onEnd: (conn: Connection, failed: boolean) => void,
    private readonly sink: HintSink,
  ) {
    const { TMUX: _t, TMUX_PANE: _p, ...env } = process.env;
    const argv = ['-N', '-L', opts.socket, '-C', 'attach-session', '-E', '-f', 'ignore-size,no-output'];
    this.child = spawn('/bin/sh', ['-c', WATCHDOG, 'mcc-tmux-control', opts.bin, ...argv], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env,
    });
    // Idle, the client must not keep a one-shot command alive: only a pending command's timer holds the loop.
    this.child.unref();
    for (const s of this.child.stdio) unrefStream(s);
    this.child.stdin?.on('error', () => undefined); // EPIPE after tmux exits: reported by 'close'
    this.child.stdout?.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += chunk.toString('utf8');
    });
    this.closed = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.exitReason = err.message;
        // A spawn error emits no 'close' of its own when nothing was opened.
        if (this.child.pid === undefined) {
          this.end(`cannot start ${opts.bin}: ${err.message}`);
          resolve();
        }
      });
      this.child.on('close', () => {
        this.end(this.describeExit());
        resolve();
      });
    });
    this.attachTimer = setTimeout(
      () => this.drop('timeout', 'tmux control client did not attach in time'),
      opts.timeoutMs,
    );
  }

  submit(line: string): Promise<ControlResult> {
    return new Promise((resolve) => {
      const p: Pending = { line, resolve };
      if (this.state === 'attaching') this.waiting.push(p);
      else if (this.state === 'ready') this.write(p);
      else resolve({ kind: 'unavailable', reason: 'tmux control client is gone' });
    });
  }

  /** End stdin (tmux exits at EOF), then the watchdog's pipe and SIGTERM if it has not gone within the grace. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
      timer.unref();
    });
    await Promise.race([this.closed, grace]);
    clearTimeout(timer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.kill();
  }

  /** Turn the pane-death subscription on or off (once attached; at attach it follows `sink.watching()`). */
  watch(on: boolean): void {
    if (this.state !== 'ready' || this.opts.watchPanes === false || on === this.subscribed) return;
    this.subscribed = on;
    this.baselineSeen = false;
    const line = controlCommandLine(on ? subscribeArgs() : unsubscribeArgs());
    // An older tmux without -B answers %error: the notifications still wake the listeners.
    if (line !== null) this.write({ line, resolve: () => undefined });
  }

  private write(p: Pending): void {
    p.timer = setTimeout(() => this.drop('timeout', 'tmux control client did not answer in time'), this.opts.timeoutMs);
    this.sent.push(p);
    this.child.stdin?.write(`${p.line}\n`);
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.parser.push(chunk)) {
      if (this.state === 'dead') return;
      this.onEvent(ev);
    }
  }

  private onEvent(ev: ControlEvent): void {
    switch (ev.kind) {
      case 'notification':
        this.onNotification(ev.line);
        return;
      case 'exit':
        this.exitReason = ev.reason === '' ? 'detached' : ev.reason;
        // Our session was killed or the server is stopping: the world changed, and a pass reconnects.
        if (this.state === 'ready') this.sink.hint();
        return;
      case 'garbage':
        this.drop('signal', `tmux control client wrote ${JSON.stringify(ev.line.slice(0, 80))} outside an answer`);
        return;
      case 'block':
        this.onBlock(ev);
        return;
      default: {
        const never: never = ev;
        throw new Error(`unhandled control event ${JSON.stringify(never)}`);
      }
    }
  }

  private onNotification(line: string): void {
    const meaning = classifyNotification(line);
    if (meaning.kind === 'change') this.sink.hint();
    else if (meaning.kind === 'subscription' && this.subscribed) {
      // The first value (a second after subscribing) is where we start from, but a dead pane in it may have
      // died just before we looked: worth one pass.
      if (this.baselineSeen || meaning.value.trim() !== '') this.sink.hint();
      this.baselineSeen = true;
    }
  }

  private onBlock(ev: Extract<ControlEvent, { kind: 'block' }>): void {
    if (this.state === 'attaching') {
      // Nothing of ours is written before the attach answers, so this block is the attach command's.
      if (ev.flags !== 0) {
        this.drop('signal', 'tmux control client answered a command before attaching');
        return;
      }
      clearTimeout(this.attachTimer);
      if (!ev.ok) {
        // tmux exits this client by itself ("no sessions"); 'close' reports it.
        this.exitReason = ev.lines.join(' ');
        this.failWaiting(`tmux control client could not attach: ${this.exitReason}`);
        this.finish(true);
        return;
      }
      this.state = 'ready';
      if (this.sink.watching()) this.watch(true);
      for (const p of this.waiting.splice(0)) this.write(p);
      return;
    }
    // Hooks (after-*, client-attached) run in our client's queue without the control flag: not our answers.
    if (ev.flags === 0) return;
    const p = this.sent.shift();
    if (p === undefined) {
      this.drop('signal', 'tmux control client sent an answer nobody asked for');
      return;
    }
    clearTimeout(p.timer);
    this.answered++;
    p.resolve({ kind: 'answered', outcome: outcomeOfBlock(ev) });
  }

  /** Give up on this client: every command in flight is lost, the process is killed. */
  private drop(failure: 'timeout' | 'signal', reason: string): void {
    if (this.state === 'dead') return;
    this.failSent(failure, reason);
    this.failWaiting(reason);
    this.finish(true);
    this.kill();
  }

  /** Closing the watchdog's pipe makes it SIGTERM tmux; the SIGTERM here ends the watchdog itself. */
  private kill(): void {
    this.child.stdio[3]?.destroy();
    this.child.kill('SIGTERM');
  }

  /** The process is gone: what was in flight is lost. A client that never answered counts as a failure. */
  private end(reason: string): void {
    this.failSent('signal', reason);
    this.failWaiting(reason);
    this.finish(this.answered === 0);
  }

  private finish(failed: boolean): void {
    clearTimeout(this.attachTimer);
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.onEnd(this, failed);
  }

  private failSent(failure: 'timeout' | 'signal', reason: string): void {
    for (const p of this.sent.splice(0)) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'lost', failure, reason });
    }
  }

  private failWaiting(reason: string): void {
    for (const p of this.waiting.splice(0)) p.resolve({ kind: 'unavailable', reason });
  }

  private describeExit(): string {
    const why = this.exitReason || this.stderr.trim().split('\n')[0] || '';
    const mid = this.parser.midAnswer ? ' in the middle of an answer' : '';
    return `tmux control client exited${mid}${why !== '' ? `: ${why}` : ''}`;
  }
}

/** The control client of one probe: at most one `tmux -C` at a time, reconnected on demand with backoff. */
export class TmuxControlClient {
  private conn: Connection | null = null;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly sink: HintSink = {
    watching: () => this.listeners.size > 0,
    hint: () => {
      for (const l of [...this.listeners]) l();
    },
  };

  constructor(private readonly opts: TmuxControlOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Run one command over the control client; commands are answered in the order they were submitted. */
  run(args: readonly string[]): Promise<ControlResult> {
    const line = controlCommandLine(args);
    if (line === null) return Promise.resolve({ kind: 'unavailable', reason: 'an argument cannot be quoted for tmux' });
    if (this.closed) return Promise.resolve({ kind: 'unavailable', reason: 'closed' });
    if (this.conn === null) {
      if (this.now() < this.retryAt) return Promise.resolve({ kind: 'unavailable', reason: 'reconnecting later' });
      this.conn = new Connection(this.opts, (c, failed) => this.onEnd(c, failed), this.sink);
    }
    return this.conn.submit(line);
  }

  /**
   * Call `listener` whenever tmux tells the connected client that sessions, windows or dead panes may have
   * changed: a hint, never an observation. Nothing is pushed while there is no client (between a lost one and
   * the next command). Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void {
    const wrapped = () => listener();
    this.listeners.add(wrapped);
    if (this.listeners.size === 1) this.conn?.watch(true);
    return () => {
      if (this.listeners.delete(wrapped) && this.listeners.size === 0) this.conn?.watch(false);
    };
  }

  /** A session now exists (we just made one): try attaching at the next call instead of after the backoff. */
  nudge(): void {
    if (this.conn === null) this.retryAt = 0;
  }

  /** The pid of the current `tmux -C` process, if any (diagnostics and tests). */
  get pid(): number | undefined {
    return this.conn?.child.pid;
  }

  /** Stop for good: stdin ended (tmux exits at EOF), SIGTERM after a short grace period. */
  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    if (conn !== null) await conn.close();
  }

  private onEnd(conn: Connection, failed: boolean): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (!failed) {
      this.failures = 0;
      this.retryAt = 0;
      return;
    }
    this.failures++;
    const base = this.opts.backoffMs ?? CONTROL_BACKOFF_MS;
    const delay = Math.min(base * 2 ** (this.failures - 1), this.opts.maxBackoffMs ?? CONTROL_MAX_BACKOFF_MS);
    this.retryAt = this.now() + delay;
  }
}

function unrefStream(s: unknown): void {
  const u = (s as { unref?: () => void } | null)?.unref;
  if (typeof u === 'function') u.call(s);
}
