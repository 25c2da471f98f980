// Hostile ticket text through the compiled CLI (issue 11): invalid UTF-8 in argv, in a body file and on stdin,
// every terminal attack in titles and bodies, and a megabyte of it. Human output (`add`, `list`, `show`) is
// inert and cut to a sensible size; `--json` holds the stored string exactly.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, useHarness, type Harness } from '../runtime/helpers.js';

const ESC = '\x1b';
/** Anything a terminal acts on in human output: C0 but LF, DEL, C1 (8-bit CSI, OSC...), bidi controls. */
const TERMINAL_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const ATTACKS = [
  `osc52 ${ESC}]52;c;cm0gLXJmIH4=\x07`,
  `osc52st ${ESC}]52;c;cm0gLXJmIH4=${ESC}\\`,
  `titlereport ${ESC}]0;rm -rf ~\x07${ESC}[21t`,
  `da ${ESC}[c ${ESC}[>c`,
  `decrqss ${ESC}P$qm${ESC}\\`,
  `clear ${ESC}[2J${ESC}[H`,
  'c1csi \u009b2J c1osc \u009d52;c;eA==\u009c nel \u0085',
  'cr safe\rEVIL',
  'bidi \u202eevil\u202c \u2066iso\u2069',
  'pasteend \x1b[201~',
].join(' | ');
const WORDS = ['osc52', 'osc52st', 'titlereport', 'da', 'decrqss', 'clear', 'c1csi', 'c1osc', 'nel', 'cr', 'bidi'];

interface Row {
  ticket: { key: string; title: string; body: string };
}

