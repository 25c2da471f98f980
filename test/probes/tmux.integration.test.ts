// The tmux probe against real tmux, each test on its own private socket (never the default server).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { PaneInfo, TmuxObservation } from '../../src/core/tmux.port.js';
import { inertForPaste } from '../../src/core/sanitize.js';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import { captureTail } from '../../src/probes/capture.js';
import { ourPanes, TmuxProbe } from '../../src/probes/tmux.probe.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';
import { waitFor } from '../helpers/wait.js';

const runner = new NodeCommandRunner({ timeoutMs: 10_000 });

function setup(opts: { tmuxBin?: string } = {}): { tmux: TmuxProbe; sock: TmuxSocket; dir: string } {
  const sock = makeTmuxSocket();
  const tmp = makeTmpDir();
  onTestFinished(async () => {
    await sock.cleanup();
    tmp.cleanup();
  });
  const tmux = new TmuxProbe({
    socket: sock.name,
    runner,
    configFile: join(tmp.path, 'tmux.conf'),
    timeoutMs: 10_000,
    ...opts,
  });
  return { tmux, sock, dir: tmp.path };
}

function panes(obs: TmuxObservation): PaneInfo[] {
  if (obs.kind !== 'ok') throw new Error(`observation unknown: ${obs.reason}`);
  return obs.panes;
}

