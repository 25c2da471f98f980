// The demo agent's layouts that reproduce real agents' screens, in a real terminal: a private tmux server per
// test, the screen polled with capture-pane until a predicate holds, the input and prompt logs read back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inertForPaste } from '../../src/core/sanitize.js';
import { DEMO_LAYOUT_PATTERNS, type DemoLayout } from '../../src/demo-agent/demo-agent.js';
import { DemoPane, count, isReady, readJsonLines, waitUntil } from './tmux-harness.js';

const TEST_TIMEOUT = 40_000;
const WIDTH = 120; // the harness's pane
const BOX_READY = new RegExp(DEMO_LAYOUT_PATTERNS.box.ready);
const BUSY = new RegExp(DEMO_LAYOUT_PATTERNS.box.busy);
const BOX_SPINNER_LINE = /^[·✢✳✶✻✽] (Booting|Working)… \((\d+)s · esc to interrupt\)$/;
const BOX_TOP = `╭${'─'.repeat(WIDTH - 2)}╮`;
const BOX_BOTTOM = `╰${'─'.repeat(WIDTH - 2)}╯`;
const SHORTCUTS = '  ? for shortcuts';
const BYPASS = '  ⏵⏵ bypass permissions on (shift+tab to cycle)';

let pane: DemoPane | undefined;
let dir: string | undefined;

