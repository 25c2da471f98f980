// What we say to tmux and how we read its answers: pure functions, unit-tested against real tmux 3.3a output.
import type { CommandOutcome } from '../core/command-runner.port.js';
import { sanitizeLine } from '../core/sanitize.js';
import type { PaneInfo } from '../core/tmux.port.js';
import { keyOfSession } from '../core/types.js';

/** Our socket, session and buffer names: tmux rewrites `.` and `:` in session names, so neither is allowed. */
export const SOCKET_NAME_RE = /^[A-Za-z0-9_-]+$/;
export const SESSION_NAME_RE = /^[A-Za-z0-9_-]+$/;
export const BUFFER_NAME_RE = /^[A-Za-z0-9_-]+$/;
export const PANE_ID_RE = /^%[0-9]+$/;
/** A store id, as written to the `@mcc_store` session option. */
export const STORE_TAG_RE = /^[A-Za-z0-9._-]{1,128}$/;
export const STORE_TAG_OPTION = '@mcc_store';

/**
 * Unit separator between fields. tmux passes it through verbatim (checked on 3.3a); session names cannot carry
 * it because tmux escapes control characters in names when a session is created (`\037`).
 */
export const FIELD_SEP = '\x1f';

/**
 * pane_current_command is argv[0] of the pane's foreground process, which any program can set to anything,
 * including a newline or our separator; a session option can be set by hand to anything too. Both go through
 * tmux's own substitution, so a hostile value cannot split a record or shift fields (which would turn every
 * observation into `unknown`). The bracket holds literal control bytes: tmux hands them to regcomp as they are.
 */
const safe = (name: string): string => `#{s/[\x01-\x1f\x7f]/?/:${name}}`;

export const PANE_FIELDS = [
  '#{session_name}',
  '#{window_index}',
  '#{pane_index}',
  '#{pane_id}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{pane_dead_status}',
  '#{pane_dead_signal}',
  '#{session_created}',
  '#{window_activity}',
  safe(STORE_TAG_OPTION),
  safe('pane_current_command'),
] as const;

export const PANE_FORMAT = PANE_FIELDS.join(FIELD_SEP);

export type PaneListParse = { ok: true; panes: PaneInfo[] } | { ok: false; reason: string };

const UINT_RE = /^[0-9]+$/;

/** Parse `list-panes -a -F PANE_FORMAT` output; any odd line fails the whole list (never a partial list). */
export function parsePaneList(stdout: string): PaneListParse {
  if (stdout === '') return { ok: true, panes: [] };
  // A missing final newline means the output was cut short.
  if (!stdout.endsWith('\n')) return { ok: false, reason: 'list-panes output does not end with a newline' };
  const panes: PaneInfo[] = [];
  const lines = stdout.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const f = line.split(FIELD_SEP);
    const bad = (why: string): PaneListParse => ({ ok: false, reason: `list-panes line ${i + 1}: ${why}` });
    if (f.length !== PANE_FIELDS.length) return bad(`${f.length} fields, expected ${PANE_FIELDS.length}`);
    const [session, win, pane, paneId, pid, dead, deadStatus, deadSignal, created, activity, storeTag, command] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (session === '') return bad('empty session name');
    if (!UINT_RE.test(win) || !UINT_RE.test(pane)) return bad('window or pane index is not a number');
    if (!PANE_ID_RE.test(paneId)) return bad(`pane id ${JSON.stringify(paneId)}`);
    if (!UINT_RE.test(pid) || Number(pid) === 0) return bad(`pane pid ${JSON.stringify(pid)}`);
    if (dead !== '0' && dead !== '1') return bad(`pane_dead ${JSON.stringify(dead)}`);
    if (deadStatus !== '' && !UINT_RE.test(deadStatus)) return bad(`pane_dead_status ${JSON.stringify(deadStatus)}`);
    if (deadSignal !== '' && !UINT_RE.test(deadSignal)) return bad(`pane_dead_signal ${JSON.stringify(deadSignal)}`);
    if (!UINT_RE.test(created) || !UINT_RE.test(activity)) return bad('session_created or window_activity');
    panes.push({
      session,
      windowIndex: Number(win),
      paneIndex: Number(pane),
      paneId,
      panePid: Number(pid),
      paneDead: dead === '1',
      // Killed by a signal, a dead pane has pane_dead_signal instead: status stays null.
      paneDeadStatus: dead === '1' && deadStatus !== '' ? Number(deadStatus) : null,
      paneDeadSignal: dead === '1' && deadSignal !== '' && deadSignal !== '0' ? Number(deadSignal) : null,
      currentCommand: command,
      sessionCreated: Number(created) * 1000,
      windowActivity: Number(activity) * 1000,
      storeTag,
    });
  }
  return { ok: true, panes };
}

