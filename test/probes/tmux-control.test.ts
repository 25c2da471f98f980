// The tmux probe over one persistent control client (`tmux -C`) against real tmux 3.3a, each test on its own
// private socket: the same answers as the exec path, fallback and reconnection, no trace on what the operator
// sees, no client left behind by a killed mcc, and no agent stalled by a stopped one.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CommandOutcome, CommandRequest, CommandRunner } from '../../src/core/command-runner.port.js';
import type { PaneInfo, TmuxObservation } from '../../src/core/tmux.port.js';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import { TmuxProbe } from '../../src/probes/tmux.probe.js';
import { DIST } from '../global-setup.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';
import { waitFor } from '../helpers/wait.js';

const execFileP = promisify(execFile);

/** Records which tmux commands went through the exec path. */
class CountingRunner implements CommandRunner {
  readonly commands: string[] = [];
  private readonly inner = new NodeCommandRunner({ timeoutMs: 10_000 });
  run(req: CommandRequest): Promise<CommandOutcome> {
    const sub = req.args.find((a, i) => i >= 2 && !a.startsWith('-') && req.args[i - 1] !== '-f');
    this.commands.push(sub ?? '?');
    return this.inner.run(req);
  }
}

interface Rig {
  sock: TmuxSocket;
  dir: string;
  control: TmuxProbe;
  exec: TmuxProbe;
  /** The control probe's runner: what it ran over exec. The exec probe has its own. */
  runner: CountingRunner;
}

function setup(): Rig {
  const sock = makeTmuxSocket();
  const tmp = makeTmpDir();
  const runner = new CountingRunner();
  const base = { socket: sock.name, runner, configFile: join(tmp.path, 'tmux.conf'), timeoutMs: 10_000 };
  const control = new TmuxProbe({ ...base, mode: 'control' });
  const exec = new TmuxProbe({ ...base, runner: new CountingRunner(), mode: 'exec' });
  onTestFinished(async () => {
    await control.close();
    await sock.cleanup();
    tmp.cleanup();
  });
  return { sock, dir: tmp.path, control, exec, runner };
}

function panes(obs: TmuxObservation): PaneInfo[] {
  if (obs.kind !== 'ok') throw new Error(`observation unknown: ${obs.reason}`);
  return obs.panes;
}

async function spawnSession(tmux: TmuxProbe, session: string, argv: string[] = ['sleep', '300']) {
  const r = await tmux.newSession({ session, argv, storeTag: 'store-test' });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

/** The pid of the one `tmux -C` client on the socket (the probe's own pid is its watchdog's). */
async function clientPid(sock: TmuxSocket): Promise<number> {
  const clients = await controlClients(sock);
  expect(clients).toHaveLength(1);
  return Number((clients[0] as string).split(' ')[0]);
}

/** Observe over the control client until it is attached and answering (the first call may go over exec). */
async function attached(rig: Rig): Promise<number> {
  await waitFor(
    'the control client to answer a list-panes',
    async () => {
      const before = rig.runner.commands.length;
      await rig.control.observe();
      return rig.runner.commands.length === before;
    },
    (overControl) => overControl,
  );
  return clientPid(rig.sock);
}

async function controlClients(sock: TmuxSocket): Promise<string[]> {
  try {
    const { stdout } = await sock.tmux(['list-clients', '-F', '#{client_pid} #{client_control_mode}']);
    return stdout.split('\n').filter((l) => l !== '');
  } catch {
    return []; // no server: no clients
  }
}

/** Live `tmux ... -C` processes that name this socket in their argv. */
function controlProcesses(sock: TmuxSocket): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(sock.name) && / -C /.test(l) && !/^\s*\d+\s+Z/.test(l));
}

