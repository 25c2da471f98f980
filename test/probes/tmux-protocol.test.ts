import { describe, expect, it } from 'vitest';
import { TMUX_KEY_NAME_RE } from '../../src/core/tmux.port.js';
import type { CommandOutcome } from '../../src/core/command-runner.port.js';
import {
  classifyTmuxError,
  FIELD_SEP,
  formatLiteral,
  ourPanes,
  PANE_FIELDS,
  PANE_FORMAT,
  parsePaneList,
  tmuxArg,
} from '../../src/probes/tmux-protocol.js';
import { paneLine } from '../helpers/pane-line.js';

const S = FIELD_SEP;

const failed = (stderr: string, exitCode = 1): CommandOutcome => ({ exitCode, stdout: '', stderr });

describe('PANE_FORMAT', () => {
  it('asks for every field the port needs, one unit separator between fields', () => {
    // (The format text itself holds more separators: the substitution's bracket lists them as bytes to replace.)
    expect(PANE_FIELDS).toHaveLength(12);
    expect(PANE_FORMAT).toBe(PANE_FIELDS.join(S));
    for (const f of [
      'session_name',
      'window_index',
      'pane_index',
      'pane_id',
      'pane_pid',
      'pane_dead',
      'pane_dead_status',
      'pane_dead_signal',
      'session_created',
      'window_activity',
      '@mcc_store',
      'pane_current_command',
    ]) {
      expect(PANE_FORMAT).toContain(f);
    }
  });

  it('never ends an argument with `;` (tmux would end the command there)', () => {
    expect(PANE_FORMAT.endsWith(';')).toBe(false);
  });
});

describe('parsePaneList', () => {
  it('reads empty output as zero panes', () => {
    expect(parsePaneList('')).toEqual({ ok: true, panes: [] });
  });

  it('reads a live and a dead pane, converting tmux seconds to ms', () => {
    const out = `${paneLine()}\n${paneLine({ session: 'mc-MC-12', id: '%7', pid: '99', dead: '1', status: '7', win: '2', pane: '1', tag: '', cmd: 'sh' })}\n`;
    const r = parsePaneList(out);
    expect(r).toEqual({
      ok: true,
      panes: [
        {
          session: 'mc-MC-1',
          windowIndex: 0,
          paneIndex: 0,
          paneId: '%0',
          panePid: 4242,
          paneDead: false,
          paneDeadStatus: null,
          paneDeadSignal: null,
          currentCommand: 'node',
          sessionCreated: 1795569990000,
          windowActivity: 1795570001000,
          storeTag: 'store-1',
        },
        {
          session: 'mc-MC-12',
          windowIndex: 2,
          paneIndex: 1,
          paneId: '%7',
          panePid: 99,
          paneDead: true,
          paneDeadStatus: 7,
          paneDeadSignal: null,
          currentCommand: 'sh',
          sessionCreated: 1795569990000,
          windowActivity: 1795570001000,
          storeTag: '',
        },
      ],
    });
  });

  it('keeps a dead pane killed by a signal with a null status and its signal', () => {
    const r = parsePaneList(`${paneLine({ dead: '1', status: '', signal: '9' })}\n`);
    expect(r.ok && r.panes[0]).toMatchObject({ paneDeadStatus: null, paneDeadSignal: 9 });
  });

  it('keeps odd but valid text in names and commands (spaces, `;`, `#()`)', () => {
    const r = parsePaneList(`${paneLine({ session: 'my sess', cmd: 'a b;#(x)' })}\n`);
    expect(r.ok && r.panes[0]).toMatchObject({ session: 'my sess', currentCommand: 'a b;#(x)' });
  });

  it.each([
    ['a missing field', `${paneLine().split(S).slice(1).join(S)}\n`],
    ['an extra field', `${paneLine()}${S}x\n`],
    ['a bad pane id', `${paneLine({ id: '7' })}\n`],
    ['a non-numeric pid', `${paneLine({ pid: 'abc' })}\n`],
    ['pid 0', `${paneLine({ pid: '0' })}\n`],
    ['pane_dead 2', `${paneLine({ dead: '2' })}\n`],
    ['a negative status', `${paneLine({ dead: '1', status: '-1' })}\n`],
    ['a non-numeric created time', `${paneLine({ created: 'now' })}\n`],
    ['an empty session name', `${paneLine({ session: '' })}\n`],
    ['a tmux warning line among panes', `${paneLine()}\nsome warning\n`],
    ['a blank line', `${paneLine()}\n\n`],
    ['output cut short (no final newline)', paneLine()],
  ])('fails the whole list on %s', (_what, out) => {
    expect(parsePaneList(out).ok).toBe(false);
  });
});

