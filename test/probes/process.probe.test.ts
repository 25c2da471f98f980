// Process identity: /proc parsing on fixture trees and on this very process, and the `ps` fallback.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../src/core/command-runner.port.js';
import { sameProcess } from '../../src/core/process.port.js';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import {
  createProcessProbe,
  parseBootTime,
  parseProcStat,
  parsePsOutput,
  ProcProcessProbe,
  PsProcessProbe,
} from '../../src/probes/process.probe.js';
import { exitWith, FakeRunner, success, timedOut } from '../helpers/fake-runner.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';

const BOOT = '40f1185e-e578-485e-8bc1-b808f3dafbd9';

/** A /proc/PID/stat line as Linux writes it, with the given comm, state and start time (field 22). */
function statLine(pid: number, comm: string, state: string, start: number): string {
  const after = [
    state,
    '1',
    pid,
    pid,
    '0',
    '-1',
    '4194304',
    '99',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '20',
    '0',
    '1',
    '0',
    start,
    '3133440',
    '413',
    '18446744073709551615',
  ];
  return `${pid} (${comm}) ${after.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads the exit code (field 52) of a full-length line, as a zombie shows it', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'Z';
    fields[22 - 3] = '5555';
    fields[52 - 3] = String(137 & 0x7f);
    const line = `9 (agent) ${fields.join(' ')}\n`;
    expect(parseProcStat(line)).toMatchObject({ pid: 9, state: 'Z', start: 5555, exitCode: 9 });
  });

  it('reads pid, comm, state and start time (field 22) from a real line', () => {
    const real =
      '7073 (cat) R 7071 7071 2382 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 118153 3133440 413 18446744073709551615 0\n';
    expect(parseProcStat(real)).toEqual({ pid: 7073, comm: 'cat', state: 'R', start: 118153, exitCode: null });
  });

  it.each([
    ['spaces', 'tmux: server'],
    ['parentheses and spaces', '(a) b)'],
    ['a lone )', ')'],
    ['a fake state and fields', 'x) Z 1 2 3'],
    ['a newline', 'a\nb'],
    ['nothing', ''],
  ])('handles a comm with %s', (_what, comm) => {
    expect(parseProcStat(statLine(42, comm, 'S', 987654))).toEqual({
      pid: 42,
      comm,
      state: 'S',
      start: 987654,
      exitCode: null,
    });
  });

  it('reads the zombie state', () => {
    expect(parseProcStat(statLine(42, 'node', 'Z', 5))?.state).toBe('Z');
  });

  it.each([
    ['empty text', ''],
    ['no parentheses', '42 node S 1 2'],
    ['no pid', '(node) S 1'],
    ['too few fields', '42 (node) S 1 2 3'],
    ['a non-numeric start', statLine(42, 'node', 'S', 0).replace(' 0 3133440', ' x 3133440')],
    ['a two-letter state', statLine(42, 'node', 'SS', 1)],
  ])('returns null for %s', (_what, text) => {
    expect(parseProcStat(text)).toBeNull();
  });
});

describe('ProcProcessProbe on a fixture tree', () => {
  let tmp: TmpDir;
  afterEach(() => tmp.cleanup());

  function tree(files: Record<string, string>, dirs: string[] = []): ProcProcessProbe {
    tmp = makeTmpDir('mcc-proc-');
    for (const d of dirs) mkdirSync(join(tmp.path, d), { recursive: true });
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(tmp.path, path, '..'), { recursive: true });
      writeFileSync(join(tmp.path, path), text);
    }
    return new ProcProcessProbe({ procRoot: tmp.path });
  }

  it('classifies alive, zombie, absent, unreadable, garbage and odd names in one pass', async () => {
    const probe = tree(
      {
        'sys/kernel/random/boot_id': `${BOOT}\n`,
        '100/stat': statLine(100, 'claude', 'S', 6000),
        '101/stat': statLine(101, 'node', 'Z', 6001),
        '102/stat': statLine(102, 'sh', 'X', 6002),
        '104/stat': 'garbage',
        '105/stat': statLine(105, '(a) b)', 'R', 6005),
        '106/stat': statLine(999, 'liar', 'S', 6006),
      },
      ['103x', '107/stat'],
    );
    const obs = await probe.inspect([100, 101, 102, 103, 104, 105, 106, 107, 0, -1, 1.5]);
    expect(obs.get(100)).toEqual({
      kind: 'alive',
      identity: { pid: 100, start: 6000, bootId: BOOT },
      state: 'S',
      comm: 'claude',
    });
    expect(obs.get(101)).toEqual({ kind: 'dead', reason: 'zombie' });
    expect(obs.get(102)).toEqual({ kind: 'dead', reason: 'zombie' });
    expect(obs.get(103)).toEqual({ kind: 'dead', reason: 'absent' });
    expect(obs.get(104)?.kind).toBe('unknown');
    expect(obs.get(105)).toMatchObject({ kind: 'alive', comm: '(a) b)', identity: { pid: 105, start: 6005 } });
    expect(obs.get(106)?.kind).toBe('unknown');
    // A stat that cannot be read (EISDIR here; EACCES or EIO in life) is unknown, never dead.
    expect(obs.get(107)).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('EISDIR') as unknown });
    for (const bad of [0, -1, 1.5]) expect(obs.get(bad)?.kind).toBe('unknown');
  });

  it('tells a reused pid from the recorded process by its start time', async () => {
    const probe = tree({ 'sys/kernel/random/boot_id': BOOT, '100/stat': statLine(100, 'claude', 'S', 7777) });
    const now = (await probe.inspect([100])).get(100);
    expect(now?.kind).toBe('alive');
    expect(sameProcess(now, { pid: 100, start: 6000, bootId: BOOT })).toBe(false);
    expect(sameProcess(now, { pid: 100, start: 7777, bootId: 'other-boot' })).toBe(false);
    expect(sameProcess(now, { pid: 100, start: 7777, bootId: BOOT })).toBe(true);
  });

  it('calls a live process unknown when the boot id cannot be read', async () => {
    const probe = tree({ '100/stat': statLine(100, 'claude', 'S', 1) });
    expect(await probe.bootId()).toBeNull();
    expect((await probe.inspect([100])).get(100)).toMatchObject({ kind: 'unknown', reason: 'boot id unreadable' });
  });
});

describe('ProcProcessProbe on this machine', () => {
  const probe = new ProcProcessProbe();

  it('sees this process alive, with the start time and boot id /proc gives', async () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(await probe.bootId()).toBe(boot);
    const me = (await probe.inspect([process.pid])).get(process.pid);
    expect(me).toMatchObject({ kind: 'alive', identity: { pid: process.pid, start, bootId: boot } });
    expect(createProcessProbe(new FakeRunner())).toBeInstanceOf(ProcProcessProbe);
  });

  it('sees an exited child that was not reaped yet as a zombie, hence dead, with its wait status (field 52)', async () => {
    const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    const pid = child.pid!;
    // Node reaps children on the event loop; spinning here, before any macrotask, keeps the zombie in place.
    const deadline = Date.now() + 5000;
    let state = '';
    while (state !== 'Z' && Date.now() < deadline)
      state = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state ?? '';
    expect(state).toBe('Z');
    expect((await probe.inspect([pid])).get(pid)).toEqual({ kind: 'dead', reason: 'zombie', waitStatus: 3 << 8 });
    await new Promise((r) => child.once('exit', r));
  });

  it('sees a reaped child as absent', async () => {
    const child = spawn('sh', ['-c', 'exit 0'], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    expect((await probe.inspect([child.pid!])).get(child.pid!)).toEqual({ kind: 'dead', reason: 'absent' });
  });
});

// Realistic macOS `ps -o pid=,stat=,lstart=,comm=` output: comm is the executable path, spaces and all.
const MAC_PS = [
  '  412 Ss   Mon Nov 24 09:01:02 2025     /usr/sbin/cfprefsd',
  ' 5123 S+   Tue Nov  4 10:11:12 2025     /Applications/Visual Studio Code.app/Contents/MacOS/Electron',
  '77001 R    Wed Jan  1 00:00:00 2025     (a) b)',
  '77002 Z    Wed Jan  1 00:00:00 2025     <defunct>',
  '77003 Z    <defunct>',
  '',
].join('\n');

describe('parsePsOutput', () => {
  it('reads pids, states, lstart as local epoch seconds, and odd command names', () => {
    const m = parsePsOutput(MAC_PS);
    expect(m).not.toBeNull();
    expect(m!.get(412)).toEqual({
      pid: 412,
      stat: 'Ss',
      start: new Date(2025, 10, 24, 9, 1, 2).getTime() / 1000,
      comm: '/usr/sbin/cfprefsd',
    });
    expect(m!.get(5123)).toMatchObject({
      start: new Date(2025, 10, 4, 10, 11, 12).getTime() / 1000,
      comm: '/Applications/Visual Studio Code.app/Contents/MacOS/Electron',
    });
    expect(m!.get(77001)?.comm).toBe('(a) b)');
    expect(m!.get(77002)?.stat).toBe('Z');
    expect(m!.get(77003)).toEqual({ pid: 77003, stat: 'Z', start: null, comm: '<defunct>' });
  });

  it.each([
    ['a line a command name with a newline leaves behind', `${MAC_PS}second half of a name\n`],
    ['a repeated pid (a forged line)', `${MAC_PS}  412 S    Mon Nov 24 09:01:02 2025     x\n`],
    ['a live process without a start time', '  412 S    -\n'],
    ['an unknown month', '  412 S    Mon Foo 24 09:01:02 2025     x\n'],
  ])('returns null for %s', (_what, out) => {
    expect(parsePsOutput(out)).toBeNull();
  });

  it('parses kern.boottime', () => {
    expect(parseBootTime('{ sec = 1732435262, usec = 281913 } Sun Nov 24 09:01:02 2024\n')).toBe(1732435262);
    expect(parseBootTime('nonsense')).toBeNull();
  });
});

/** The MAC_PS lines of the given pids, as ps prints only what it was asked for. */
function linesOf(...pids: number[]): string {
  return MAC_PS.split('\n')
    .filter((l) => pids.includes(Number(l.trim().split(' ')[0])))
    .map((l) => `${l}\n`)
    .join('');
}

describe('PsProcessProbe with a strict fake runner', () => {
  let runner: FakeRunner;
  afterEach(() => runner.assertDone());
  const UUID = 'B7F3C1D2-1234-4F4E-9ABC-0123456789AB';
  const sysctl = (key: string) => ['-n', key];
  const ps = (pids: string) => ['LC_ALL=C', 'ps', '-o', 'pid=,stat=,lstart=,comm=', '-p', pids];

  it('asks ps ONCE for every pid and sorts alive, zombie and absent; the boot id is cached', async () => {
    runner = new FakeRunner()
      .expect('sysctl', sysctl('kern.bootsessionuuid'), success(`${UUID}\n`))
      .expect('env', ps('412,77002,9999'), success(linesOf(412, 77002)))
      .expect('env', ps('412'), success(MAC_PS));
    const probe = new PsProcessProbe({ runner });
    const obs = await probe.inspect([412, 77002, 9999, 412, 0]);
    expect(obs.get(412)).toEqual({
      kind: 'alive',
      identity: { pid: 412, start: new Date(2025, 10, 24, 9, 1, 2).getTime() / 1000, bootId: UUID },
      state: 'Ss',
      comm: '/usr/sbin/cfprefsd',
    });
    expect(obs.get(77002)).toEqual({ kind: 'dead', reason: 'zombie' });
    expect(obs.get(9999)).toEqual({ kind: 'dead', reason: 'absent' });
    expect(obs.get(0)?.kind).toBe('unknown');
    // A line for a pid not asked for (5123, ...) means the answer is not what we asked: unknown.
    expect((await probe.inspect([412])).get(412)?.kind).toBe('unknown');
  });

  it('falls back to kern.boottime where there is no boot session uuid', async () => {
    runner = new FakeRunner()
      .expect('sysctl', sysctl('kern.bootsessionuuid'), exitWith("sysctl: unknown oid 'kern.bootsessionuuid'\n"))
      .expect(
        'sysctl',
        sysctl('kern.boottime'),
        success('{ sec = 1732435262, usec = 281913 } Sun Nov 24 09:01:02 2024\n'),
      );
    expect(await new PsProcessProbe({ runner }).bootId()).toBe('boottime:1732435262');
  });

  it('reads exit 1 with nothing on stderr as "none of them exists"', async () => {
    runner = new FakeRunner()
      .expect('sysctl', sysctl('kern.bootsessionuuid'), success(UUID))
      .expect('env', ps('5,6'), exitWith('', 1));
    const obs = await new PsProcessProbe({ runner }).inspect([5, 6]);
    expect([...obs.values()]).toEqual([
      { kind: 'dead', reason: 'absent' },
      { kind: 'dead', reason: 'absent' },
    ]);
  });

  it.each([
    ['a ps error', exitWith('ps: illegal option\n', 1)],
    ['a timeout', timedOut()],
    ['garbage', success('what\n')],
  ])('calls every pid unknown on %s, never dead', async (_what, outcome) => {
    runner = new FakeRunner()
      .expect('sysctl', sysctl('kern.bootsessionuuid'), success(UUID))
      .expect('env', ps('5,6'), outcome);
    const obs = await new PsProcessProbe({ runner }).inspect([5, 6]);
    expect([...obs.values()].map((o) => o.kind)).toEqual(['unknown', 'unknown']);
  });

  it('calls a live process unknown when no boot id can be had', async () => {
    runner = new FakeRunner()
      .expect('sysctl', sysctl('kern.bootsessionuuid'), timedOut())
      .expect('sysctl', sysctl('kern.boottime'), exitWith('nope\n'))
      .expect('env', ps('412'), success('  412 Ss   Mon Nov 24 09:01:02 2025     /usr/sbin/cfprefsd\n'));
    expect((await new PsProcessProbe({ runner }).inspect([412])).get(412)).toMatchObject({ kind: 'unknown' });
  });
});

describe('PsProcessProbe with the real ps of this machine', () => {
  it('sees this process alive with its start time', async () => {
    const real = new NodeCommandRunner();
    // Linux has no kern.* sysctl: only the boot id is faked, ps is the real one.
    const runner: CommandRunner = {
      run: (req) =>
        req.file === 'sysctl' ? Promise.resolve({ exitCode: 0, stdout: `${BOOT}\n`, stderr: '' }) : real.run(req),
    };
    const obs = (await new PsProcessProbe({ runner }).inspect([process.pid])).get(process.pid);
    expect(obs?.kind).toBe('alive');
    const startedAt = (Date.now() - process.uptime() * 1000) / 1000;
    expect(obs?.kind === 'alive' && Math.abs(obs.identity.start - startedAt)).toBeLessThan(3);
  });
});
