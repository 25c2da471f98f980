// The probe's change hints against real tmux 3.3a, each test on its own private socket: what tmux pushes to the
// control client (sessions and windows coming and going, a pane dying, our own session killed) reaches the
// onChange listeners while the client is open; exec mode never calls them; unsubscribing stops them; and a
// real poller fed by them runs early but never more often than its minimum spacing.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { systemClock } from '../../src/core/clock.port.js';
import { MIN_SPACING_MS, Poller } from '../../src/core/poller.js';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import {
  CHANGE_SUBSCRIPTION_FORMAT,
  classifyNotification,
  controlCommandLine,
  subscribeArgs,
  unsubscribeArgs,
} from '../../src/probes/tmux-control-protocol.js';
import { TmuxProbe } from '../../src/probes/tmux.probe.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';
import { waitFor } from '../helpers/wait.js';

const execFileP = promisify(execFile);

interface Rig {
  sock: TmuxSocket;
  control: TmuxProbe;
  exec: TmuxProbe;
}

function setup(): Rig {
  const sock = makeTmuxSocket();
  const tmp = makeTmpDir();
  const base = {
    socket: sock.name,
    runner: new NodeCommandRunner({ timeoutMs: 10_000 }),
    configFile: join(tmp.path, 'tmux.conf'),
    timeoutMs: 10_000,
  };
  const control = new TmuxProbe({ ...base, mode: 'control' });
  const exec = new TmuxProbe({ ...base, mode: 'exec' });
  onTestFinished(async () => {
    await control.close();
    await sock.cleanup();
    tmp.cleanup();
  });
  return { sock, control, exec };
}

async function spawnSession(tmux: TmuxProbe, session: string, argv: string[] = ['sleep', '300']) {
  const r = await tmux.newSession({ session, argv, storeTag: 'store-test' });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

/** Observe until the control probe has a client other than `old` (the first call may go over exec). */
async function attach(probe: TmuxProbe, old?: number): Promise<number> {
  const pid = await waitFor(
    'the control client to attach',
    async () => {
      await probe.observe();
      return probe.controlPid;
    },
    (p) => p !== undefined && p !== old,
  );
  return pid as number;
}

/** A listener that counts its calls. */
function counter(probe: TmuxProbe) {
  const c = { calls: 0, off: () => undefined as unknown };
  c.off = probe.onChange(() => c.calls++);
  return c;
}

/** Wait until `c` has been called more than `before` times. */
function calledAfter(c: { calls: number }, before: number, what: string, timeoutMs = 10_000) {
  return waitFor(
    what,
    () => c.calls,
    (n) => n > before,
    timeoutMs,
  );
}

describe('which notifications are hints', () => {
  it('sessions and windows coming, going or renamed are; our own client, copy mode, layouts and renames are not', () => {
    const kinds = (lines: string[]) => lines.map((l) => classifyNotification(l).kind);
    expect(
      kinds([
        '%sessions-changed',
        '%session-renamed $3 mc-MC-9',
        '%window-add @4',
        '%window-close @4',
        '%unlinked-window-add @5',
        '%unlinked-window-close @5',
      ]),
    ).toEqual(Array(6).fill('change'));
    expect(
      kinds([
        '%session-changed $0 mc-MC-1',
        '%pane-mode-changed %3',
        '%layout-change @1 b25d,80x24,0,0,1 b25d,80x24,0,0,1 *',
        '%window-renamed @1 node',
        '%unlinked-window-renamed @2 git',
        '%client-detached /dev/pts/3',
        '%session-window-changed $1 @2',
        '%sessions-changed-not',
        '%subscription-changed someone-else $0 - - - : %1 ',
      ]),
    ).toEqual(Array(9).fill('other'));
  });

  it("reads our subscription's value after ` : `, empty when no pane is dead", () => {
    expect(classifyNotification('%subscription-changed mcc-panes $0 - - - : ')).toEqual({
      kind: 'subscription',
      value: '',
    });
    expect(classifyNotification('%subscription-changed mcc-panes $0 - - - : %1 %7 ')).toEqual({
      kind: 'subscription',
      value: '%1 %7 ',
    });
  });

  it('the subscription is a constant that runs no shell and goes over the control channel', () => {
    expect(CHANGE_SUBSCRIPTION_FORMAT).not.toContain('#(');
    expect(controlCommandLine(subscribeArgs())).toBe(
      `'refresh-client' '-B' 'mcc-panes::${CHANGE_SUBSCRIPTION_FORMAT}'`,
    );
    expect(controlCommandLine(unsubscribeArgs())).toBe(`'refresh-client' '-B' 'mcc-panes'`);
  });
});

describe('change hints over the control client', { timeout: 60_000 }, () => {
  it('a session created or killed on the socket calls the listener', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const hints = counter(rig.control);
    await attach(rig.control);
    let before = hints.calls;
    await rig.sock.tmux(['new-session', '-d', '-s', 'by-hand', 'sleep', '300']);
    await calledAfter(hints, before, 'a hint for the new session');
    before = hints.calls;
    await rig.sock.tmux(['kill-session', '-t', '=by-hand']);
    await calledAfter(hints, before, 'a hint for the killed session');
  });

  it('a pane that dies (kept by remain-on-exit, no notification of its own) calls the listener', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const victim = await spawnSession(rig.exec, 'mc-MC-2');
    const hints = counter(rig.control);
    await attach(rig.control);
    const before = hints.calls;
    process.kill(victim.panePid, 'SIGTERM');
    // tmux checks subscriptions once a second.
    await calledAfter(hints, before, 'a hint for the dead pane');
    const obs = await rig.control.observe();
    expect(obs.kind === 'ok' && obs.panes.find((p) => p.paneId === victim.paneId)?.paneDead).toBe(true);
  });

  it('a listener added after the client attached is told of a dead pane too', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const victim = await spawnSession(rig.exec, 'mc-MC-2');
    await attach(rig.control);
    const hints = counter(rig.control);
    process.kill(victim.panePid, 'SIGTERM');
    await calledAfter(hints, 0, 'a hint for the dead pane');
  });

  it('our own session killed calls the listener, and the next pass brings the hints back', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const hints = counter(rig.control);
    const first = await attach(rig.control);
    let before = hints.calls;
    // The client is attached to the only session there is.
    await rig.sock.tmux(['kill-session', '-t', '=mc-MC-1']);
    await calledAfter(hints, before, 'a hint for our own session killed');
    await spawnSession(rig.exec, 'mc-MC-2');
    await attach(rig.control, first);
    before = hints.calls;
    await rig.sock.tmux(['new-session', '-d', '-s', 'by-hand', 'sleep', '300']);
    await calledAfter(hints, before, 'a hint over the new client');
  });

  it('exec mode never calls its listener', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const viaExec = counter(rig.exec);
    const viaControl = counter(rig.control);
    await attach(rig.control);
    await rig.exec.observe();
    await spawnSession(rig.exec, 'mc-MC-2');
    await rig.sock.tmux(['kill-session', '-t', '=mc-MC-2']);
    // The same events reached the control probe: had exec mode anything to say, it would have said it by now.
    await calledAfter(viaControl, 1, 'the control probe to hear of both sessions');
    await rig.exec.observe();
    expect(viaExec.calls).toBe(0);
  });

  it('an unsubscribed listener is no longer called; the others still are', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const gone = counter(rig.control);
    const kept = counter(rig.control);
    await attach(rig.control);
    await rig.sock.tmux(['new-session', '-d', '-s', 'by-hand-1', 'sleep', '300']);
    await calledAfter(gone, 0, 'a hint before unsubscribing');
    gone.off();
    const [g, k] = [gone.calls, kept.calls];
    await rig.sock.tmux(['new-session', '-d', '-s', 'by-hand-2', 'sleep', '300']);
    await calledAfter(kept, k, 'a hint to the listener still subscribed');
    expect(gone.calls).toBe(g);
  });
});