/** A pane of one of our sessions (`mc-MC-<n>`), with its ticket key. */
export type OurPane = PaneInfo & { key: string };

/** The panes of an observation that belong to our sessions, matched by exact name only. */
export function ourPanes(obs: { panes: readonly PaneInfo[] }): OurPane[] {
  const out: OurPane[] = [];
  for (const p of obs.panes) {
    const key = keyOfSession(p.session);
    if (key !== null) out.push({ ...p, key });
  }
  return out;
}

export type TmuxErrorKind = 'no_server' | 'duplicate_session' | 'not_found' | 'server_exiting' | 'unknown';

// Real tmux 3.3a stderr. A stopped server leaves its socket file behind ("no server running on ..."); a socket
// that never existed gives ENOENT. Both mean "zero sessions". Every other message is unknown.
// "no current target": a server that is up with no session at all (between its last session's end and its
// exit, or before a starting client made its first); no session is there either way.
const NO_SERVER_RES = [
  /^no server running on /,
  /^error connecting to .* \(No such file or directory\)$/,
  /^no current target$/,
];
const NOT_FOUND_RES = [
  /^can't find (?:session|window|pane): /,
  /^(?:no buffer |unknown buffer: )/,
  /^(?:session not found|no such session): /,
];

/** Classify a tmux command that did not succeed; call only when exitCode !== 0 or `failure` is set. */
export function classifyTmuxError(outcome: CommandOutcome): TmuxErrorKind {
  if (outcome.failure !== undefined || outcome.exitCode === null || outcome.exitCode === 0) return 'unknown';
  const lines = outcome.stderr.split('\n').filter((l) => l.trim() !== '');
  // One line exactly: a message followed by anything else is something we have not seen, hence unknown.
  if (lines.length !== 1) return 'unknown';
  const line = (lines[0] as string).trim();
  if (NO_SERVER_RES.some((re) => re.test(line))) return 'no_server';
  if (/^duplicate session: /.test(line)) return 'duplicate_session';
  // The server was on its way out (its last session had just closed) when this client connected.
  if (/^(?:server exited unexpectedly|lost server)$/.test(line)) return 'server_exiting';
  if (NOT_FOUND_RES.some((re) => re.test(line))) return 'not_found';
  return 'unknown';
}

/** One line describing why a command failed, for messages (safe to display: it ends up in the status line). */
export function describeOutcome(outcome: CommandOutcome): string {
  if (outcome.failure !== undefined)
    return sanitizeLine(`${outcome.failure}${outcome.detail ? `: ${outcome.detail}` : ''}`);
  const err = outcome.stderr.trim().split('\n')[0] ?? '';
  const text = sanitizeLine(err !== '' ? err : `exit status ${String(outcome.exitCode)}`);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * tmux ends a command at any argument ending in `;`, even when it arrives through execve; a trailing `\;`
 * is kept as a literal `;`. Applied to every argument whose text we do not choose.
 */
export function tmuxArg(s: string): string {
  return s.endsWith(';') ? `${s.slice(0, -1)}\\;` : s;
}

/** Arguments that tmux expands as formats (new-session -c): `#` doubled, so `#()` can never run a shell. */
export function formatLiteral(s: string): string {
  return s.replaceAll('#', '##');
}