afterEach(() => {
  pane?.dispose();
  pane = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts the agent with an input log and a prompt log in a fresh temp dir. */
function start(flags: string[]): { p: DemoPane; inputLog: string; promptLog: string } {
  dir = mkdtempSync(join(tmpdir(), 'mcc-demo-layouts-'));
  const inputLog = join(dir, 'input.jsonl');
  const promptLog = join(dir, 'prompts.jsonl');
  pane = new DemoPane();
  pane.start([...flags, '--input-log', inputLog, '--prompt-log', promptLog]);
  return { p: pane, inputLog, promptLog };
}

/** Non-empty lines without trailing blanks, as a screen reader sees them. */
const lines = (screen: string): string[] =>
  screen
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l !== '');

const spinnerLine = (screen: string): string | undefined => lines(screen).find((l) => BOX_SPINNER_LINE.test(l));
const seconds = (screen: string): number => Number(BOX_SPINNER_LINE.exec(spinnerLine(screen) ?? '')?.[2] ?? NaN);
/** The box layout shows an empty input box in its last 4 lines and nothing busy on screen. */
const boxIdle = (screen: string): boolean =>
  lines(screen)
    .slice(-4)
    .some((l) => BOX_READY.test(l)) && !BUSY.test(screen);

const readyFor = (layout: DemoLayout): ((screen: string) => boolean) => (layout === 'box' ? boxIdle : isReady);

describe('demo agent layouts in tmux', () => {
  it(
    'box: an input box with its footer under it is always drawn; an animated spinner sits above it while booting',
    async () => {
      const { p, inputLog, promptLog } = start(['--layout', 'box', '--footer', 'both', '--boot-ms', '4000']);
      const booting = await p.waitFor('the boot spinner', (s) => spinnerLine(s)?.includes('Booting…') === true);
      const tail = lines(booting).slice(-6);
      expect(tail[0]).toMatch(BOX_SPINNER_LINE);
      expect(tail.slice(1)).toEqual([BOX_TOP, expect.stringMatching(BOX_READY), BOX_BOTTOM, SHORTCUTS, BYPASS]);
      // The trap this layout reproduces: the empty input line reads as ready while the agent boots.
      expect(BOX_READY.test(tail[2]!)).toBe(true);

      const moved = await p.waitFor('the spinner to move', (s) => spinnerLine(s) !== spinnerLine(booting));
      expect(moved).not.toBe(booting);
      expect(lines(moved).slice(-5)).toEqual(tail.slice(1));
      expect(count(moved, 'Booting…')).toBe(1); // redrawn in place

      p.type('too early');
      await p.waitFor('the ignored-input notice', (s) => s.includes('(busy: input ignored)'));

      const ready = await p.waitFor('the idle box', boxIdle);
      expect(spinnerLine(ready)).toBeUndefined();
      expect(ready).not.toContain('too early');
      expect(lines(ready).slice(-5)).toEqual([
        BOX_TOP,
        expect.stringMatching(BOX_READY),
        BOX_BOTTOM,
        SHORTCUTS,
        BYPASS,
      ]);

      p.type('hello');
      const typed = await p.waitFor('the text in the box', (s) => /^│ > hello +│$/m.test(s));
      expect(lines(typed).slice(-4)[0]).toBe(`│ > hello${' '.repeat(WIDTH - 11)} │`);
      expect(p.tmux(['display-message', '-p', '-t', 'demo', '#{cursor_x}']).trim()).toBe('9'); // after "│ > hello"
      p.keys('Enter');
      const done = await p.waitFor('the review and the idle box', (s) => s.includes('REVIEW: ') && boxIdle(s));
      expect(done).toMatch(/^\[demo\] prompt 1 received \(1 lines, 5 chars\)\n│ hello\n/m);

      expect(readJsonLines(promptLog).map(({ prompt, text }) => ({ prompt, text }))).toEqual([
        { prompt: 1, text: 'hello' },
      ]);
      const early = readJsonLines(inputLog);
      expect(early.map((e) => `${String(e['phase'])}/${String(e['effect'])}`)).toEqual(
        early.map(() => 'booting/ignored'),
      );
      expect(early.map((e) => e['bytes']).join('')).toBe('too early');
    },
    TEST_TIMEOUT,
  );

  it(
    'box: while working the spinner glyph moves and the seconds count up above an empty box; Escape interrupts',
    async () => {
      const { p, inputLog, promptLog } = start(['--layout', 'box', '--boot-ms', '300', '--work-ms', '30000']);
      await p.waitFor('the idle box', boxIdle);
      p.type('long task');
      await p.waitFor('the text in the box', (s) => /^│ > long task +│$/m.test(s));
      p.keys('Enter');
      const first = await p.waitFor('the work spinner', (s) => spinnerLine(s)?.includes('Working…') === true);
      const second = await p.waitFor('another spinner frame', (s) => spinnerLine(s) !== spinnerLine(first));
      expect(second).not.toBe(first);
      const later = await p.waitFor('the seconds to count up', (s) => seconds(s) > seconds(first));
      expect(seconds(later)).toBeGreaterThan(seconds(first));

      // Below the spinner the box is empty and reads as ready: only the spinner, 5 lines up, says busy.
      const tail = lines(later);
      expect(tail.slice(-5)).toEqual([
        spinnerLine(later),
        BOX_TOP,
        expect.stringMatching(BOX_READY),
        BOX_BOTTOM,
        SHORTCUTS,
      ]);
      expect(tail.slice(-4).some((l) => BUSY.test(l))).toBe(false);
      expect(readFileSync(inputLog, 'utf8')).toBe('');

      p.keys('Escape');
      const interrupted = await p.waitFor('the interruption', (s) => s.includes('[demo] interrupted prompt 1'));
      await p.waitFor('the idle box', boxIdle);
      expect(interrupted).not.toMatch(/^REVIEW:/m);
      expect(readJsonLines(inputLog).map(({ phase, effect, bytes }) => ({ phase, effect, bytes }))).toEqual([
        { phase: 'working', effect: 'interrupt', bytes: '\x1b' },
      ]);
      expect(readJsonLines(promptLog).map((e) => e['text'])).toEqual(['long task']);
    },
    TEST_TIMEOUT,
  );

  it(
    'scrollback: the boot busy line stays above the prompt, and after work "✻ Worked … (esc to interrupt)" does',
    async () => {
      const { p, inputLog, promptLog } = start(['--layout', 'scrollback', '--boot-ms', '1000', '--work-ms', '500']);
      const booting = await p.waitFor('the boot line', (s) => lines(s).at(-1) === '⠋ booting… (esc to interrupt)');
      expect(lines(booting)).toEqual([
        expect.stringMatching(/^demo-agent \(mcc demo\) pid \d+$/),
        '⠋ booting… (esc to interrupt)',
      ]);

      const ready = await p.waitFor('the prompt', isReady);
      expect(lines(ready).slice(-2)).toEqual(['⠋ booting… (esc to interrupt)', 'demo>']);

      p.type('ship it');
      await p.waitFor('the typed text', (s) => lines(s).at(-1) === 'demo> ship it');
      p.keys('Enter');
      const done = await p.waitFor('REVIEW and the prompt', (s) => s.includes('REVIEW: ') && isReady(s));
      expect(lines(done).slice(-5)).toEqual([
        '[demo] prompt 1 received (1 lines, 7 chars)',
        '│ ship it',
        'REVIEW: demo work for prompt 1 is ready for review',
        expect.stringMatching(/^✻ Worked on prompt 1 for \d+\.\ds \(esc to interrupt\)$/),
        'demo>',
      ]);
      expect(count(done, '⠋ booting… (esc to interrupt)')).toBe(1); // still in scrollback
      expect(done).not.toMatch(/working on prompt 1/); // the animated line was replaced, not left

      expect(readFileSync(inputLog, 'utf8')).toBe('');
      expect(readJsonLines(promptLog).map((e) => e['text'])).toEqual(['ship it']);
    },
    TEST_TIMEOUT,
  );

  it(
    'signin: the menu ignores a pasted prompt, Enter and "2" Enter, logs each, and only Ctrl-O leaves it',
    async () => {
      const { p, inputLog, promptLog } = start(['--signin', '--layout', 'box', '--boot-ms', '500']);
      const menu = await p.waitFor('the sign-in menu', (s) => s.includes('Press Enter to continue'));
      expect(lines(menu)).toEqual(
        expect.arrayContaining(['> 1. Sign in with ChatGPT', '  2. Provide your own API key']),
      );
      expect(lines(menu).at(-1)).toBe('  Press Enter to continue');

      const prompt = 'Fix the login bug.\nDONE: not a marker';
      p.paste(prompt);
      p.keys('Enter');
      p.type('2');
      p.keys('Enter');
      const sent = `\x1b[200~${prompt}\x1b[201~\r2\r`;
      const entries = await waitUntil('the four inputs in the input log', () => {
        const e = readJsonLines(inputLog);
        return e.map((x) => x['bytes']).join('') === sent ? e : undefined;
      });
      expect(entries.every((e) => e['phase'] === 'signin' && e['effect'] === 'ignored')).toBe(true);
      expect(p.capture()).toBe(menu); // not a byte moved
      expect(readFileSync(promptLog, 'utf8')).toBe('');

      p.keys('C-o');
      const ready = await p.waitFor('the idle box after booting', boxIdle);
      expect(ready).not.toContain('Sign in with ChatGPT');
      expect(ready).toMatch(/^demo-agent \(mcc demo\) pid \d+$/m);
      expect(readJsonLines(inputLog).at(-1)).toMatchObject({ phase: 'signin', effect: 'continue', bytes: '\x0f' });

      p.paste(prompt);
      p.keys('Enter');
      await p.waitFor('the review', (s) => s.includes('REVIEW: demo work for prompt 1') && boxIdle(s));
      expect(readJsonLines(promptLog).map((e) => e['text'])).toEqual([prompt]);
    },
    TEST_TIMEOUT,
  );

  it.each(['plain', 'scrollback', 'box'] as const)(
    '%s: an 8 KiB multi-line prompt full of shell syntax and escapes is accepted exactly once, intact',
    async (layout) => {
      const { p, inputLog, promptLog } = start(['--layout', layout, '--boot-ms', '300', '--work-ms', '300']);
      const line = (i: number): string =>
        `${i}\tfix "quoted" 'single'; echo $(whoami) \`date\` #(tmux) \x1b[31mred\x1b[0m \x1b]52;c;Zm9v\x07 a\\b`;
      const raw = `${Array.from({ length: 110 }, (_, i) => line(i)).join('\n')}\nlast line ends with;`;
      const text = inertForPaste(raw); // what mcc pastes: every escape shown inert as ^[
      expect(text.length).toBeGreaterThanOrEqual(8192);
      expect(text).toContain('^[[31mred^[[0m');
      expect(text).not.toContain('\x1b');

      await p.waitFor('the agent to be ready', readyFor(layout));
      p.paste(text);
      p.keys('Enter');
      const done = await p.waitFor(
        'the review',
        (s) => s.includes('REVIEW: demo work for prompt 1') && readyFor(layout)(s),
      );
      expect(done).toContain('│ last line ends with;');

      const prompts = readJsonLines(promptLog);
      expect(prompts).toHaveLength(1);
      expect(prompts[0]).toMatchObject({ prompt: 1, lines: 111, chars: text.length, text });
      expect(readFileSync(inputLog, 'utf8')).toBe('');
    },
    TEST_TIMEOUT,
  );
});
