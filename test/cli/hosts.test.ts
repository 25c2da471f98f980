// Several hosts on one store (real SQLite file, real tmux on a private socket, the real binary): `mcc hosts`,
// `mcc host forget` (confirmation, exit 3 while the daemon beats, exit 2 for an unknown host), the UNREACHABLE
// host nobody judges, and fencing: a forgotten host's daemon that comes back retires what it left running,
// PID-gated, and never resumes or adopts it. Both hosts share one machine here, so "host B" is `--host host-b`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import { runAttach } from '../../src/cli/runtime-commands.js';
import { pidAlive, useHarness, waitFor, type Harness } from '../runtime/helpers.js';

const B = ['--host', 'host-b'];
const A = ['--host', 'host-a'];

interface HostJson {
  id: string;
  state: string;
  heartbeatAgeSeconds: number;
  openRuntimes: number;
  epoch: number;
}

async function hostsJson(h: Harness): Promise<HostJson[]> {
  const r = await h.must(['hosts', '--json', ...A]);
  return JSON.parse(r.stdout) as HostJson[];
}

/** A ticket picked up on host B, its agent running; returns its key, session and agent pid. */
async function runningOnB(h: Harness) {
  const key = await h.add('work on host b');
  await h.must(['pickup', key, ...B]);
  await waitFor(
    'the agent on host b to be recorded',
    () => h.openRuntimes(key)[0],
    (r) => r?.status === 'running' && r.pid !== null,
  );
  const row = h.openRuntimes(key)[0]!;
  expect(row.host).toBe('host-b');
  return { key, session: row.tmux_session, pid: row.pid!, runtimeId: row.id };
}

/** Make host B's last heartbeat a minute old (its daemon stopped beating). */
function ageHeartbeat(h: Harness, host = 'host-b'): void {
  h.sql('UPDATE hosts SET heartbeat_at = ? WHERE id = ?', new Date(Date.now() - 60_000).toISOString(), host);
}

const profiles = { demo: { bootMs: 200, workMs: 120_000 } };

