// The tmux control-mode protocol (`tmux -C`), as tmux 3.3a writes it: pure functions and a pure line parser.
//
// Every command a control client sends is answered by one block: `%begin <time> <number> <flags>`, the
// command's output lines, then `%end` or `%error` with the same three fields. Anything else outside a block is
// a notification (`%sessions-changed`, ...); `%exit [reason]` is the client's last line. Inside a block every
// line is output, even one that starts with `%`.
import type { CommandOutcome } from '../core/command-runner.port.js';

export type ControlEvent =
  | {
      kind: 'block';
      /** `%begin` flags: 1 for a command read from our stdin, 0 for the attach command and for hooks. */
      flags: number;
      ok: boolean;
      lines: string[];
    }
  | { kind: 'notification'; line: string }
  | { kind: 'exit'; reason: string }
  | { kind: 'garbage'; line: string };

const BEGIN_RE = /^%begin ([0-9]+) ([0-9]+) ([0-9]+)$/;
const EXIT_RE = /^%exit(?: (.*))?$/;
const LF = 0x0a;

/**
 * Splits control-mode output into events. Input arrives as Buffers cut anywhere (inside a line, inside a
 * multi-byte character); a line is decoded only once it is complete, so a split character is never mangled.
 * Bytes that are not UTF-8 decode to U+FFFD, as the exec path's decoding does.
 */
export class ControlParser {
  private parts: Buffer[] = [];
  private block: { guard: string; flags: number; lines: string[] } | null = null;

  /** Feed one chunk; returns the events completed by it, in order. */
  push(chunk: Buffer): ControlEvent[] {
    const events: ControlEvent[] = [];
    let start = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, start)) {
      this.parts.push(chunk.subarray(start, i));
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      start = i + 1;
      const ev = this.line(line);
      if (ev !== null) events.push(ev);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
    return events;
  }

  /** Whether the stream stopped inside a block or a line (the answer in progress is lost). */
  get midAnswer(): boolean {
    return this.block !== null || this.parts.some((p) => p.length > 0);
  }

  private line(line: string): ControlEvent | null {
    if (this.block !== null) {
      // The closing guard repeats the opening one exactly; a pane line that merely looks like `%end` is output.
      if (line === `%end ${this.block.guard}` || line === `%error ${this.block.guard}`) {
        const ev: ControlEvent = {
          kind: 'block',
          flags: this.block.flags,
          ok: line.startsWith('%end'),
          lines: this.block.lines,
        };
        this.block = null;
        return ev;
      }
      this.block.lines.push(line);
      return null;
    }
    const begin = BEGIN_RE.exec(line);
    if (begin !== null) {
      this.block = { guard: `${begin[1]} ${begin[2]} ${begin[3]}`, flags: Number(begin[3]), lines: [] };
      return null;
    }
    const exit = EXIT_RE.exec(line);
    if (exit !== null) return { kind: 'exit', reason: exit[1] ?? '' };
    if (line.startsWith('%')) return { kind: 'notification', line };
    return { kind: 'garbage', line };
  }
}

/** The outcome the exec path would have returned: output on stdout for `%end`, on stderr for `%error`. */
export function outcomeOfBlock(block: { ok: boolean; lines: readonly string[] }): CommandOutcome {
  const text = block.lines.length === 0 ? '' : `${block.lines.join('\n')}\n`;
  return block.ok ? { exitCode: 0, stdout: text, stderr: '' } : { exitCode: 1, stdout: '', stderr: text };
}

/**
 * One argument for tmux's command parser: single-quoted, where nothing is special. A control byte (our
 * list-panes format carries \x1f and a [\x01-\x1f] bracket, which holds a newline) cannot be sent raw on a
 * line-based channel, so each one is a double-quoted octal escape joined to the quoted text around it (tmux
 * concatenates adjacent quoted parts into one word, and reads `\ooo` as that byte). Null when the argument
 * must not go over the control channel at all: a NUL, a `'`, a `#(` (a format that would run a shell), or a
 * trailing `;` (which the exec path reads as a command separator, so the two paths would differ).
 */
export function quoteControlArg(arg: string): string | null {
  if (arg.includes('\0') || arg.includes("'") || arg.includes('#(') || arg.endsWith(';')) return null;
  let out = '';
  let run = '';
  for (const ch of arg) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      out += `'${run}'"\\${code.toString(8).padStart(3, '0')}"`;
      run = '';
    } else run += ch;
  }
  return `${out}'${run}'`;
}

/** A whole command line for the control channel, or null when any argument cannot be sent over it. */
export function controlCommandLine(args: readonly string[]): string | null {
  if (args.length === 0) return null;
  const quoted: string[] = [];
  for (const a of args) {
    const q = quoteControlArg(a);
    if (q === null) return null;
    quoted.push(q);
  }
  return quoted.join(' ');
}

