// Probe logic against a strict fake runner: the exact tmux argv for each call, and how each answer is read.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureTail } from '../../src/probes/capture.js';
import { TMUX_CONFIG } from '../../src/probes/tmux-config.js';
import { PANE_FORMAT } from '../../src/probes/tmux-protocol.js';
import { TmuxProbe } from '../../src/probes/tmux.probe.js';
import { exitWith, FakeRunner, spawnError, success, timedOut } from '../helpers/fake-runner.js';
import { paneLine } from '../helpers/pane-line.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';

const NO_SERVER = 'no server running on /tmp/tmux-0/mcc\n';
const NO_SOCKET = 'error connecting to /tmp/tmux-0/mcc (No such file or directory)\n';

let runner: FakeRunner;
let dir: TmpDir | undefined;

function probe(): { tmux: TmuxProbe; conf: string } {
  dir = makeTmpDir();
  const conf = join(dir.path, 'state', 'tmux.conf');
  runner = new FakeRunner();
  return { tmux: new TmuxProbe({ socket: 'mcc', runner, configFile: conf, now: () => 1_000 }), conf };
}

const T = (...args: string[]) => ['-L', 'mcc', ...args];

afterEach(() => {
  runner.assertDone();
  dir?.cleanup();
  dir = undefined;
});

describe('auto mode', () => {
  it('asks tmux -V once; before 3.7 every command takes the exec path, and doctor is told why', async () => {
    dir = makeTmpDir();
    runner = new FakeRunner();
    const tmux = new TmuxProbe({ socket: 'mcc', runner, configFile: join(dir.path, 'tmux.conf'), mode: 'auto' });
    runner.expect('tmux', ['-V'], success('tmux 3.3a\n'));
    runner.expect('tmux', T('list-panes', '-a', '-F', PANE_FORMAT), success(''));
    runner.expect('tmux', T('list-panes', '-a', '-F', PANE_FORMAT), success(''));
    expect((await tmux.observe()).kind).toBe('ok');
    expect((await tmux.observe()).kind).toBe('ok');
    const mode = await tmux.controlMode();
    expect(mode.on).toBe(false);
    expect(mode.why).toMatch(/^off: tmux 3\.3a: before 3\.7 .*issue 4980/);
    expect(tmux.controlPid).toBeUndefined();
  });

  it('a tmux -V that fails leaves the control client off', async () => {
    dir = makeTmpDir();
    runner = new FakeRunner();
    const tmux = new TmuxProbe({ socket: 'mcc', runner, configFile: join(dir.path, 'tmux.conf'), mode: 'auto' });
    runner.expect('tmux', ['-V'], spawnError());
    const mode = await tmux.controlMode();
    expect(mode.on).toBe(false);
    expect(mode.why).toMatch(/^off: tmux -V failed/);
  });
});

describe('observe', () => {
  const LIST = T('list-panes', '-a', '-F', PANE_FORMAT);

  it('runs ONE list-panes -a and returns every pane, ours or not', async () => {
    const { tmux } = probe();
    runner.expect('tmux', LIST, success(`${paneLine()}\n${paneLine({ session: 'scratch', id: '%3' })}\n`));
    const obs = await tmux.observe();
    expect(obs.kind).toBe('ok');
    expect(obs.kind === 'ok' && obs.panes.map((p) => p.session)).toEqual(['mc-MC-1', 'scratch']);
    expect(obs.at).toBe(1_000);
  });

  it.each([
    ['no server running (socket file left behind)', NO_SERVER],
    ['a missing socket', NO_SOCKET],
  ])('reads %s as zero sessions', async (_what, stderr) => {
    const { tmux } = probe();
    runner.expect('tmux', LIST, exitWith(stderr));
    expect(await tmux.observe()).toEqual({ kind: 'ok', at: 1_000, panes: [] });
  });

  it.each([
    ['any other error', exitWith('error connecting to /tmp/tmux-0/mcc (Permission denied)\n')],
    ['a non-zero exit without a message', exitWith('')],
    ['a timeout', timedOut()],
    ['tmux missing', spawnError('ENOENT')],
    ['unparsable output', success('garbage\n')],
    ['one good line and one bad line', success(`${paneLine()}\n${paneLine({ pid: 'x' })}\n`)],
    ['truncated output', success(paneLine())],
  ])('reads %s as unknown, never as zero sessions', async (_what, outcome) => {
    const { tmux } = probe();
    runner.expect('tmux', LIST, outcome);
    const obs = await tmux.observe();
    expect(obs.kind).toBe('unknown');
    expect(obs.kind === 'unknown' && obs.reason).toBeTruthy();
  });
});

