// Actions on a runtime of another host, end to end: the CLI on host A queues a command, host B's daemon (the
// holder of B's lease) claims and runs it through its own service (real tmux on the harness's private socket,
// real /proc, one SQLite store), and the CLI waits for the result. Each simulated host is MCC_HOST on the same
// machine: the hosts share one tmux socket here, which is fine since only B's daemon acts on B's runtimes.
import { describe, expect, it } from 'vitest';
import { demoProfile, useHarness, waitFor, type Harness } from '../runtime/helpers.js';

const onHost = (host: string) => ({ env: { MCC_HOST: host } });

interface DaemonLine {
  kind: string;
  text: string;
  id?: number;
  ticket?: string;
  status?: string;
  via?: string;
}

const lines = (out: string): DaemonLine[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as DaemonLine);

/** A ticket whose runtime lives on `host` (picked up there), with its agent running. */
async function runtimeOn(h: Harness, host: string, title: string): Promise<string> {
  const key = await h.add(title);
  await h.must(['pickup', key], onHost(host));
  await waitFor(
    `the runtime of ${key} on ${host}`,
    () => h.openRuntimes(key),
    (rs) => rs.length === 1 && rs[0]?.host === host && rs[0].pid !== null,
  );
  return key;
}

describe('commands for another host, run by its daemon', () => {
  it('retire from host A: queued on B, run by B’s daemon within one interval, and the CLI prints the result', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const key = await runtimeOn(h, 'hostB', 'retired from afar');
    const daemon = h.spawn(['--auto', '--interval', '1', '--json'], { ...onHost('hostB'), timeoutMs: 120_000 });
    await waitFor(
      'host B to beat its heartbeat',
      async () => (await h.mcc(['hosts', '--json'])).stdout,
      (s) => s.includes('"hostB"'),
    );

    const r = await h.mcc(['retire', key, '--wait-seconds', '20'], onHost('hostA'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`retire ${key} queued on hostB \\(command \\d+, expires in`));
    expect(r.stdout).toContain(`retire ${key} on hostB (command`);
    expect(r.stdout).toContain('done:');
    expect(await h.hasSession(`mc-${key}`)).toBe(false);
    expect(h.openRuntimes(key)).toEqual([]);

    const cmds = JSON.parse((await h.must(['commands', '--json'])).stdout) as {
      id: number;
      status: string;
      claimedBy: string;
      createdAt: string;
      finishedAt: string;
    }[];
    expect(cmds).toHaveLength(1);
    expect(cmds[0]?.status).toBe('done');
    // One pass interval (1 s) plus the retire itself: a slow machine gets a generous margin, never a poll miss.
    expect(Date.parse(cmds[0]!.finishedAt) - Date.parse(cmds[0]!.createdAt)).toBeLessThan(8_000);
    const pid = daemon.pid;
    daemon.kill('SIGTERM');
    const d = await daemon;
    const ran = lines(String(d.stdout)).filter((l) => l.kind === 'command');
    expect(ran).toEqual([expect.objectContaining({ ticket: key, status: 'done', id: cmds[0]!.id })]);
    // The daemon that ran it held B's lease (its claimer is B's daemon process).
    expect(cmds[0]!.claimedBy).toContain(`hostB:${pid} `);
  });

  it('--no-wait returns once queued; the daemon runs it later; send and interrupt go the same way', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const key = await runtimeOn(h, 'hostB', 'asked without waiting');
    const daemon = h.spawn(['--auto', '--interval', '0.5', '--json'], { ...onHost('hostB'), timeoutMs: 120_000 });
    await waitFor(
      'host B to beat its heartbeat',
      async () => (await h.mcc(['hosts', '--json'])).stdout,
      (s) => s.includes('"hostB"'),
    );
    const q = await h.mcc(['send', key, 'hello from A', '--no-wait'], onHost('hostA'));
    expect(q.exitCode, q.stderr).toBe(0);
    expect(q.stdout).toContain(`send ${key} queued on hostB`);
    expect(q.stdout).not.toContain('done:');
    await waitFor(
      'the send to be done',
      async () => JSON.parse((await h.must(['commands', '--json'])).stdout) as { status: string }[],
      (cs) => cs[0]?.status === 'done',
    );
    const i = await h.mcc(['interrupt', key, '--json'], onHost('hostA'));
    expect(i.exitCode, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toEqual(expect.objectContaining({ kind: 'interrupt', status: 'done', host: 'hostB' }));
    daemon.kill('SIGTERM');
    await daemon;
  });

  it('a host where no daemon ever registered: refused at once, nothing queued, nothing touched', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const key = await runtimeOn(h, 'hostC', 'on a host nobody serves');
    const r = await h.mcc(['retire', key], onHost('hostA'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`its runtime is on host hostC, where no mcc daemon has ever registered`);
    expect(JSON.parse((await h.must(['commands', '--json'])).stdout)).toEqual([]);
    expect(await h.hasSession(`mc-${key}`)).toBe(true);
    expect(h.openRuntimes(key)).toHaveLength(1);
  });

  it('a registered host whose daemon is not running: queued, said at once, exit 1 "still queued" when the wait runs out', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const key = await runtimeOn(h, 'hostC', 'on a host whose daemon stopped');
    // One pass of hostC's daemon registers it; then it is gone.
    await h.must(['--auto', '--once'], onHost('hostC'));
    const r = await h.mcc(['retire', key, '--wait-seconds', '0.5'], onHost('hostA'));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`retire ${key} queued on hostC`);
    expect(r.stderr).toContain('still queued on hostC');
    expect(r.stderr).toContain('see mcc commands');
    // Nothing was done on C's behalf: its session and runtime are untouched.
    expect(await h.hasSession(`mc-${key}`)).toBe(true);
    expect(h.openRuntimes(key)).toHaveLength(1);
  });

  it('usage: --no-wait with --wait-seconds, or a bad --wait-seconds, is refused (exit 2) before anything is opened', async () => {
    const h = useHarness();
    const both = await h.mcc(['retire', 'MC-1', '--no-wait', '--wait-seconds', '3']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('give --no-wait or --wait-seconds, not both');
    const bad = await h.mcc(['interrupt', 'MC-1', '--wait-seconds', '-1']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--wait-seconds must be a number of seconds');
  });
});