/** A node process that opens a control client on the socket through the built probe, prints its pid, then idles. */
function ownerProcess(rig: Rig): { child: ChildProcess; ready: Promise<{ pid: number }> } {
  const url = (p: string) => pathToFileURL(join(DIST, p)).href;
  const code = `
    import { TmuxProbe } from ${JSON.stringify(url('probes/tmux.probe.js'))};
    import { NodeCommandRunner } from ${JSON.stringify(url('probes/command-runner.node.js'))};
    const p = new TmuxProbe({ socket: ${JSON.stringify(rig.sock.name)}, runner: new NodeCommandRunner(),
      configFile: ${JSON.stringify(join(rig.dir, 'tmux.conf'))}, mode: 'control' });
    for (;;) {
      await p.observe();
      if (p.controlPid !== undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await p.observe();
    process.stdout.write(JSON.stringify({ pid: p.controlPid }) + '\\n');
    setInterval(() => undefined, 1 << 30);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: rig.sock.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  const ready = new Promise<{ pid: number }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] as string) as { pid: number });
    });
    child.on('exit', (code, sig) => reject(new Error(`owner exited early (${String(code)} ${String(sig)})`)));
  });
  return { child, ready };
}

describe('the control client answers as the exec path does', { timeout: 60_000 }, () => {
  it('for 0, 1 and 30 sessions, and goes over the control client once attached', async () => {
    const rig = setup();
    expect(panes(await rig.control.observe())).toEqual([]);
    await spawnSession(rig.exec, 'mc-MC-0');
    await attached(rig);
    const one = panes(await rig.control.observe());
    expect(one).toHaveLength(1);
    expect(one).toEqual(panes(await rig.exec.observe()));
    for (let i = 1; i < 30; i++) await spawnSession(rig.exec, `mc-MC-${i}`);
    // A hand-made session with a hostile tag, to compare a sanitised field too.
    await rig.sock.tmux(['new-session', '-d', '-s', 'hand', 'sleep 300']);
    await rig.sock.tmux(['set-option', '-t', '=hand:', '@mcc_store', 'a\x1fb\nc']);
    const before = rig.runner.commands.length;
    const ctl = panes(await rig.control.observe());
    expect(rig.runner.commands.length).toBe(before);
    const exe = panes(await rig.exec.observe());
    expect(ctl).toHaveLength(31);
    expect(ctl).toEqual(exe);
    expect(ctl.find((p) => p.session === 'hand')?.storeTag).toBe('a?b?c');

    // Printed, not asserted: timing belongs in the bench.
    const time = async (p: TmuxProbe) => {
      const t = performance.now();
      for (let i = 0; i < 20; i++) await p.observe();
      return ((performance.now() - t) / 20).toFixed(1);
    };
    console.log(`list-panes for 31 sessions: control ${await time(rig.control)} ms, exec ${await time(rig.exec)} ms`);
  });

  it('for a dead pane (remain-on-exit) with its exit status', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const { paneId } = await spawnSession(rig.exec, 'mc-MC-2', ['sh', '-c', 'exit 7']);
    await attached(rig);
    const dead = await waitFor(
      'the pane to die with a status',
      async () => {
        const ps = panes(await rig.control.observe());
        const p = ps.find((x) => x.paneId === paneId);
        if (p?.paneDead && p.paneDeadStatus === null) execFileSync('tmux', ['-L', rig.sock.name, 'run-shell', 'true']);
        return ps;
      },
      (ps) => ps.some((x) => x.paneId === paneId && x.paneDeadStatus !== null),
    );
    expect(dead.find((x) => x.paneId === paneId)).toMatchObject({ paneDead: true, paneDeadStatus: 7 });
    expect(dead).toEqual(panes(await rig.exec.observe()));
  });

  it('for a stopped server: both say zero sessions, and the control client reconnects to a new one', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const first = await attached(rig);
    await rig.sock.tmux(['kill-server']);
    await waitFor(
      'the tmux server to stop listening',
      () => new NodeCommandRunner().run({ file: 'tmux', args: ['-L', rig.sock.name, 'list-sessions'] }),
      (o) => o.stderr.startsWith('no server running'),
    );
    expect(await rig.control.observe()).toMatchObject({ kind: 'ok', panes: [] });
    expect(await rig.exec.observe()).toMatchObject({ kind: 'ok', panes: [] });
    await spawnSession(rig.exec, 'mc-MC-2');
    const second = await attached(rig);
    expect(second).not.toBe(first);
    expect(controlProcesses(rig.sock).some((l) => l.trim().startsWith(`${first} `))).toBe(false);
    expect(panes(await rig.control.observe()).map((p) => p.session)).toEqual(['mc-MC-2']);
  });

  it('capture, send-keys, paste and buffers behave as over exec', async () => {
    const rig = setup();
    const out = join(rig.dir, 'out.txt');
    const { paneId } = await spawnSession(rig.exec, 'mc-MC-1', ['sh', '-c', 'seq 1 30; exec tee "$0"', out]);
    await attached(rig);
    const before = rig.runner.commands.length;
    const tail = await waitFor(
      'seq to print',
      () => rig.control.capture(paneId, 3),
      (r) => r.ok && r.value.at(-1) === '30',
    );
    expect(tail).toEqual(await rig.exec.capture(paneId, 3));
    expect(tail).toEqual({ ok: true, value: ['28', '29', '30'] });
    expect(await rig.control.capture('%999', 3)).toEqual(await rig.exec.capture('%999', 3));
    expect(await rig.control.capture('%999', 3)).toMatchObject({ ok: false, code: 'not_found' });

    // Text goes in over exec (load-buffer reads stdin); the paste and the keys go over the control client.
    const text = 'héllo ; #{pane_id} $HOME \\;\nlast line;';
    expect((await rig.control.loadBuffer('mcc-msg-1', text)).ok).toBe(true);
    expect(await rig.control.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: true });
    expect((await rig.control.pasteBuffer('mcc-msg-1', paneId)).ok).toBe(true);
    expect(await rig.control.hasBuffer('mcc-msg-1')).toEqual({ ok: true, value: false });
    expect((await rig.control.sendKeys(paneId, ['Enter'])).ok).toBe(true);
    const got = await waitFor(
      'tee to write the pasted lines',
      () => (existsSync(out) ? readFileSync(out, 'utf8') : ''),
      (s) => s.includes('last line;'),
    );
    expect(got).toBe(`${text}\n`);
    expect(await rig.control.sendKeys('%999', ['Enter'])).toEqual(await rig.exec.sendKeys('%999', ['Enter']));
    expect(await rig.control.pasteBuffer('nope', paneId)).toMatchObject({ ok: false, code: 'not_found' });
    expect((await rig.control.deleteBuffer('nope')).ok).toBe(true);
    expect(rig.runner.commands.slice(before)).toEqual(['load-buffer']);

    // kill-session of the very session the client is attached to: answered, then tmux detaches it.
    expect(await rig.control.killSession('mc-MC-1')).toEqual({ ok: true, value: undefined });
    expect(await rig.control.killSession('mc-MC-1')).toMatchObject({ ok: false, code: 'not_found' });
  });
});

describe('fallback and reconnection', { timeout: 60_000 }, () => {
  it('a client killed mid-pass: that call falls back to exec with a correct observation; the next reconnects', async () => {
    const rig = setup();
    for (let i = 1; i <= 5; i++) await spawnSession(rig.exec, `mc-MC-${i}`);
    const pid = await attached(rig);
    const old = rig.control.controlPid;
    const pending = rig.control.observe(); // already written to the client's stdin
    process.kill(pid, 'SIGKILL');
    const obs = await pending;
    expect(panes(obs)).toEqual(panes(await rig.exec.observe()));
    expect(panes(obs)).toHaveLength(5);
    // tmux may still answer that call before it notices; either way the probe sees the client end.
    await waitFor(
      'the probe to see its client end',
      () => rig.control.controlPid,
      (p) => p !== old,
    );
    const before = rig.runner.commands.length;
    expect(panes(await rig.control.observe())).toHaveLength(5);
    expect(rig.runner.commands.length).toBe(before);
    expect(await clientPid(rig.sock)).not.toBe(pid);
  });

  it('keys whose client died before answering are a failure, never sent twice', async () => {
    const rig = setup();
    const { paneId } = await spawnSession(rig.exec, 'mc-MC-1');
    const pid = await attached(rig);
    const before = rig.runner.commands.length;
    const pending = rig.control.sendKeys(paneId, ['Enter']);
    process.kill(pid, 'SIGKILL');
    const r = await pending;
    // Either tmux answered before it noticed, or the answer was lost: never a second try over exec.
    if (!r.ok) expect(r.code).toBe('tmux_failed');
    expect(rig.runner.commands.slice(before)).not.toContain('send-keys');
  });
});

describe('what the operator sees', { timeout: 60_000 }, () => {
  it('attaching resizes nothing, changes no option or environment and makes no session', async () => {
    const rig = setup();
    await rig.sock.tmux(['new-session', '-d', '-s', 'mc-MC-1', '-x', '123', '-y', '45', 'sleep 300']);
    await rig.sock.tmux(['set-option', '-t', '=mc-MC-1:', '@mcc_store', 'store-x']);
    // An operator's agent socket in the session environment: attach without -E would overwrite or clear it.
    await rig.sock.tmux(['set-environment', '-t', '=mc-MC-1', 'SSH_AUTH_SOCK', '/operator/agent.sock']);
    const look = async () =>
      (
        await rig.sock.tmux([
          'list-panes',
          '-a',
          '-F',
          '#{session_name} #{window_width}x#{window_height} #{@mcc_store}',
        ])
      ).stdout;
    const env = async () => (await rig.sock.tmux(['show-environment', '-t', '=mc-MC-1'])).stdout;
    const [sizes, environment] = [await look(), await env()];
    expect(sizes).toContain('mc-MC-1 123x45 store-x');
    expect(environment).toContain('SSH_AUTH_SOCK=/operator/agent.sock');
    await attached(rig);
    expect(await controlClients(rig.sock)).toHaveLength(1);
    await rig.control.capture('%0', 5);
    expect(await look()).toBe(sizes);
    expect(await env()).toBe(environment);
    expect((await rig.sock.tmux(['list-sessions', '-F', '#{session_name}'])).stdout).toBe('mc-MC-1\n');
  });

  it('an owner killed with SIGKILL leaves no control client behind', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const owner = ownerProcess(rig);
    await owner.ready;
    const pid = await clientPid(rig.sock);
    expect(controlProcesses(rig.sock).some((l) => l.trim().startsWith(`${pid} `))).toBe(true);
    owner.child.kill('SIGKILL');
    await waitFor(
      'no control client on the socket',
      () => controlClients(rig.sock),
      (c) => c.length === 0,
    );
    await waitFor(
      'no tmux -C process',
      () => controlProcesses(rig.sock),
      (p) => p.length === 0,
    );
  });

  it('an owner SIGKILLed while tmux still holds output for it leaves no control client behind', async () => {
    // tmux lets a control client exit only once its output is written, and output written after the reader died
    // never is: without the watchdog this client, and the server with it, would stay for good.
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const owner = ownerProcess(rig);
    await owner.ready;
    await clientPid(rig.sock);
    owner.child.kill('SIGSTOP');
    // Far more notifications (%window-renamed) than a socket buffer holds, while the owner cannot read them.
    const script = join(rig.dir, 'renames.conf');
    const lines = Array.from({ length: 2_000 }, (_, i) => `rename-window -t =mc-MC-1: ${'w'.repeat(200)}${i}\n`);
    writeFileSync(script, lines.join(''));
    await rig.sock.tmux(['source-file', script]);
    owner.child.kill('SIGKILL');
    await waitFor(
      'no control client on the socket',
      () => controlClients(rig.sock),
      (c) => c.length === 0,
    );
    await waitFor(
      'no tmux -C process',
      () => controlProcesses(rig.sock),
      (p) => p.length === 0,
    );
  });

  it('close() ends the client; the probe then uses exec', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    await attached(rig);
    await rig.control.close();
    await waitFor(
      'no control client on the socket',
      () => controlClients(rig.sock),
      (c) => c.length === 0,
    );
    const before = rig.runner.commands.length;
    expect(panes(await rig.control.observe())).toHaveLength(1);
    expect(rig.runner.commands.length).toBe(before + 1);
  });

  it(
    'an agent flooding its pane finishes while the owner of a control client is stopped (SIGSTOP)',
    { timeout: 400_000 },
    async () => {
      const rig = setup();
      const bytes = 20_000_000;
      const flood = (tag: string) => [
        'sh',
        '-c',
        `while [ ! -e "$0.go" ]; do sleep 0.05; done; head -c ${bytes} /dev/zero | tr '\\0' x; echo; touch "$0.done"; exec sleep 300`,
        join(rig.dir, tag),
      ];
      const run = async (tag: string, boundMs: number) => {
        const t = Date.now();
        execFileSync('touch', [join(rig.dir, `${tag}.go`)]);
        await waitFor(
          `the ${tag} flood to finish`,
          () => existsSync(join(rig.dir, `${tag}.done`)),
          (d) => d,
          boundMs,
        );
        return Date.now() - t;
      };
      // Without any client: how long the flood takes on this machine now.
      await spawnSession(rig.exec, 'mc-MC-1', flood('alone'));
      const alone = await run('alone', 120_000);
      await rig.exec.killSession('mc-MC-1');

      await spawnSession(rig.exec, 'mc-MC-2', flood('stopped'));
      const owner = ownerProcess(rig);
      await owner.ready;
      await clientPid(rig.sock);
      owner.child.kill('SIGSTOP');
      const stopped = await run('stopped', Math.max(60_000, alone * 10));
      console.log(`flood of ${bytes} bytes: ${alone} ms without mcc, ${stopped} ms with a stopped mcc attached`);
      owner.child.kill('SIGCONT');
    },
  );
});

describe('choosing the path', { timeout: 30_000 }, () => {
  it('mode exec never starts a control client', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    for (let i = 0; i < 3; i++) await rig.exec.observe();
    expect(rig.exec.controlPid).toBeUndefined();
    expect(await controlClients(rig.sock)).toEqual([]);
  });

  it('a tmux that cannot start a client: every call goes over exec, and says unknown when that fails too', async () => {
    const rig = setup();
    const probe = new TmuxProbe({
      socket: rig.sock.name,
      runner: rig.runner,
      configFile: join(rig.dir, 'tmux.conf'),
      tmuxBin: join(rig.dir, 'no-such-tmux'),
      mode: 'control',
    });
    onTestFinished(() => probe.close());
    const obs = await probe.observe();
    expect(obs.kind).toBe('unknown');
    expect(rig.runner.commands).toEqual(['list-panes']);
  });

  it('an unused probe in a one-shot process lets node exit', async () => {
    const rig = setup();
    await spawnSession(rig.exec, 'mc-MC-1');
    const url = (p: string) => pathToFileURL(join(DIST, p)).href;
    const code = `
      import { TmuxProbe } from ${JSON.stringify(url('probes/tmux.probe.js'))};
      import { NodeCommandRunner } from ${JSON.stringify(url('probes/command-runner.node.js'))};
      const p = new TmuxProbe({ socket: ${JSON.stringify(rig.sock.name)}, runner: new NodeCommandRunner(),
        configFile: ${JSON.stringify(join(rig.dir, 'tmux.conf'))}, mode: 'control' });
      await p.observe();
      const o = await p.observe();
      process.stdout.write(String(p.controlPid !== undefined) + ' ' + o.kind + '\\n');
    `;
    // No close(): the unref'd client must not hold the process open.
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', code], {
      env: rig.sock.env,
      timeout: 20_000,
    });
    expect(stdout).toBe('true ok\n');
    await waitFor(
      'the client to go with its process',
      () => controlClients(rig.sock),
      (c) => c.length === 0,
    );
  });
});