describe('newSession', () => {
  const head = (conf: string) =>
    T(
      '-f',
      conf,
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'new-session',
      '-d',
      '-s',
      'mc-MC-1',
      '-x',
      '200',
      '-y',
      '50',
    );
  const tail = ['-P', '-F', '#{pane_id} #{pane_pid}', '--'];

  it('starts the argv directly with cwd, env and the store tag in one tmux call, and writes the config 0600', async () => {
    const { tmux, conf } = probe();
    runner.expect(
      'tmux',
      [
        ...head(conf),
        '-c',
        '/work/a##b',
        '-e',
        'A=1',
        '-e',
        'B=x\\;',
        ...tail,
        'node',
        'agent.js',
        'run\\;',
        ';',
        'set-option',
        '-t',
        '=mc-MC-1:',
        '@mcc_store',
        'store-abc',
      ],
      success('%3 4242\n'),
    );
    const r = await tmux.newSession({
      session: 'mc-MC-1',
      argv: ['node', 'agent.js', 'run;'],
      cwd: '/work/a#b',
      env: { A: '1', B: 'x;' },
      storeTag: 'store-abc',
    });
    expect(r).toEqual({ ok: true, value: { paneId: '%3', panePid: 4242 } });
    expect(readFileSync(conf, 'utf8')).toBe(TMUX_CONFIG);
    expect(TMUX_CONFIG).toContain('set -g remain-on-exit on');
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(statSync(join(conf, '..')).mode & 0o777).toBe(0o700);
  });

  it('prefixes a one-element argv with /usr/bin/env, so tmux does not wrap it in `sh -c`', async () => {
    const { tmux, conf } = probe();
    runner.expect('tmux', [...head(conf), ...tail, '/usr/bin/env', 'claude'], success('%0 77\n'));
    expect(await tmux.newSession({ session: 'mc-MC-1', argv: ['claude'] })).toEqual({
      ok: true,
      value: { paneId: '%0', panePid: 77 },
    });
  });

  it('maps duplicate session to conflict', async () => {
    const { tmux, conf } = probe();
    runner.expect('tmux', [...head(conf), ...tail, 'a', 'b'], exitWith('duplicate session: mc-MC-1\n'));
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(r.ok === false && r.code).toBe('conflict');
  });

  it('asks again while the server is on its way out, then succeeds', async () => {
    const { tmux, conf } = probe();
    const argv = [...head(conf), ...tail, 'a', 'b'];
    runner.expect('tmux', argv, exitWith('server exited unexpectedly\n'));
    runner.expect('tmux', argv, exitWith('server exited unexpectedly\n'));
    runner.expect('tmux', argv, success('%0 77\n'));
    expect(await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] })).toEqual({
      ok: true,
      value: { paneId: '%0', panePid: 77 },
    });
  });

  it('gives up on a server that keeps exiting after 5 tries: tmux_failed', async () => {
    const { tmux, conf } = probe();
    const argv = [...head(conf), ...tail, 'a', 'b'];
    for (let i = 0; i < 5; i++) runner.expect('tmux', argv, exitWith('server exited unexpectedly\n'));
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(r.ok === false && r.message).toMatch(/server exited unexpectedly/);
  });

  it.each([
    ['another error', exitWith('unknown option -- z\n')],
    ['a timeout', timedOut()],
    ['odd output', success('created\n')],
  ])('maps %s to tmux_failed', async (_what, outcome) => {
    const { tmux, conf } = probe();
    runner.expect('tmux', [...head(conf), ...tail, 'a', 'b'], outcome);
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(r.ok === false && r.code).toBe('tmux_failed');
  });

  it('fails with tmux_failed, running nothing, when the config cannot be written', async () => {
    runner = new FakeRunner();
    const tmux = new TmuxProbe({ socket: 'mcc', runner, configFile: '/dev/null/mcc/tmux.conf' });
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(r.ok === false && r.code).toBe('tmux_failed');
    expect(r.ok === false && r.message).toContain('/dev/null/mcc/tmux.conf');
  });

  it('rewrites a config that does not hold our settings, 0600', async () => {
    const { tmux, conf } = probe();
    mkdirSync(join(conf, '..'), { recursive: true });
    writeFileSync(conf, 'set -g remain-on-exit off\n', { mode: 0o644 });
    runner.expect('tmux', [...head(conf), ...tail, 'a', 'b'], success('%0 5\n'));
    await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(readFileSync(conf, 'utf8')).toBe(TMUX_CONFIG);
    expect(statSync(conf).mode & 0o777).toBe(0o600);
  });

  it('keeps a hostile stderr out of the message', async () => {
    const { tmux, conf } = probe();
    runner.expect('tmux', [...head(conf), ...tail, 'a', 'b'], exitWith('bad \x1b]52;c;AAAA\x07thing\n'));
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['a', 'b'] });
    expect(r.ok === false && r.message).toContain('bad thing');
    expect(r.ok === false && r.message).not.toContain('\x1b');
  });

  it.each([
    ['a session name with `.` (tmux would rename it)', { session: 'mc.MC-1', argv: ['a', 'b'] }],
    ['a session name with `:`', { session: 'mc:1', argv: ['a', 'b'] }],
    ['a session name with `;`', { session: 'mc-MC-1;', argv: ['a', 'b'] }],
    ['an empty session name', { session: '', argv: ['a', 'b'] }],
    ['an empty argv', { session: 'mc-MC-1', argv: [] }],
    ['a single argv element env would read as an assignment', { session: 'mc-MC-1', argv: ['A=1'] }],
    ['a single argv element env would read as an option', { session: 'mc-MC-1', argv: ['-i'] }],
    ['a NUL byte in argv', { session: 'mc-MC-1', argv: ['a', 'b\0'] }],
    ['an env key with `=`', { session: 'mc-MC-1', argv: ['a', 'b'], env: { 'A=B': '1' } }],
    ['an env key with a space', { session: 'mc-MC-1', argv: ['a', 'b'], env: { 'A B': '1' } }],
    ['a store tag with a newline', { session: 'mc-MC-1', argv: ['a', 'b'], storeTag: 'x\ny' }],
    ['an empty cwd', { session: 'mc-MC-1', argv: ['a', 'b'], cwd: '' }],
  ])('rejects %s as invalid without running tmux', async (_what, spec) => {
    const { tmux } = probe();
    const r = await tmux.newSession(spec);
    expect(r.ok === false && r.code).toBe('invalid');
  });
});