/** `mcc ARGS` with raw bytes for some arguments: the shell's printf makes them, so argv holds exactly those bytes. */
async function mccBytes(h: Harness, args: (string | Buffer)[], input?: Buffer) {
  const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
  const shellArgs = args.map((a, i) => (typeof a === 'string' ? `"$${i + 1}"` : `"$(printf '${octal(a)}')"`));
  const r = await execa(
    '/bin/sh',
    ['-c', `exec "$0" "$BIN" ${shellArgs.join(' ')}`, process.execPath, ...args.map(String)],
    {
      env: { ...h.env, BIN },
      extendEnv: false,
      reject: false,
      cwd: h.dir,
      timeout: 60_000,
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    },
  );
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function listJson(h: Harness): Promise<Row[]> {
  const r = await h.mcc(['list', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).not.toMatch(TERMINAL_CONTROLS);
  return JSON.parse(r.stdout) as Row[];
}

async function showJson(h: Harness, key: string): Promise<Row> {
  const r = await h.mcc(['show', key, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).not.toMatch(TERMINAL_CONTROLS);
  return JSON.parse(r.stdout) as Row;
}

/** Human `list` and `show` of a key: exit 0, nothing a terminal acts on; returns both outputs. */
async function human(h: Harness, key: string): Promise<{ list: string; show: string }> {
  const list = await h.mcc(['list']);
  const show = await h.mcc(['show', key]);
  for (const r of [list, show]) {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(r.stderr).toBe('');
  }
  return { list: list.stdout, show: show.stdout };
}

describe('hostile ticket text through the CLI', { timeout: 120_000 }, () => {
  it('invalid UTF-8 in argv: stored as decoded (U+FFFD), JSON holds the stored string, human output is inert', async () => {
    const h = useHarness();
    // 0xff, 0xfe and a lone continuation byte are invalid UTF-8; C2 9B is U+009B (an 8-bit CSI) encoded validly.
    const title = Buffer.concat([
      Buffer.from('bad '),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from(' csi8 '),
      Buffer.from([0xc2, 0x9b]),
      Buffer.from('2J end '),
      Buffer.from([0xe2, 0x82]), // truncated 3-byte sequence
    ]);
    const added = await mccBytes(h, ['add', title, '--body', 'plain']);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).not.toMatch(TERMINAL_CONTROLS);
    const key = added.stdout.trim();
    const stored = h.ticket(key).title;
    expect(stored).toContain('\ufffd');
    expect(stored).toContain('\u009b2J');
    expect((await listJson(h))[0]?.ticket.title).toBe(stored);
    expect((await showJson(h, key)).ticket.title).toBe(stored);
    const { list, show } = await human(h, key);
    expect(list).toContain('bad \ufffd');
    expect(show).toContain('csi8  end'); // U+009B 2 J is a whole CSI, removed
  });

  it('every attack in a title and in a body (from a file with invalid UTF-8, and from stdin)', async () => {
    const h = useHarness();
    const bodyBytes = Buffer.concat([
      Buffer.from(`line one\r\n${ATTACKS}\nbad bytes: `),
      Buffer.from([0xc0, 0xaf, 0xff]),
    ]);
    const bodyFile = join(h.dir, 'body.bin');
    writeFileSync(bodyFile, bodyBytes);
    const fromFile = await h.mcc(['add', ATTACKS, '--body-file', bodyFile]);
    const fromStdin = await mccBytes(h, ['add', `stdin ${ATTACKS}`, '--body-file', '-'], bodyBytes);
    for (const r of [fromFile, fromStdin]) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(TERMINAL_CONTROLS);
    }
    const keys = [fromFile.stdout.trim(), fromStdin.stdout.trim()];
    const decoded = bodyBytes.toString('utf8');
    const rows = await listJson(h);
    for (const [i, key] of keys.entries()) {
      const stored = h.ticket(key);
      expect(stored.body).toBe(decoded);
      expect(stored.title).toBe(i === 0 ? ATTACKS : `stdin ${ATTACKS}`);
      // Byte for byte: what JSON gives back is what the store holds.
      const row = rows.find((r) => r.ticket.key === key);
      expect(row?.ticket.title).toBe(stored.title);
      expect(row?.ticket.body).toBe(stored.body);
      const shown = await showJson(h, key);
      expect([shown.ticket.title, shown.ticket.body]).toEqual([stored.title, stored.body]);

      const { list, show } = await human(h, key);
      expect(list).toContain(key);
      // Inert, not lost: every visible word survives, controls are shown in caret notation.
      for (const w of WORDS) expect(show).toContain(w);
      expect(show).toContain('safe^MEVIL');
      expect(show).toContain('\ufffdevil');
      expect(show).toContain('  line one\n'); // CRLF is a line end, not ^M
      expect(show).not.toContain('rm -rf');
    }
  });

  it('a megabyte: add and list complete, human output is cut and says so, JSON holds all of it', async () => {
    const h = useHarness();
    const MiB = 1 << 20;
    const unit = `word ${ESC}]52;c;QUFB\x07${ESC}[2J\u009b31m\r\u202e日本 `;
    const huge = unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
    // argv takes at most 128 KiB per argument (Linux MAX_ARG_STRLEN): the body comes from stdin, the title is
    // 100 KiB through argv, then a megabyte written into the store directly (an import, another tool).
    const bigTitle = huge.slice(0, 100 * 1024);
    const r = await h.mcc(['add', bigTitle, '--body-file', '-'], { input: huge });
    expect(r.exitCode, r.stderr).toBe(0);
    const key = r.stdout.trim();
    expect(h.ticket(key).title).toBe(bigTitle);
    h.sql('UPDATE tickets SET title = ? WHERE key = ?', huge, key);
    await h.add('a small neighbour');

    const { list, show } = await human(h, key);
    const row = list.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
    expect(row.length).toBeLessThan(200);
    expect(row.endsWith('…')).toBe(true);
    expect(list).toContain('a small neighbour');
    const showLines = show.split('\n');
    expect(Math.max(...showLines.map((l) => l.length))).toBeLessThan(4200);
    expect(show).toContain(`(cut: ${MiB + 'title:    '.length} characters; --json has them all)`);
    expect(show.length).toBeLessThan(2 * MiB);

    const stored = h.ticket(key);
    expect(stored.title).toBe(huge);
    expect(stored.body).toBe(huge);
    const listed = (await listJson(h)).find((x) => x.ticket.key === key);
    expect(listed?.ticket.title).toBe(huge);
    expect(listed?.ticket.body).toBe(huge);
    const shown = await showJson(h, key);
    expect(shown.ticket.title).toBe(huge);
    expect(shown.ticket.body).toBe(huge);
  });
});