/**
 * The name of our one subscription (`refresh-client -B`). tmux checks a control client's subscriptions once a
 * second (control_check_subs_timer) and writes `%subscription-changed <name> ... : <value>` when the value
 * differs from the last one it wrote, the first check included.
 */
export const CHANGE_SUBSCRIPTION = 'mcc-panes';

/**
 * What our subscription watches: the ids of the dead panes of every session (a session subscription expanded
 * in our attached session's context, looping over all sessions; the `%*` kind would see only the panes of the
 * session we are attached to). tmux sends no notification when a pane dies (remain-on-exit keeps it), so this
 * is the only push for an agent that exited; sessions and windows coming and going have their own
 * notifications, so listing live panes too would only wake a second pass a second later. A constant of ours:
 * never a `#(`, which would run a shell in the server once a second.
 */
export const CHANGE_SUBSCRIPTION_FORMAT = '#{S:#{W:#{P:#{?pane_dead,#{pane_id} ,}}}}';

/** `refresh-client -B name::format`: the empty `what` makes it a session subscription. */
export function subscribeArgs(): string[] {
  return ['refresh-client', '-B', `${CHANGE_SUBSCRIPTION}::${CHANGE_SUBSCRIPTION_FORMAT}`];
}

/**
 * Notifications tmux 3.3a sends every control client when the set of sessions, windows or their names change
 * anywhere on the server (control-notify.c): `%window-*` for windows of the session we are attached to,
 * `%unlinked-window-*` for all others. Not here: `%session-changed` (our own client switched session: at
 * attach, and never without a `%sessions-changed` or `%exit` beside it), `%pane-mode-changed` and
 * `%client-*` (someone scrolled or attached: nothing we observe), `%layout-change` and `%window-renamed`
 * (sizes and automatic-rename following each command an agent runs: noise that would wake every pass).
 */
const CHANGE_NOTIFICATIONS = new Set([
  '%sessions-changed',
  '%session-renamed',
  '%window-add',
  '%window-close',
  '%unlinked-window-add',
  '%unlinked-window-close',
]);

export type NotificationMeaning = { kind: 'change' } | { kind: 'subscription'; value: string } | { kind: 'other' };

/**
 * What a notification line says about the tmux world: `change` (it may have changed), `subscription` (the new
 * value of our subscription, after ` : `), or `other`.
 */
export function classifyNotification(line: string): NotificationMeaning {
  const space = line.indexOf(' ');
  const word = space === -1 ? line : line.slice(0, space);
  if (CHANGE_NOTIFICATIONS.has(word)) return { kind: 'change' };
  const head = `%subscription-changed ${CHANGE_SUBSCRIPTION} `;
  if (line.startsWith(head)) {
    const sep = line.indexOf(' : ', head.length);
    if (sep !== -1) return { kind: 'subscription', value: line.slice(sep + 3) };
  }
  return { kind: 'other' };
}

/** `refresh-client -B name` without a `:`: removes the subscription. */
export function unsubscribeArgs(): string[] {
  return ['refresh-client', '-B', CHANGE_SUBSCRIPTION];
}

/** The first tmux release whose server never writes a notification to a control client still identifying. */
export const CONTROL_SAFE_FROM = { major: 3, minor: 7 } as const;

/**
 * Whether this tmux (`tmux -V` output) can take a control client without risk to its server. Before 3.7 a
 * client flagged as control mode but not yet started (between its IDENTIFY_FLAGS and IDENTIFY_DONE messages,
 * which a loaded machine delivers in separate reads) is sent notifications all the same, and the server
 * dereferences its NULL control state and dies with every session (fixed upstream in e5a2a25, tmux GitHub
 * issue 4980; seen here as tmux 3.3a segfaults in control_write). A version that cannot be read is not safe.
 */
export function controlModeSafe(versionOutput: string): { safe: boolean; why: string } {
  const text = versionOutput.trim();
  const m = /^tmux (?:next-)?([0-9]+)\.([0-9]+)/.exec(text);
  if (m === null) return { safe: false, why: `cannot tell the tmux version from ${JSON.stringify(text.slice(0, 60))}` };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const { major: M, minor: N } = CONTROL_SAFE_FROM;
  if (major > M || (major === M && minor >= N)) return { safe: true, why: `${text} takes control clients safely` };
  return {
    safe: false,
    why:
      `${text}: before ${M}.${N} a control client attaching while tmux sends notifications can crash the server ` +
      `(tmux GitHub issue 4980), so each command runs as its own tmux process`,
  };
}