describe('killSession', () => {
  it('targets the exact session name', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('kill-session', '-t', '=mc-MC-1'), success());
    expect(await tmux.killSession('mc-MC-1')).toEqual({ ok: true, value: undefined });
  });

  it.each([["can't find session: mc-MC-1\n"], [NO_SERVER], [NO_SOCKET]])('maps %j to not_found', async (stderr) => {
    const { tmux } = probe();
    runner.expect('tmux', T('kill-session', '-t', '=mc-MC-1'), exitWith(stderr));
    const r = await tmux.killSession('mc-MC-1');
    expect(r.ok === false && r.code).toBe('not_found');
  });

  it('maps a timeout to tmux_failed, not not_found', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('kill-session', '-t', '=mc-MC-1'), timedOut());
    const r = await tmux.killSession('mc-MC-1');
    expect(r.ok === false && r.code).toBe('tmux_failed');
  });
});

describe('capture', () => {
  it('asks for joined lines and returns the last N with trailing blank lines removed', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('capture-pane', '-p', '-J', '-t', '%4', '-S', '-3'), success('old\na\nb\nc\n\n   \n\n'));
    expect(await tmux.capture('%4', 3)).toEqual({ ok: true, value: ['a', 'b', 'c'] });
  });

  it('returns raw text; captureTail sanitizes it for display', async () => {
    const { tmux } = probe();
    const raw = 'ok\x1b]52;c;ZXZpbA==\x07\rgone\tx\n';
    runner.expect('tmux', T('capture-pane', '-p', '-J', '-t', '%4', '-S', '-5'), success(raw));
    runner.expect('tmux', T('capture-pane', '-p', '-J', '-t', '%4', '-S', '-5'), success(raw));
    expect(await tmux.capture('%4', 5)).toEqual({ ok: true, value: ['ok\x1b]52;c;ZXZpbA==\x07\rgone\tx'] });
    expect(await captureTail(tmux, '%4', 5)).toEqual({ ok: true, value: ['ok^Mgone x'] });
  });

  it('maps a missing pane to not_found and a timeout to probe_unknown', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('capture-pane', '-p', '-J', '-t', '%4', '-S', '-5'), exitWith("can't find pane: %4\n"));
    runner.expect('tmux', T('capture-pane', '-p', '-J', '-t', '%4', '-S', '-5'), timedOut());
    const gone = await tmux.capture('%4', 5);
    expect(gone.ok === false && gone.code).toBe('not_found');
    const r = await tmux.capture('%4', 5);
    expect(r.ok === false && r.code).toBe('probe_unknown');
  });

  it.each([
    ['4', 5],
    ['%4;', 5],
    ['%4', 0],
    ['%4', 1.5],
  ])('rejects pane %j / %j lines as invalid', async (pane, n) => {
    const { tmux } = probe();
    const r = await tmux.capture(pane, n);
    expect(r.ok === false && r.code).toBe('invalid');
  });
});