describe('--auto --pickup on several hosts', () => {
  it('each host counts only its own runtimes against --max-runtimes; a host label keeps a ticket to its hosts', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const plain = [await h.add('one'), await h.add('two'), await h.add('three')];
    const gpu = await h.add('needs the gpu box', ['--host-label', 'gpu']);
    const a = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '1'], onHost('hostA'));
    expect(a.exitCode, a.stderr).toBe(0);
    // hostA's one runtime does not use up hostB's room.
    const b = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '2', '--label', 'gpu'], onHost('hostB'));
    expect(b.exitCode, b.stderr).toBe(0);
    const hostOf = (k: string) => h.openRuntimes(k)[0]?.host ?? null;
    expect(plain.map(hostOf)).toEqual(['hostA', 'hostB', 'hostB']);
    expect(hostOf(gpu)).toBeNull();
    // hostA (no label) never takes the gpu ticket, room or not; hostB carries the label and takes it next.
    const a2 = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '5'], onHost('hostA'));
    expect(a2.exitCode, a2.stderr).toBe(0);
    expect(hostOf(gpu)).toBeNull();
    const b2 = await h.mcc(
      ['--auto', '--once', '--pickup', '--max-runtimes', '5', '--label', 'big', '--label', 'gpu'],
      onHost('hostB'),
    );
    expect(b2.exitCode, b2.stderr).toBe(0);
    expect(hostOf(gpu)).toBe('hostB');
    const hosts = JSON.parse((await h.must(['hosts', '--json'])).stdout) as { id: string; labels: string[] }[];
    expect(hosts.find((x) => x.id === 'hostB')?.labels).toEqual(['big', 'gpu']);
  });

  it('a profile’s host label keeps its tickets to hosts carrying it; a ticket’s own label wins; an operator’s pickup elsewhere is refused', async () => {
    const h = useHarness({
      profiles: { demo: { bootMs: 200, workMs: 60_000 } },
      customProfiles: {
        gpuDemo: { ...demoProfile({ bootMs: 200, workMs: 60_000 }), hostLabel: 'gpu' },
      },
    });
    const onGpuProfile = await h.add('gpu by profile', ['--profile', 'gpuDemo']);
    const overridden = await h.add('gpu profile, big ticket', ['--profile', 'gpuDemo', '--host-label', 'big']);
    const hostOf = (k: string) => h.openRuntimes(k)[0]?.host ?? null;
    // hostA carries no label: it takes neither, room or not.
    const a = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '5'], onHost('hostA'));
    expect(a.exitCode, a.stderr).toBe(0);
    expect([hostOf(onGpuProfile), hostOf(overridden)]).toEqual([null, null]);
    // An operator on hostA is refused too, before anything is written, and told where it can run.
    const refused = await h.mcc(['pickup', onGpuProfile], onHost('hostA'));
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(
      `${onGpuProfile} runs only on a host labelled gpu (its profile gpuDemo says so); this host (hostA) carries no label; nothing was started`,
    );
    expect(h.runtimes(onGpuProfile)).toEqual([]);
    expect(await h.hasSession(`mc-${onGpuProfile}`)).toBe(false);
    // hostB carries gpu: the profile's ticket runs there; the ticket that names big does not.
    const b = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '5', '--label', 'gpu'], onHost('hostB'));
    expect(b.exitCode, b.stderr).toBe(0);
    expect([hostOf(onGpuProfile), hostOf(overridden)]).toEqual(['hostB', null]);
    // hostC carries big only: the ticket's own label wins over its profile's.
    const c = await h.mcc(['--auto', '--once', '--pickup', '--max-runtimes', '5', '--label', 'big'], onHost('hostC'));
    expect(c.exitCode, c.stderr).toBe(0);
    expect(hostOf(overridden)).toBe('hostC');
    // An operator on a host whose daemon registered the label may pick such a ticket up by hand.
    expect((await h.mcc(['retire', onGpuProfile], onHost('hostB'))).exitCode).toBe(0);
    const byHand = await h.mcc(['pickup', onGpuProfile], onHost('hostB'));
    expect(byHand.exitCode, byHand.stderr).toBe(0);
    expect(hostOf(onGpuProfile)).toBe('hostB');
  });

  it('a profile’s host label is checked like a ticket’s: a bad one is a config error naming the profile', async () => {
    const h = useHarness({ customProfiles: { odd: { command: ['sh'], hostLabel: 'has space' } } });
    const r = await h.mcc(['list']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/profiles\.odd\.hostLabel/);
    expect(r.stderr).toContain('1 to 64 letters, digits, dot, dash or underscore');
  });

  it('a bad --label or --host-label is refused with exit 2 naming it', async () => {
    const h = useHarness();
    const r = await h.mcc(['--auto', '--once', '--label', 'has space']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--label "has space"');
    const add = await h.mcc(['add', 't', '--host-label', 'x/y']);
    expect(add.exitCode).toBe(2);
    expect(add.stderr).toContain('host label "x/y"');
    expect(h.dump().tickets).toEqual([]);
  });
});