describe('a poller fed by the hints', { timeout: 60_000 }, () => {
  it('runs early on a change, and a flood of 100 sessions never runs it more often than its minimum spacing', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    await attach(rig.control);
    const runs: number[] = [];
    const poller = new Poller(
      async () => {
        runs.push(Date.now());
        await rig.control.observe();
      },
      // An interval far longer than the test: every run after the first is an early one.
      { intervalMs: 600_000, clock: systemClock, hints: (l) => rig.control.onChange(l) },
    );
    onTestFinished(() => poller.stop());
    poller.start();
    await waitFor(
      'the first run',
      () => runs.length,
      (n) => n === 1,
    );
    await rig.sock.tmux(['new-session', '-d', '-s', 'by-hand', 'sleep', '300']);
    await waitFor(
      'an early run',
      () => runs.length,
      (n) => n >= 2,
    );
    const start = Date.now();
    const loop = `for i in $(seq 0 99); do tmux -L "$1" new-session -d -s "flood-$i" sleep 300 || exit 1; done`;
    await execFileP('sh', ['-c', loop, 'sh', rig.sock.name], { env: rig.sock.env, timeout: 30_000 });
    await waitFor(
      'a run that sees all 100 sessions',
      () => rig.control.observe(),
      (o) => o.kind === 'ok' && o.panes.filter((p) => p.session.startsWith('flood-')).length === 100,
    );
    const elapsed = Date.now() - start;
    const early = runs.filter((t) => t >= start).length;
    console.log(`100 sessions in ${elapsed} ms: ${early} early runs (${poller.early} brought forward in all)`);
    expect(early).toBeGreaterThanOrEqual(1);
    expect(early).toBeLessThanOrEqual(Math.ceil(elapsed / MIN_SPACING_MS) + 2);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(MIN_SPACING_MS - 5);
  });
});
