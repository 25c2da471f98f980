// A pane full of hostile output (issue 11): megabytes of escape sequences and terminal queries, invalid UTF-8,
// raw C1 bytes and a megabyte-long line without a newline, `cat` into a real tmux pane. Passes run while it
// floods and after: each completes, sees the runtime live, and nothing it records or prints carries a control.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { reconcileUntil, useHarness, waitFor } from './helpers.js';

const ESC = '\x1b';
/** Anything a terminal acts on in human output: C0 but LF, DEL, C1, bidi controls. */
const TERMINAL_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const LONG = 120_000;

/** A few megabytes of what a broken or hostile program can print. */
function floodBytes(): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, 'utf8'));
  const bytes = (b: number[]) => parts.push(Buffer.from(b));
  for (let i = 0; i < 8000; i++) {
    text(`${ESC}]52;c;${Buffer.from(`clip ${i}`).toString('base64')}\x07`); // clipboard write
    text(`${ESC}]0;title ${i}\x07${ESC}[21t${ESC}[c${ESC}[>c${ESC}[6n`); // title set + report, DA, CPR
    text(`${ESC}P$qm${ESC}\\${ESC}P+q544e${ESC}\\`); // DECRQSS, XTGETTCAP
    text(`${ESC}kwindow ${i}${ESC}\\`); // screen-style window title
    text(`${ESC}Ptmux;${ESC}${ESC}]52;c;cHduZWQ=\x07${ESC}\\`); // tmux passthrough
    text(`${ESC}[2J${ESC}[H${ESC}[?1049h alt ${i} ${ESC}[?1049l${ESC}[1;31mred${ESC}[0m\r`);
    bytes([0x9b, 0x32, 0x4a, 0x9d, 0x30, 0x3b, 0x78, 0x07, 0x85, 0xff, 0xfe, 0xc0, 0xaf, 0xe2, 0x82]); // C1 bytes, invalid UTF-8
    text(` \u202eevil\u202c line ${i}\n`);
  }
  text(`${ESC}]52;c;${'QUFB'.repeat(64 * 1024)}\x07`); // a 256 KiB clipboard payload
  text('L'.repeat(1 << 20)); // a megabyte without a newline
  text(`\nflood ends in an OSC that never ends ${ESC}]0;never terminated\n`); // tmux swallows what follows
  return Buffer.concat(parts);
}

describe('a pane full of hostile output', { timeout: 300_000 }, () => {
  it('cannot stall a pass: reconcile completes while and after it floods, and reports the runtime', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        customProfiles: (dir) => ({
          // cat, then a marker file, then quiet; `exec sleep` keeps the pane pid the runtime's pid.
          flood: {
            command: ['/bin/sh', '-c', 'cat "$0"; : > "$0.done"; exec sleep 600', join(dir, 'flood.bin')],
            ready: '^never-ready-marker$',
            readyTimeoutSeconds: 1,
          },
        }),
      },
      { onTestFinished },
    );
    const flood = floodBytes();
    expect(flood.length).toBeGreaterThan(2 * 1024 * 1024);
    writeFileSync(join(h.dir, 'flood.bin'), flood);
    const key = await h.add('flooded', ['--profile', 'flood']);
    const session = `mc-${key}`;
    await h.must(['pickup', key]);

    // Passes while the flood may still be running (no timing is asserted: each one must just come back).
    for (let i = 0; i < 3; i++) {
      const r = await h.mcc(['reconcile'], { timeoutMs: LONG });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(TERMINAL_CONTROLS);
    }
    await waitFor('the flood to end', () => existsSync(join(h.dir, 'flood.bin.done')), Boolean, LONG, 200);

    // The NOT-READY warning quotes the flooded screen as evidence: it must be recorded, and recorded inert.
    await reconcileUntil(
      h,
      'the NOT-READY warning with the flooded screen as evidence',
      () => h.events(key).some((e) => e.kind === 'message.not_ready'),
      LONG,
    );
    const json = await h.mcc(['reconcile', '--json'], { timeoutMs: LONG });
    expect(json.exitCode, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { observation: string };
    expect(report.observation).toBe('ok');

    // The runtime is live and reported as such.
    const [rt] = h.openRuntimes(key);
    expect(rt?.status).toMatch(/^(running|idle|waiting)$/);
    expect(await h.sessions()).toEqual([session]);
    expect((await h.pane(session))?.pid).toBe(rt?.pid);
    expect(h.ticket(key).status).toBe('in_progress');
    const list = await h.must(['list']);
    expect(list.stdout.split('\n').find((l) => l.startsWith(`${key} `))).toMatch(
      /in_progress\s+(running|idle|waiting)/,
    );

    // What the store recorded from the screen, and what show prints, carries no control.
    for (const e of h.events(key)) {
      for (const field of [e.summary, e.root_cause ?? '', ...(JSON.parse(e.artifacts) as string[])])
        expect(field, e.kind).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    }
    const show = await h.mcc(['show', key], { timeoutMs: LONG });
    expect(show.exitCode, show.stderr).toBe(0);
    expect(show.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(show.stdout).toContain('message.not_ready');
    const showJson = await h.mcc(['show', key, '--json'], { timeoutMs: LONG });
    expect(showJson.exitCode, showJson.stderr).toBe(0);
    const detail = JSON.parse(showJson.stdout) as { screen?: { lines: string[] } };
    // The screen as read: the tail of the megabyte line, bounded by the capture (not the megabyte).
    const screen = detail.screen?.lines ?? [];
    expect(screen.some((l) => l.includes('L'.repeat(1000)))).toBe(true);
    expect(screen.join('\n').length).toBeLessThan(1 << 20);
  });
});
