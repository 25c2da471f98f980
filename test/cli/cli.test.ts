// The CLI contract, through the compiled binary: help and usage errors, the ticket round trip, exit codes,
// config validation before any write, hostile text (escaped in JSON, inert for humans), doctor, file modes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, useHarness, waitFor } from '../runtime/helpers.js';

const COMMANDS = [
  'add',
  'list',
  'show',
  'move',
  'pickup',
  'send',
  'adopt',
  'interrupt',
  'retire',
  'reconcile',
  'attach',
  'worktrees',
  'commands',
  'hosts',
  'host',
  'approve',
  'changes',
  'block',
  'doctor',
  'console',
  'demo-agent',
];
// Control characters a terminal would act on: ESC, the C1 range (U+0080-U+009F), CR.
const TERMINAL_CONTROLS = /[\x1b\x80-\x9f\r]/;

describe('usage', () => {
  it('--help on every command exits 0 with its usage; the top-level help lists exactly these commands', async () => {
    const h = useHarness();
    const top = await h.mcc(['--help']);
    expect(top.exitCode).toBe(0);
    const listed = [...top.stdout.matchAll(/^ {2}mcc (\[?[\w-]+)/gm)].map((m) => m[1]!.replace('[', ''));
    expect([...new Set(listed)].sort()).toEqual([...COMMANDS, '--auto'].sort());
    for (const cmd of COMMANDS) {
      const r = await h.mcc([cmd, '--help']);
      expect(r.exitCode, `${cmd}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`usage: mcc ${cmd === 'console' ? '[console]' : cmd}`);
    }
    const auto = await h.mcc(['--auto', '--help']);
    expect(auto.exitCode).toBe(0);
    expect(auto.stdout).toContain('usage: mcc --auto');
    // -h is --help everywhere; the demo agent's help lists only the flags it takes.
    for (const args of [['-h'], ['add', '-h'], ['--auto', '-h'], ['--readonly', '-h'], ['demo-agent', '-h']]) {
      const r = await h.mcc(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('usage: mcc');
    }
    const demo = await h.mcc(['demo-agent', '-h']);
    expect(demo.stdout).toMatch(/^ {2}-h, --help +show help$/m);
    expect(demo.stdout).not.toContain('--db');
    expect(existsSync(h.dbPath)).toBe(false);
  });

  it('an unknown command exits 2; an unknown flag exits 2 naming it; a missing argument exits 2', async () => {
    const h = useHarness();
    const cmd = await h.mcc(['frobnicate']);
    expect(cmd.exitCode).toBe(2);
    expect(cmd.stderr).toContain('frobnicate');
    for (const args of [
      ['list', '--bogus'],
      ['pickup', 'MC-1', '--no-such-flag=1'],
      ['--auto', '--once', '--turbo'],
    ]) {
      const r = await h.mcc(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(args[args.length - 1]!.replace(/=.*/, ''));
    }
    // A value that looks like an option is a forgotten value: the ticket is not added with the body "--json".
    const swallowed = await h.mcc(['add', 'T', '--body', '--json']);
    expect(swallowed.exitCode).toBe(2);
    expect(swallowed.stderr).toMatch(/^mcc: add: --body needs a value/);
    const missing = await h.mcc(['move', 'MC-1']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('STATE');
    expect(existsSync(h.dbPath)).toBe(false);
    // The console and the daemon accept the same --interval range, and say which flag was wrong.
    for (const args of [
      ['--auto', '--once', '--interval', '0'],
      ['console', '--interval', '7200'],
    ]) {
      const r = await h.mcc(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('--interval must be in (0, 3600]');
    }
  });
});

describe('tickets', () => {
  it('add, list, show and move round-trip; a missing ticket is exit 4, a bad key or state exit 2', async () => {
    const h = useHarness();
    expect(await h.add('first ticket', ['--body', 'line one\nline two'])).toBe('MC-1');
    expect(await h.add('second ticket')).toBe('MC-2');

    const list = await h.mcc(['list']);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/^MC-1 +todo .*first ticket$/m);
    expect(list.stdout).toMatch(/^MC-2 +todo .*second ticket$/m);
    const json = JSON.parse((await h.mcc(['list', '--json'])).stdout) as { ticket: { key: string; status: string } }[];
    expect(json.map((o) => [o.ticket.key, o.ticket.status])).toEqual([
      ['MC-1', 'todo'],
      ['MC-2', 'todo'],
    ]);

    const show = await h.mcc(['show', 'MC-1']);
    expect(show.exitCode).toBe(0);
    expect(show.stdout).toContain('title:    first ticket');
    expect(show.stdout).toContain('  line two');

    const move = await h.mcc(['move', 'MC-1', 'in_review']);
    expect(move.exitCode).toBe(0);
    expect(move.stdout).toContain('MC-1 -> in_review');
    expect((await h.mcc(['list', '--state', 'in_review'])).stdout).not.toContain('MC-2');
    const detail = JSON.parse((await h.mcc(['show', 'MC-1', '--json'])).stdout) as {
      ticket: { status: string; version: number };
    };
    expect(detail.ticket).toMatchObject({ status: 'in_review', version: 2 });
    expect(h.ticket('MC-1').status).toBe('in_review');

    expect((await h.mcc(['show', 'MC-99'])).exitCode).toBe(4);
    expect((await h.mcc(['move', 'MC-99', 'done'])).exitCode).toBe(4);
    expect((await h.mcc(['show', 'not-a-key'])).exitCode).toBe(2);
    const badState = await h.mcc(['move', 'MC-2', 'finished']);
    expect(badState.exitCode).toBe(2);
    expect(badState.stderr).toContain('finished');
    expect(h.ticket('MC-2')).toMatchObject({ status: 'todo', version: 1 });
  });

  it('add refuses an empty title and an unknown profile with exit 2 naming the problem, writing nothing', async () => {
    const h = useHarness();
    const empty = await h.mcc(['add', '  ', '--body', 'b']);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('add: the title is empty');
    const profile = await h.mcc(['add', 'fine', '--profile', 'nope']);
    expect(profile.exitCode).toBe(2);
    expect(profile.stderr).toContain(
      'add: no profile named "nope" (have: demo, shell, claude, codex, gemini, opencode, aider)',
    );
    expect(h.dump()).toMatchObject({ tickets: [], events: 0 });
    expect(await h.add('  kept  ', ['--profile', 'demo'])).toBe('MC-1');
    expect(h.ticket('MC-1')).toMatchObject({ title: 'kept', profile: 'demo' });
  });

  it('a bad config exits 2 naming the offending key, before anything is written', async () => {
    const h = useHarness();
    const good = readFileSync(h.configPath, 'utf8');
    const bad: [string, string][] = [
      ['{"ttlSeconds": -1}', 'ttlSeconds'],
      ['{"retryLimit": "three"}', 'retryLimit'],
      ['{"surprise": true}', 'surprise'],
      ['{"profiles": {"demo": {"command": ["x"], "ready": "(unclosed"}}}', 'profiles.demo.ready'],
      ['{"profiles": {"demo": {"command": ["x"], "submit": ["Enter; kill-server"]}}}', 'profiles.demo.submit'],
      ['{"defaultProfile": "nope"}', 'defaultProfile'],
      ['{ not json', 'not valid JSON'],
    ];
    for (const [text, key] of bad) {
      writeFileSync(h.configPath, text);
      const r = await h.mcc(['add', 'should not exist']);
      expect(r.exitCode, text).toBe(2);
      expect(r.stderr, text).toContain(key);
      expect(existsSync(h.dbPath), `store created despite ${text}`).toBe(false);
    }
    writeFileSync(h.configPath, good);
    expect(await h.add('kept')).toBe('MC-1');
    writeFileSync(h.configPath, bad[0]![0]);
    expect((await h.mcc(['add', 'not added'])).exitCode).toBe(2);
    writeFileSync(h.configPath, good);
    expect(h.dump().tickets.map((t) => t.title)).toEqual(['kept']);
  });
});

describe('hostile text', () => {
  const title =
    'evil\x1b]52;c;aGVsbG8=\x07 clip \x1b[2J\x1b[31mred\x1b[0m c1:\u009b31m cr:\roverwrite \x1b]0;pwned\x07 end';
  const body = 'line1\r\nline2 \x1b[1mbold\x1b[0m nel:\u0085 bidi:\u202e';

  it('JSON output escapes it but keeps it intact; human output contains no ESC, C1 or CR', async () => {
    const h = useHarness();
    const key = await h.add(title, ['--body', body]);
    expect(h.ticket(key).title).toBe(title);

    const listJson = await h.mcc(['list', '--json']);
    const showJson = await h.mcc(['show', key, '--json']);
    for (const r of [listJson, showJson]) {
      expect(r.exitCode).toBe(0);
      expect(r.stdout).not.toMatch(TERMINAL_CONTROLS);
    }
    expect((JSON.parse(listJson.stdout) as { ticket: { title: string } }[])[0]?.ticket.title).toBe(title);
    const detail = JSON.parse(showJson.stdout) as { ticket: { title: string; body: string } };
    expect(detail.ticket.title).toBe(title);
    expect(detail.ticket.body).toBe(body);

    for (const args of [['list'], ['show', key], ['add', title]]) {
      const r = await h.mcc(args);
      expect(r.exitCode).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(TERMINAL_CONTROLS);
      expect(r.stderr).not.toMatch(TERMINAL_CONTROLS);
    }
    const human = (await h.mcc(['show', key])).stdout;
    // Inert, not lost: the visible words are all still there.
    for (const word of ['evil', 'clip', 'red', 'overwrite', 'end', 'line2', 'bold']) expect(human).toContain(word);
  });

  it('a reader that goes away (mcc list | head) ends the command quietly, without a stack trace', async () => {
    const h = useHarness();
    for (let i = 0; i < 3; i++) await h.add(`ticket ${i}`);
    const child = spawn(process.execPath, [BIN, 'list'], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/Unhandled 'error' event|EPIPE|\n\s+at /);
    expect([0, 141]).toContain(code);
  });
});

describe('doctor and the store on disk', () => {
  it('prints one line per check; exits 1 when tmux is missing', async () => {
    const h = useHarness();
    const ok = await h.mcc(['doctor']);
    expect(ok.exitCode, ok.stdout).toBe(0);
    const okLines = ok.stdout.split('\n').filter(Boolean);
    for (const l of okLines) expect(l).toMatch(/^ok {3}\S/);
    expect(okLines.some((l) => l.startsWith('ok   tmux present'))).toBe(true);

    const broken = await h.mcc(['doctor'], { env: { MCC_TMUX_BIN: '/nonexistent' } });
    expect(broken.exitCode).toBe(1);
    const lines = broken.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(okLines.length);
    for (const l of lines) expect(l).toMatch(/^(ok {3}|FAIL )\S/);
    expect(lines[0]).toMatch(/^FAIL tmux not runnable \(\/nonexistent\)/);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toHaveLength(2);
  });

  it('creates the store 0600 (and -wal/-shm 0600) in a 0700 directory', async () => {
    const h = useHarness();
    await h.add('modes');
    // Hold a connection open so the -wal and -shm files exist while we look.
    const daemon = h.spawn(['--auto', '--interval', '30']);
    try {
      await waitFor(
        'the daemon to take its lease',
        () => h.leases().length,
        (n) => n === 1,
      );
      const mode = (p: string) => statSync(p).mode & 0o777;
      expect(mode(h.dbPath)).toBe(0o600);
      expect(mode(dirname(h.dbPath))).toBe(0o700);
      for (const side of ['-wal', '-shm'])
        if (existsSync(h.dbPath + side)) expect(mode(h.dbPath + side), side).toBe(0o600);
      expect(existsSync(`${h.dbPath}-wal`)).toBe(true);
    } finally {
      daemon.kill('SIGTERM');
      await daemon;
    }
  });
});