describe('buffers', () => {
  it('loads text through stdin only, and pastes as a bracketed paste that keeps LF', async () => {
    const { tmux } = probe();
    const text = 'line 1;\n#(touch /tmp/x) $(id) `id`\n';
    runner.expect('tmux', T('load-buffer', '-b', 'mcc-msg-9', '-'), success(), text);
    runner.expect('tmux', T('paste-buffer', '-d', '-p', '-r', '-b', 'mcc-msg-9', '-t', '%2'), success());
    expect((await tmux.loadBuffer('mcc-msg-9', text)).ok).toBe(true);
    expect((await tmux.pasteBuffer('mcc-msg-9', '%2')).ok).toBe(true);
    expect(runner.calls.flatMap((c) => c.args).join(' ')).not.toContain('touch');
  });

  it('maps a missing buffer or pane on paste to not_found', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('paste-buffer', '-d', '-p', '-r', '-b', 'b1', '-t', '%2'), exitWith('no buffer b1\n'));
    const r = await tmux.pasteBuffer('b1', '%2');
    expect(r.ok === false && r.code).toBe('not_found');
  });

  it('hasBuffer looks for the exact name; no server means no buffer; other errors are probe_unknown', async () => {
    const { tmux } = probe();
    const LIST = T('list-buffers', '-F', '#{buffer_name}');
    runner.expect('tmux', LIST, success('mcc-msg-10\nmcc-msg-1x\n'));
    runner.expect('tmux', LIST, success('mcc-msg-10\nmcc-msg-1\n'));
    runner.expect('tmux', LIST, exitWith(NO_SERVER));
    runner.expect('tmux', LIST, timedOut());
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: false });
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: true });
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: false });
    const r = await tmux.hasBuffer('mcc-msg-1');
    expect(r.ok === false && r.code).toBe('probe_unknown');
  });

  it('deleteBuffer treats a missing buffer or server as done', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('delete-buffer', '-b', 'b1'), exitWith('unknown buffer: b1\n'));
    runner.expect('tmux', T('delete-buffer', '-b', 'b1'), exitWith(NO_SERVER));
    runner.expect('tmux', T('delete-buffer', '-b', 'b1'), exitWith('lost server\n'));
    expect((await tmux.deleteBuffer('b1')).ok).toBe(true);
    expect((await tmux.deleteBuffer('b1')).ok).toBe(true);
    const r = await tmux.deleteBuffer('b1');
    expect(r.ok === false && r.code).toBe('tmux_failed');
  });

  it('rejects buffer names that are not ours', async () => {
    const { tmux } = probe();
    for (const r of [
      await tmux.loadBuffer('a;', 'x'),
      await tmux.pasteBuffer('a b', '%1'),
      await tmux.hasBuffer(''),
      await tmux.deleteBuffer('#(x)'),
    ]) {
      expect(r.ok === false && r.code).toBe('invalid');
    }
  });
});

describe('sendKeys', () => {
  it('sends whitelisted key names to the pane', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('send-keys', '-t', '%1', 'Escape', 'C-c', 'Enter'), success());
    expect((await tmux.sendKeys('%1', ['Escape', 'C-c', 'Enter'])).ok).toBe(true);
  });

  it.each([[['hello']], [['Enter;']], [['Enter', 'rm -rf /']], [['-l']], [[]], [['#(touch x)']]])(
    'rejects %j without running tmux',
    async (keys) => {
      const { tmux } = probe();
      const r = await tmux.sendKeys('%1', keys);
      expect(r.ok === false && r.code).toBe('invalid');
    },
  );

  it('maps a missing pane to not_found', async () => {
    const { tmux } = probe();
    runner.expect('tmux', T('send-keys', '-t', '%1', 'Enter'), exitWith("can't find pane: %1\n"));
    const r = await tmux.sendKeys('%1', ['Enter']);
    expect(r.ok === false && r.code).toBe('not_found');
  });
});

describe('construction and attach', () => {
  it('attaches to the exact session on our socket', () => {
    const { tmux } = probe();
    expect(tmux.attachArgv('mc-MC-12')).toEqual(['tmux', '-L', 'mcc', 'attach-session', '-t', '=mc-MC-12']);
  });

  it('uses tmuxBin for every call', async () => {
    runner = new FakeRunner().expect('/opt/tmux', ['-L', 's1', 'list-panes', '-a', '-F', PANE_FORMAT], success(''));
    const tmux = new TmuxProbe({ socket: 's1', runner, tmuxBin: '/opt/tmux', configFile: '/nonexistent/tmux.conf' });
    expect((await tmux.observe()).kind).toBe('ok');
    expect(existsSync('/nonexistent/tmux.conf')).toBe(false);
  });

  it.each(['', 'a/b', '../x', 'a b', 'x;'])('refuses socket name %j (a bug upstream)', (socket) => {
    runner = new FakeRunner();
    expect(() => new TmuxProbe({ socket, runner })).toThrow(/socket/);
  });
});