describe('mcc hosts and mcc host forget', () => {
  it('lists hosts; forget refuses a beating host (3), an unknown one naming the known (2), a non-TTY without --yes (2)', async () => {
    const h = useHarness({ profiles });
    await h.must(['--auto', '--once', ...B, '--ssh-target', 'me@box-b']);
    const [b] = await hostsJson(h);
    expect(b).toMatchObject({ id: 'host-b', state: 'reachable', openRuntimes: 0, epoch: 1 });
    const text = await h.must(['hosts', ...A]);
    expect(text.stdout).toContain('host-b');
    expect(text.stdout).toContain('me@box-b');

    const alive = await h.mcc(['host', 'forget', 'host-b', '--yes', ...A]);
    expect(alive.exitCode).toBe(3);
    expect(alive.stderr).toContain('host host-b is alive');

    const unknown = await h.mcc(['host', 'forget', 'host-z', '--yes', ...A]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no host host-z; known hosts: host-b');

    const noTty = await h.mcc(['host', 'forget', 'host-b', ...A]);
    expect(noTty.exitCode).toBe(2);
    expect(noTty.stderr).toContain('--yes');

    const badId = await h.mcc(['hosts', '--host', 'bad host']);
    expect(badId.exitCode).toBe(2);
    expect(badId.stderr).toContain('--host: host "bad host"');
    expect((await hostsJson(h))[0]).toMatchObject({ epoch: 1, state: 'reachable' });
  });

  it("an UNREACHABLE host's runtime is judged by nobody on host A: not closed, not re-queued, said to be on host-b", async () => {
    const h = useHarness({ profiles });
    await h.must(['--auto', '--once', ...B]);
    const { key, runtimeId } = await runningOnB(h);
    ageHeartbeat(h);
    expect((await hostsJson(h))[0]).toMatchObject({ state: 'unreachable', openRuntimes: 1 });
    const pass = await h.mcc(['--auto', '--once', '--json', ...A]);
    expect(pass.exitCode, pass.stderr).toBe(0);
    expect(pass.stdout).toContain('on host host-b, which is UNREACHABLE');
    expect(h.openRuntimes(key)).toEqual([expect.objectContaining({ id: runtimeId, host: 'host-b' })]);
    expect(h.ticket(key).status).toBe('in_progress');
  });
});

describe('fencing', () => {
  it('a daemon stopped, forgotten and resumed is refused its heartbeat, retires its fenced session and registers again', async () => {
    const h = useHarness({ profiles });
    const daemon = h.spawn(['--auto', '--interval', '0.2', '--json', ...B], { timeoutMs: 90_000 });
    await waitFor(
      "host b's daemon to hold its lease",
      () => h.leases().map((l) => l.name),
      (names) => names.includes('auto-daemon:host-b'),
    );
    const { key, session, pid, runtimeId } = await runningOnB(h);
    // The host goes silent (its daemon stopped, not dead: it comes back with the epoch it registered with).
    process.kill(daemon.pid!, 'SIGSTOP');
    try {
      ageHeartbeat(h);
      const forget = await h.mcc(['host', 'forget', 'host-b', '--yes', '--json', ...A]);
      expect(forget.exitCode, forget.stderr).toBe(0);
      expect(JSON.parse(forget.stdout)).toMatchObject({ host: 'host-b', epoch: 2, closed: [{ ticket: key }] });
      expect(h.runtimes(key)[0]).toMatchObject({ id: runtimeId, status: 'closed', closed_reason: 'host_lost' });
      expect(h.ticket(key).status).toBe('todo');
      expect(await h.hasSession(session), 'forget kills nothing: it cannot reach the host').toBe(true);
    } finally {
      process.kill(daemon.pid!, 'SIGCONT');
    }
    await waitFor(
      'the returning daemon to retire the fenced session',
      () => h.hasSession(session),
      (has) => !has,
    );
    await waitFor(
      'the agent to be gone',
      () => pidAlive(pid),
      (alive) => !alive,
    );
    const fenced = h.events().filter((e) => e.kind === 'host.fenced');
    expect(fenced).toEqual([expect.objectContaining({ status: 'warning' })]);
    expect(fenced[0]!.summary).toContain(`epoch 1 -> 2); retired 1 fenced session (${session})`);
    expect(h.events(key).map((e) => e.kind)).toContain('runtime.kill_orphan');
    // Never resumed, never adopted: the ticket waits in todo with no open runtime.
    expect(h.openRuntimes(key)).toEqual([]);
    expect(h.ticket(key).status).toBe('todo');
    await waitFor(
      'host b registered again at epoch 2',
      () => hostsJson(h),
      (hs) => hs[0]?.state === 'reachable' && hs[0].epoch === 2,
    );
    daemon.kill('SIGTERM');
    const r = await daemon;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain('"kind":"fenced"');
  });

  it('a daemon killed, its host forgotten, then started again retires the fenced session before its first pass', async () => {
    const h = useHarness({ profiles });
    await h.must(['--auto', '--once', ...B]);
    const { key, session } = await runningOnB(h);
    ageHeartbeat(h);
    await h.must(['host', 'forget', 'host-b', '--yes', ...A]);
    expect(await h.hasSession(session)).toBe(true);
    const again = await h.mcc(['--auto', '--once', '--json', ...B]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('"kind":"fenced"');
    // Retired, not adopted by the pass that followed (an orphan session of a todo ticket would have been).
    expect(await h.hasSession(session)).toBe(false);
    expect(h.openRuntimes(key)).toEqual([]);
    expect(h.ticket(key).status).toBe('todo');
    // The next pickup spawns afresh: there is nothing left to adopt.
    const pick = await h.must(['pickup', key, '--json', ...B]);
    expect(JSON.parse(pick.stdout)).toMatchObject({ how: 'spawned' });
  });
});

describe('mcc attach KEY for a runtime of another host', () => {
  /** A context on a fresh store as host A, with MC-1 held by a runtime of `host`. */
  async function world(host: string, sshTarget: string | null) {
    const dir = mkdtempSync(join(tmpdir(), 'mcc-attach-'));
    const opened = await openContext({ db: join(dir, 'mcc.db'), host: 'host-a', env: { XDG_CONFIG_HOME: dir } });
    if (!opened.ok) throw new Error(opened.message);
    const ctx = opened.value;
    const t = await ctx.store.createTicket({ title: 't', body: '', profile: 'demo', now: Date.now(), actor: 'test' });
    const claim = await ctx.store.claim({
      key: t.key,
      ticketVersion: t.version,
      runtime: { host, tmuxSocket: 'sock-b', tmuxSession: `mc-${t.key}` },
      promptBody: 'p',
      now: Date.now(),
      event: { ticketKey: null, runtimeId: null, actor: 'test', kind: 'claim', status: 'ok', summary: 'claim' },
    });
    if (!claim.ok) throw new Error(claim.message);
    const beat = await ctx.store.heartbeatHost({
      id: 'host-b',
      bootId: null,
      version: '0.1.0',
      tmuxSocket: 'sock-b',
      sshTarget,
      epoch: 1,
      now: Date.now(),
    });
    if (!beat.ok) throw new Error(beat.message);
    const ran: (readonly string[])[] = [];
    const errors: string[] = [];
    const out = { stdout: () => undefined, stderr: (s: string) => void errors.push(s) };
    const attach = () =>
      runAttach(ctx.service, t.key, out, (argv) => {
        ran.push(argv);
        return 0;
      });
    return {
      attach,
      ran,
      errors,
      close: () => {
        ctx.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('runs ssh to the host with tmux on its socket, as an argv', async () => {
    const w = await world('host-b', 'me@box-b');
    try {
      expect(await w.attach()).toBe(0);
      expect(w.ran).toEqual([['ssh', '-t', '--', 'me@box-b', 'tmux', '-L', 'sock-b', 'attach', '-t', '=mc-MC-1']]);
    } finally {
      w.close();
    }
  });

  it('no ssh target: exit 2 naming the host and how to set one; nothing run', async () => {
    const w = await world('host-b', null);
    try {
      expect(await w.attach()).toBe(2);
      expect(w.ran).toEqual([]);
      expect(w.errors.join('')).toContain('runs on host host-b, which has no ssh target');
      expect(w.errors.join('')).toContain('--ssh-target');
    } finally {
      w.close();
    }
  });

  it("a runtime of this host attaches with this host's tmux, unchanged", async () => {
    const w = await world('host-a', 'me@box-b');
    try {
      expect(await w.attach()).toBe(0);
      expect(w.ran).toHaveLength(1);
      expect(w.ran[0]![0]).not.toBe('ssh');
      expect(w.ran[0]).toContain('=mc-MC-1');
    } finally {
      w.close();
    }
  });
});
