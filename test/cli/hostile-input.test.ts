// Hostile input through the compiled binary: bad keys, session names that are not ours, a shell string where an
// argv belongs, a catastrophic profile pattern. Each is a clear error naming what was wrong, exit 2, and nothing
// changed: no store created, no row or event written, no tmux session started or killed. And the files mcc makes
// are private: the store 0600 in a 0700 directory, the tmux socket in a directory only we may enter.
import { existsSync, lstatSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { socketPath } from '../helpers/tmux-socket.js';
import { useHarness, waitFor } from '../runtime/helpers.js';

const TERMINAL_CONTROLS = /[\x1b\x80-\x9f\r\x07]/;

const BAD_KEYS = [
  'MC-0',
  'MC-1;rm',
  '../x',
  '',
  'MC-01',
  'mc-MC-1',
  'MC-1 ',
  'MC-1\x1b]0;pwned\x07',
  `MC-${'9'.repeat(100_000)}`,
];

/** Every command that takes a KEY, with the arguments after it. */
const KEY_COMMANDS: [string, string[]][] = [
  ['show', []],
  ['move', ['done']],
  ['approve', []],
  ['changes', ['fix it']],
  ['block', ['why']],
  ['pickup', []],
  ['send', ['hello']],
  ['adopt', []],
  ['interrupt', []],
  ['retire', []],
  ['attach', []],
];

function expectRefusedKey(r: { exitCode: number | undefined; stderr: string; stdout: string }, label: string): void {
  expect(r.exitCode, `${label}: ${r.stderr}`).toBe(2);
  expect(r.stderr, label).toContain('is not a ticket key (MC-<number>)');
  expect(r.stderr, label).not.toMatch(TERMINAL_CONTROLS);
  // A 100,000-character key is quoted by its first 40 characters, not echoed whole.
  expect(r.stderr.length, label).toBeLessThan(300);
  expect(r.stdout, label).toBe('');
}

describe('bad keys', () => {
  it('every command refuses every bad key with exit 2 before opening (or creating) the store', async () => {
    const h = useHarness();
    for (const key of BAD_KEYS) {
      const r = await h.mcc(['show', key]);
      expectRefusedKey(r, `show ${JSON.stringify(key.slice(0, 20))}`);
    }
    for (const [cmd, rest] of KEY_COMMANDS) expectRefusedKey(await h.mcc([cmd, 'MC-1;rm', ...rest]), cmd);
    const huge = await h.mcc(['pickup', BAD_KEYS[BAD_KEYS.length - 1]!]);
    expect(huge.stderr).toContain('... (100003 characters)');
    expect(existsSync(h.dbPath), 'a bad key created the store').toBe(false);
    expect(await h.sessions()).toEqual([]);
  });

  it('with a store in place: nothing is written for a bad key, and the good key next to it is untouched', async () => {
    const h = useHarness();
    expect(await h.add('target')).toBe('MC-1');
    const before = h.dump();
    const mtime = statSync(h.dbPath).mtimeMs;
    for (const key of ['MC-1;rm', '']) {
      for (const [cmd, rest] of KEY_COMMANDS) expectRefusedKey(await h.mcc([cmd, key, ...rest]), `${cmd} ${key}`);
    }
    expect(h.dump()).toEqual(before);
    expect(statSync(h.dbPath).mtimeMs).toBe(mtime);
    expect(await h.sessions()).toEqual([]);
  });
});

describe('sessions that are not ours', () => {
  it('adopt and attach refuse a session name; reconcile neither adopts nor kills sessions outside mc-MC-<n>', async () => {
    const h = useHarness();
    expect(await h.add('a ticket with a look-alike session')).toBe('MC-1');
    const foreign = ['evil', 'mc-evil', 'mc-MC-01', 'mc-MC-1x', 'MC-1'];
    for (const s of foreign) await h.tmux(['new-session', '-d', '-s', s, 'sleep', '600']);
    expect(await h.sessions()).toEqual([...foreign].sort());
    const before = h.dump();

    for (const [cmd, s] of [
      ['adopt', 'evil'],
      ['attach', 'evil'],
      ['adopt', 'mc-MC-01'],
      ['attach', 'mc-MC-1'],
      ['retire', 'mc-evil'],
    ] as const)
      expectRefusedKey(await h.mcc([cmd, s]), `${cmd} ${s}`);
    // `MC-1` is the ticket's key, and a session of that bare name is not its session (mc-MC-1): nothing to adopt.
    const adopt = await h.mcc(['adopt', 'MC-1']);
    expect(adopt.exitCode, adopt.stderr).toBe(4);
    expect(adopt.stderr).toContain('adopt: no live runtime for MC-1');
    const rec = await h.mcc(['reconcile']);
    expect(rec.exitCode, rec.stderr).toBe(0);

    expect(await h.sessions()).toEqual([...foreign].sort());
    const after = h.dump();
    expect(after.tickets).toEqual(before.tickets);
    expect(after.runtimes).toEqual([]);
  });
});

describe('bad configs', () => {
  it('a shell string where the argv belongs: exit 2 naming profiles.<name>.command, nothing created', async () => {
    const h = useHarness();
    writeFileSync(h.configPath, JSON.stringify({ profiles: { x: { command: 'claude --yes; rm -rf ~' } } }));
    const r = await h.mcc(['add', 'should not exist', '--profile', 'x']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`config ${h.configPath}: profiles.x.command:`);
    expect(existsSync(h.dbPath)).toBe(false);
  });

  it('a catastrophic ready pattern: add exits 2 and doctor reports it with the profile and field, exit 2', async () => {
    const h = useHarness();
    writeFileSync(h.configPath, JSON.stringify({ profiles: { slow: { command: ['true'], ready: '(a+)+$' } } }));
    const add = await h.mcc(['add', 'should not exist']);
    expect(add.exitCode).toBe(2);
    expect(add.stderr).toContain('profiles.slow.ready: pattern "(a+)+$" refused, it may backtrack');
    const doctor = await h.mcc(['doctor']);
    expect(doctor.exitCode, doctor.stdout).toBe(2);
    expect(doctor.stdout).toMatch(/^FAIL config .*: profiles\.slow\.ready: pattern "\(a\+\)\+\$" refused/m);
    expect(doctor.stdout).not.toMatch(/^ok {3}config/m);
    expect(existsSync(h.dbPath)).toBe(false);
  });
});

describe('file modes', () => {
  let saved: number;
  beforeEach(() => {
    // Modes asserted with umask 000, which the children inherit: nothing passes because a umask hid a bug.
    saved = process.umask(0);
  });
  afterEach(() => {
    process.umask(saved);
  });

  it('store 0600 in a 0700 directory; the tmux socket lives in a directory only we may enter', async () => {
    const h = useHarness();
    expect(await h.add('modes')).toBe('MC-1');
    const pick = await h.mcc(['pickup', 'MC-1']);
    expect(pick.exitCode, pick.stderr).toBe(0);
    await waitFor(
      'the session on our socket',
      () => h.hasSession('mc-MC-1'),
      (has) => has,
    );
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(h.dbPath)).toBe(0o600);
    expect(mode(dirname(h.dbPath))).toBe(0o700);
    const tmuxConf = `${dirname(h.dbPath)}/tmux.conf`;
    if (existsSync(tmuxConf)) expect(mode(tmuxConf)).toBe(0o600);

    const sock = socketPath(h.socket);
    expect(lstatSync(sock).isSocket()).toBe(true);
    const sockDir = dirname(sock);
    const dirStat = lstatSync(sockDir);
    expect(dirStat.isDirectory()).toBe(true);
    expect(dirStat.uid).toBe(process.getuid!());
    expect(mode(sockDir), `${sockDir} is reachable by others`).toBe(0o700);
    expect(statSync(sock).mode & 0o007, `${sock} is world-accessible`).toBe(0);
  });
});