describe('classifyTmuxError (real tmux 3.3a stderr)', () => {
  it.each([
    ['no server running on /tmp/tmux-0/mcc\n', 'no_server'],
    ['no server running on /private/tmp/tmux-501/mcc\n', 'no_server'],
    ['error connecting to /tmp/tmux-0/zz-x (No such file or directory)\n', 'no_server'],
    // A server up with no session (list-panes -a between its last session and its exit): nothing is there.
    ['no current target\n', 'no_server'],
    ['duplicate session: mc-MC-1\n', 'duplicate_session'],
    ["can't find session: mc-MC-2\n", 'not_found'],
    ["can't find pane: %99\n", 'not_found'],
    ["can't find window: nosuch\n", 'not_found'],
    ['no such session: =mc-MC-1\n', 'not_found'],
    ['unknown buffer: mcc-msg-1\n', 'not_found'],
    ['no buffer mcc-msg-1\n', 'not_found'],
    ['error connecting to /tmp/tmux-0/mcc (Permission denied)\n', 'unknown'],
    ['error connecting to /tmp/tmux-0/mcc (Connection refused)\n', 'unknown'],
    ['directory /tmp/tmx-bad/tmux-0 has unsafe permissions\n', 'unknown'],
    ['unknown command: list-panez\n', 'unknown'],
    // A server on its way out (its last session just closed) refusing a new client.
    ['server exited unexpectedly\n', 'server_exiting'],
    ['lost server\n', 'server_exiting'],
    ['', 'unknown'],
    ['no server running on /tmp/tmux-0/mcc\nand then something else\n', 'unknown'],
  ] as const)('%j -> %s', (stderr, kind) => {
    expect(classifyTmuxError(failed(stderr))).toBe(kind);
  });

  it('calls a timeout, a spawn error or a signal unknown whatever stderr says', () => {
    const msg = 'no server running on /tmp/tmux-0/mcc\n';
    expect(classifyTmuxError({ exitCode: null, stdout: '', stderr: msg, failure: 'timeout' })).toBe('unknown');
    expect(classifyTmuxError({ exitCode: null, stdout: '', stderr: msg, failure: 'spawn_error' })).toBe('unknown');
    expect(classifyTmuxError({ exitCode: null, stdout: '', stderr: msg, failure: 'signal' })).toBe('unknown');
  });

  it('calls a message with an unexpected exit code no different (tmux exits 1)', () => {
    expect(classifyTmuxError(failed('no server running on /tmp/tmux-0/mcc\n', 2))).toBe('no_server');
    expect(classifyTmuxError(failed('no server running on /tmp/tmux-0/mcc\n', 0))).toBe('unknown');
  });
});

describe('argument escaping', () => {
  it('tmuxArg keeps a trailing `;` literal (tmux reads `\\;` as `;`)', () => {
    expect(tmuxArg('echo hi;')).toBe('echo hi\\;');
    expect(tmuxArg('a\\;')).toBe('a\\\\;');
    expect(tmuxArg(';')).toBe('\\;');
    expect(tmuxArg('a;b')).toBe('a;b');
    expect(tmuxArg('plain')).toBe('plain');
  });

  it('formatLiteral doubles `#` so `#()` cannot run', () => {
    expect(formatLiteral('/tmp/d#(touch x)')).toBe('/tmp/d##(touch x)');
    expect(formatLiteral('/srv/a')).toBe('/srv/a');
  });
});

describe('TMUX_KEY_NAME_RE', () => {
  it.each(['Enter', 'Escape', 'C-c', 'M-x', 'C-M-a', 'S-Up', 'F12', 'BSpace', 'BTab', 'y', '1'])('accepts %s', (k) => {
    expect(TMUX_KEY_NAME_RE.test(k)).toBe(true);
  });
  it.each(['', 'hello', 'Enter;', ';', 'C-', 'F123', '#(x)', 'Enter Enter', 'e\n', '-l', 'X-a'])('rejects %j', (k) => {
    expect(TMUX_KEY_NAME_RE.test(k)).toBe(false);
  });
});

describe('ourPanes', () => {
  it('keeps exactly the mc-MC-<n> sessions, with their keys', () => {
    const r = parsePaneList(
      ['mc-MC-1', 'mc-MC-12', 'mc-MC-01', 'mc-MC-1x', 'work', 'mc-', 'MC-3', 'mc-MC-7']
        .map((s) => paneLine({ session: s }))
        .join('\n') + '\n',
    );
    if (!r.ok) throw new Error(r.reason);
    expect(ourPanes(r).map((p) => [p.session, p.key])).toEqual([
      ['mc-MC-1', 'MC-1'],
      ['mc-MC-12', 'MC-12'],
      ['mc-MC-7', 'MC-7'],
    ]);
  });
});