async function spawn(tmux: TmuxProbe, session: string, argv: string[] = ['sleep', '300']) {
  const r = await tmux.newSession({ session, argv, storeTag: 'store-test' });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

describe('observe', { timeout: 30_000 }, () => {
  it('sees zero sessions when no server ever ran (no socket file)', async () => {
    const { tmux, sock } = setup();
    expect(existsSync(sock.path)).toBe(false);
    expect(panes(await tmux.observe())).toEqual([]);
  });

  it('sees zero sessions when kill-server left the socket file behind', async () => {
    const { tmux, sock } = setup();
    await spawn(tmux, 'mc-MC-1');
    await sock.tmux(['kill-server']);
    // kill-server returns before the server stops listening; meanwhile a client may read "server exited
    // unexpectedly", which the probe rightly calls unknown. Wait until tmux itself says no server.
    await waitFor(
      'the tmux server to stop listening',
      () => runner.run({ file: 'tmux', args: ['-L', sock.name, 'list-sessions'] }),
      (o) => o.stderr.startsWith('no server running'),
    );
    expect(existsSync(sock.path)).toBe(true);
    expect(panes(await tmux.observe())).toEqual([]);
  });

  it('sees zero sessions on a server that is up but has none (as between the last session and its exit)', async () => {
    const { tmux, sock } = setup();
    // With exit-empty on (our config) this state lasts only an instant; exit-empty off holds it for the test.
    await sock.tmux(['start-server', ';', 'set', '-g', 'exit-empty', 'off']);
    const raw = await runner.run({ file: 'tmux', args: ['-L', sock.name, 'list-panes', '-a'] });
    expect(raw.stderr.trim()).toBe('no current target');
    expect(panes(await tmux.observe())).toEqual([]);
  });

  it('sees one session with its pane, pid, tag and times', async () => {
    const { tmux } = setup();
    const before = Date.now();
    const spawned = await spawn(tmux, 'mc-MC-1');
    const [pane, ...rest] = panes(await tmux.observe());
    expect(rest).toEqual([]);
    expect(pane).toMatchObject({
      session: 'mc-MC-1',
      paneId: spawned.paneId,
      panePid: spawned.panePid,
      paneDead: false,
      paneDeadStatus: null,
      currentCommand: 'sleep',
      storeTag: 'store-test',
      windowIndex: 0,
      paneIndex: 0,
    });
    expect(pane!.sessionCreated).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(pane!.sessionCreated).toBeLessThanOrEqual(Date.now());
    expect(pane!.windowActivity % 1000).toBe(0);
  });

  it('sees 30 sessions in one observation', async () => {
    const { tmux } = setup();
    const names = Array.from({ length: 30 }, (_, i) => `mc-MC-${i + 1}`);
    for (const n of names) await spawn(tmux, n);
    const seen = panes(await tmux.observe());
    expect(seen.map((p) => p.session).sort()).toEqual([...names].sort());
    expect(new Set(seen.map((p) => p.paneId)).size).toBe(30);
    expect(
      ourPanes({ panes: seen })
        .map((p) => p.key)
        .sort(),
    ).toEqual(names.map((n) => n.slice(3)).sort());
  });

  it('reports unknown, not zero sessions, when tmux fails unexpectedly (PATH shim)', async () => {
    const shimDir = makeTmpDir();
    onTestFinished(() => shimDir.cleanup());
    const shim = join(shimDir.path, 'tmux');
    writeFileSync(shim, '#!/bin/sh\necho "server exited unexpectedly" >&2\nexit 1\n');
    chmodSync(shim, 0o755);
    const { tmux } = setup({ tmuxBin: shim });
    const obs = await tmux.observe();
    expect(obs.kind).toBe('unknown');
    expect(obs.kind === 'unknown' && obs.reason).toContain('server exited unexpectedly');
  });

  it('survives a process that names itself with a newline and our separator', async () => {
    const { tmux, dir, sock } = setup();
    const evil = join(dir, 'ev\nil\x1fname');
    symlinkSync('/bin/sleep', evil);
    await spawn(tmux, 'mc-MC-1', [evil, '300']);
    await spawn(tmux, 'mc-MC-2');
    // A session option can be set to anything by hand, too.
    await sock.tmux(['set-option', '-t', '=mc-MC-2:', '@mcc_store', 'x\ny\x1fz']);
    const seen = await waitFor(
      'the renamed process to show',
      async () => panes(await tmux.observe()),
      (ps) => ps.some((p) => p.currentCommand.includes('il')),
    );
    expect(seen.map((p) => p.session).sort()).toEqual(['mc-MC-1', 'mc-MC-2']);
    expect(seen.find((p) => p.session === 'mc-MC-1')!.currentCommand).toBe('ev?il?name');
    expect(seen.find((p) => p.session === 'mc-MC-2')!.storeTag).toBe('x?y?z');
  });
});

describe('sessions', { timeout: 30_000 }, () => {
  it('kills by exact name: mc-MC-1 never matches mc-MC-12', async () => {
    const { tmux } = setup();
    await spawn(tmux, 'mc-MC-12');
    const r2 = await tmux.killSession('mc-MC-1');
    expect(r2.ok === false && r2.code).toBe('not_found');
    await spawn(tmux, 'mc-MC-1');
    expect((await tmux.killSession('mc-MC-1')).ok).toBe(true);
    expect(panes(await tmux.observe()).map((p) => p.session)).toEqual(['mc-MC-12']);
    const r3 = await tmux.killSession('mc-MC-2');
    expect(r3.ok === false && r3.code).toBe('not_found');
    expect(panes(await tmux.observe()).map((p) => p.session)).toEqual(['mc-MC-12']);
  });

  it('kill on a stopped server is not_found', async () => {
    const { tmux } = setup();
    const r = await tmux.killSession('mc-MC-1');
    expect(r.ok === false && r.code).toBe('not_found');
  });

  it('a duplicate session is a conflict and leaves the first alone', async () => {
    const { tmux } = setup();
    const first = await spawn(tmux, 'mc-MC-1');
    const r = await tmux.newSession({ session: 'mc-MC-1', argv: ['sleep', '300'] });
    expect(r.ok === false && r.code).toBe('conflict');
    expect(panes(await tmux.observe()).map((p) => p.paneId)).toEqual([first.paneId]);
  });

  it('a one-element argv runs directly, never as shell text: the pane pid is the agent itself', async () => {
    const { tmux, dir } = setup();
    // Through `sh -c` this path would be two commands, `.../my` and `agent;x.sh`.
    const script = join(dir, 'my agent;x.sh');
    writeFileSync(script, '#!/bin/sh\necho "pid=$$"\nexec sleep 300\n');
    chmodSync(script, 0o755);
    const { paneId, panePid } = await spawn(tmux, 'mc-MC-1', [script]);
    const lines = await waitFor(
      'the agent to print its pid',
      async () => {
        const r = await tmux.capture(paneId, 10);
        return r.ok ? r.value : [];
      },
      (l) => l.some((x) => x.startsWith('pid=')),
    );
    expect(lines).toContain(`pid=${panePid}`);
  });

  it('keeps a dead pane with its exit status (remain-on-exit), and passes argv, cwd and env untouched', async () => {
    const { tmux, sock, dir } = setup();
    const cwd = join(dir, 'w#(touch pwned);');
    mkdirSync(cwd);
    const { paneId } = await tmux
      .newSession({
        session: 'mc-MC-3',
        argv: [
          'sh',
          '-c',
          'printf "[%s]" "$@"; printf "\\n(%s)(%s)\\n" "$PWD" "$X"; exit 7',
          'sh',
          'arg;',
          ';',
          '{',
          '}',
          '',
          '#{pane_id}',
          '$HOME',
          '\\;',
        ],
        cwd,
        env: { X: 'v;' },
      })
      .then((r) => {
        if (!r.ok) throw new Error(r.message);
        return r.value;
      });
    // tmux marks the pane dead when its pty closes and learns the status from SIGCHLD, which tmux 3.3a
    // sometimes misses until another child of the server exits: `run-shell true` makes it reap. (The
    // reconciler does not depend on it: it reads a zombie's exit code from /proc.)
    const dead = await waitFor(
      'the pane to die with a status',
      async () => {
        const ps = panes(await tmux.observe());
        if (ps[0]?.paneDead && ps[0].paneDeadStatus === null)
          execFileSync('tmux', ['-L', sock.name, 'run-shell', 'true']);
        return ps;
      },
      (ps) => ps[0]?.paneDead === true && ps[0].paneDeadStatus !== null,
    );
    expect(dead[0]).toMatchObject({ session: 'mc-MC-3', paneId, paneDead: true, paneDeadStatus: 7 });
    // tmux may mark the pane dead (SIGCHLD) before it has read the last output off the pty on a loaded
    // machine: wait for the last line rather than capturing once.
    const screen = await waitFor(
      'the pane output to be read to its end',
      () => tmux.capture(paneId, 50),
      (c) => c.ok && c.value.some((l) => l.includes(`(${cwd})(v;)`)),
    );
    expect(screen.ok && screen.value).toContain('[arg;][;][{][}][][#{pane_id}][$HOME][\\;]');
    expect(screen.ok && screen.value).toContain(`(${cwd})(v;)`);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });
});

describe('capture, buffers and keys', { timeout: 30_000 }, () => {
  it('capture returns the last N lines', async () => {
    const { tmux } = setup();
    const { paneId } = await spawn(tmux, 'mc-MC-1', ['sh', '-c', 'seq 1 120; exec sleep 300']);
    const last = await waitFor(
      'seq to finish',
      async () => tmux.capture(paneId, 5),
      (r) => r.ok && r.value.at(-1) === '120',
    );
    expect(last).toEqual({ ok: true, value: ['116', '117', '118', '119', '120'] });
    const tail = await captureTail(tmux, paneId, 3);
    expect(tail).toEqual({ ok: true, value: ['118', '119', '120'] });
    const gone = await tmux.capture('%999', 5);
    expect(gone.ok === false && gone.code).toBe('not_found');
  });

  it('hostile text pasted into cat arrives whole and inert, and #() never runs', async () => {
    const { tmux, dir } = setup();
    const out = join(dir, 'out.txt');
    const pwned = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
    onTestFinished(() => rmSync(pwned, { force: true }));
    const { paneId } = await spawn(tmux, 'mc-MC-1', ['sh', '-c', 'exec tee "$0"', out]);
    const hostile = [
      'foo;',
      `#(touch ${pwned})`,
      '$(touch /tmp/nope) and `id` ; Enter C-c',
      'paste end: \x1b[201~ after',
      'tab\there',
      'last line;',
    ].join('\n');
    const text = inertForPaste(hostile);
    expect((await tmux.loadBuffer('mcc-msg-1', text)).ok).toBe(true);
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: true });
    expect((await tmux.pasteBuffer('mcc-msg-1', paneId)).ok).toBe(true);
    // paste-buffer -d deletes the buffer; the last line waits for Enter, like a prompt waiting to be submitted.
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: false });
    expect((await tmux.sendKeys(paneId, ['Enter'])).ok).toBe(true);
    const got = await waitFor(
      'cat to write every line',
      () => (existsSync(out) ? readFileSync(out, 'utf8') : ''),
      (s) => s.includes('last line;'),
    );
    expect(got).toBe(`${text}\n`);
    expect(got).toContain('paste end: ^[[201~ after');
    const screen = await tmux.capture(paneId, 50);
    expect(screen.ok && screen.value).toContain('foo;');
    expect(screen.ok && screen.value).toContain(`#(touch ${pwned})`);
    expect(existsSync(pwned)).toBe(false);
    expect(existsSync('/tmp/nope')).toBe(false);
  });

  it('buffer calls on a stopped server: none there, delete is a no-op, paste is not_found', async () => {
    const { tmux } = setup();
    expect(await tmux.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: false });
    expect((await tmux.deleteBuffer('mcc-msg-1')).ok).toBe(true);
    const r = await tmux.pasteBuffer('mcc-msg-1', '%0');
    expect(r.ok === false && r.code).toBe('not_found');
  });

  it('deleteBuffer removes a loaded buffer and tolerates a missing one', async () => {
    const { tmux } = setup();
    await spawn(tmux, 'mc-MC-1');
    expect((await tmux.loadBuffer('mcc-msg-2', 'x')).ok).toBe(true);
    expect((await tmux.deleteBuffer('mcc-msg-2')).ok).toBe(true);
    expect(await tmux.hasBuffer('mcc-msg-2')).toEqual({ ok: true, value: false });
    expect((await tmux.deleteBuffer('mcc-msg-2')).ok).toBe(true);
  });
});
