// The built demo agent in a real terminal: a private tmux server per test, screen polled with
// capture-pane until a predicate holds (never fixed sleeps).
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_MAIN, ROOT } from '../global-setup.js';
import { DemoPane, count, isReady, lastLine } from './tmux-harness.js';

const FAST = ['--boot-ms', '800', '--work-ms', '500'];
const TEST_TIMEOUT = 30_000;

let pane: DemoPane | undefined;
function startPane(flags: string[]): DemoPane {
  pane = new DemoPane();
  pane.start(flags);
  return pane;
}

afterEach(() => {
  pane?.dispose();
  pane = undefined;
});

/** Types a one-line prompt and presses Enter once the agent is ready. */
async function sendPrompt(p: DemoPane, text: string): Promise<void> {
  await p.waitFor('the ready prompt', isReady);
  p.type(text);
  await p.waitFor('the typed text', (s) => lastLine(s) === `demo> ${text}`);
  p.keys('Enter');
}

describe('demo agent in tmux', () => {
  it(
    'shows one busy line while booting, ignores (and says so) input sent too early, then shows the prompt',
    async () => {
      // A longer boot leaves room to type during it even on a loaded machine.
      const p = startPane(['--boot-ms', '2500', '--work-ms', '500']);
      const booting = await p.waitFor('the boot busy line', (s) => /booting… \(esc to interrupt\)/.test(s));
      expect(booting).toMatch(/^demo-agent \(mcc demo\) pid \d+$/m);
      const frame = lastLine(booting).charAt(0);
      // Redrawn in place: the spinner moves, but there is only ever one busy line.
      const redrawn = await p.waitFor('the spinner to move', (s) => lastLine(s).charAt(0) !== frame);
      expect(lastLine(redrawn)).toMatch(/^. booting… \(esc to interrupt\)$/);
      expect(count(redrawn, 'booting…')).toBe(1);

      p.type('too early');
      p.keys('Enter');
      const ignored = await p.waitFor('the ignored-input notice', (s) => s.includes('(busy: input ignored)'));
      expect(lastLine(ignored)).toMatch(/booting… \(esc to interrupt\)$/);

      const ready = await p.waitFor('the ready prompt', isReady);
      expect(lastLine(ready)).toMatch(/^demo> ?$/);
      expect(ready).not.toContain('booting');
      expect(ready).not.toContain('too early');
      expect(ready).not.toContain('received');
    },
    TEST_TIMEOUT,
  );

  it(
    'takes a bracketed multi-line paste plus Enter as one prompt, echoed once with │ prefixes',
    async () => {
      const p = startPane([...FAST, '--outcome', 'review']);
      await p.waitFor('the ready prompt', isReady);
      const prompt = 'Fix the login bug.\nDONE: not a marker\nREVIEW: not one either\nQUESTION: nor this\nthanks';
      p.paste(`${prompt}\n`);
      p.keys('Enter');
      const screen = await p.waitFor(
        'the review marker and the prompt again',
        (s) => s.includes('REVIEW: demo work for prompt 1 is ready for review') && isReady(s),
      );
      expect(screen).toContain(`[demo] prompt 1 received (5 lines, ${prompt.length} chars)`);
      expect(screen).toContain(
        '│ Fix the login bug.\n│ DONE: not a marker\n│ REVIEW: not one either\n│ QUESTION: nor this\n│ thanks\n',
      );
      expect(count(screen, 'DONE: not a marker')).toBe(1);
      expect(count(screen, '│ DONE: not a marker')).toBe(1);
      expect(screen).not.toMatch(/^DONE:/m);
      expect(screen).not.toMatch(/^QUESTION:/m);
      expect(screen.match(/^REVIEW:.*$/gm)).toEqual(['REVIEW: demo work for prompt 1 is ready for review']);
      expect(screen).not.toContain('(busy: input ignored)');
      expect(screen).not.toContain('prompt 2');
    },
    TEST_TIMEOUT,
  );

  it(
    'outcome done prints DONE and shows the prompt again',
    async () => {
      const p = startPane([...FAST, '--outcome', 'done']);
      await sendPrompt(p, 'ship it');
      const screen = await p.waitFor('DONE and the prompt', (s) => /^DONE: /m.test(s) && isReady(s));
      expect(screen).toMatch(/^\[demo\] prompt 1 received \(1 lines, 7 chars\)\n│ ship it\n/m);
      expect(screen).toMatch(/^DONE: demo work for prompt 1 complete$/m);
      expect(screen).not.toContain('esc to interrupt');
    },
    TEST_TIMEOUT,
  );

  it(
    'outcome question prints QUESTION, shows the prompt again, and the answer ends with REVIEW',
    async () => {
      const p = startPane([...FAST, '--outcome', 'question']);
      await sendPrompt(p, 'pick a database');
      await p.waitFor('QUESTION and the prompt', (s) => /^QUESTION: /m.test(s) && isReady(s));
      await sendPrompt(p, 'use sqlite');
      const screen = await p.waitFor('REVIEW for prompt 2', (s) => /^REVIEW: /m.test(s) && isReady(s));
      expect(screen.match(/^(QUESTION|REVIEW|DONE):.*$/gm)).toEqual([
        'QUESTION: demo needs a human decision for prompt 1',
        'REVIEW: demo work for prompt 2 is ready for review',
      ]);
      expect(screen).toContain('│ use sqlite');
    },
    TEST_TIMEOUT,
  );

  it(
    'outcome crash prints the fatal line and the pane dies with exit status 3',
    async () => {
      const p = startPane([...FAST, '--outcome', 'crash']);
      await sendPrompt(p, 'break things');
      expect(await p.waitForExit()).toBe(3);
      const screen = p.capture();
      expect(screen).toMatch(/^\[demo\] fatal: simulated crash$/m);
      expect(screen).not.toMatch(/^(REVIEW|DONE|QUESTION):/m);
    },
    TEST_TIMEOUT,
  );

  it(
    'Escape and Ctrl-C during work interrupt it; other keys during work are ignored',
    async () => {
      // Long work so the keys surely land while it runs.
      const p = startPane(['--boot-ms', '800', '--work-ms', '20000']);
      await sendPrompt(p, 'long task');
      await p.waitFor('the work busy line', (s) => lastLine(s).endsWith('working on prompt 1… (esc to interrupt)'));
      p.type('hurry');
      p.keys('Up');
      await p.waitFor('the ignored-input notice', (s) => s.includes('(busy: input ignored)'));
      p.keys('Escape');
      const first = await p.waitFor('the interruption', (s) => s.includes('[demo] interrupted prompt 1') && isReady(s));
      expect(first).not.toContain('hurry');
      expect(first).not.toContain('esc to interrupt');

      await sendPrompt(p, 'another');
      await p.waitFor('the work busy line', (s) => lastLine(s).endsWith('working on prompt 2… (esc to interrupt)'));
      p.keys('C-c');
      const second = await p.waitFor(
        'the second interruption',
        (s) => s.includes('[demo] interrupted prompt 2') && isReady(s),
      );
      expect(second).not.toMatch(/^(REVIEW|DONE|QUESTION):/m);
      expect(p.paneState()).toBe('0'); // alive
    },
    TEST_TIMEOUT,
  );

  it(
    'edits the prompt: Backspace deletes, arrows are ignored, Escape and Ctrl-C clear, Ctrl-D exits 0',
    async () => {
      const p = startPane(FAST);
      await p.waitFor('the ready prompt', isReady);
      p.type('abcd');
      p.keys('BSpace', 'Left', 'Right');
      await p.waitFor('the edited text', (s) => lastLine(s) === 'demo> abc');
      p.keys('Escape');
      await p.waitFor('the cleared prompt', isReady);
      p.type('xyz');
      await p.waitFor('the typed text', (s) => lastLine(s) === 'demo> xyz');
      p.keys('C-c');
      await p.waitFor('the cleared prompt', isReady);
      p.keys('Enter'); // an empty prompt is not submitted
      p.keys('C-d');
      expect(await p.waitForExit()).toBe(0);
      expect(p.capture()).not.toContain('received');
    },
    TEST_TIMEOUT,
  );

  it(
    'exits on SIGTERM with status 143',
    async () => {
      const p = startPane(FAST);
      await p.waitFor('the ready prompt', isReady);
      process.kill(p.panePid(), 'SIGTERM');
      expect(await p.waitForExit()).toBe(143);
    },
    TEST_TIMEOUT,
  );

  it(
    'does not hang when stdin is not a terminal: each line is a prompt, end of input exits 0',
    async () => {
      const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = execFile(
          process.execPath,
          [DEMO_MAIN, '--boot-ms', '50', '--work-ms', '50', '--outcome', 'done'],
          { cwd: ROOT, timeout: 10_000 },
          (err, out) =>
            err && err.code === undefined
              ? reject(new Error(err.message))
              : resolve({ code: child.exitCode, stdout: out }),
        );
        child.stdin?.end('first\nsecond\n');
      });
      expect(code).toBe(0);
      expect(stdout).toMatch(/^DONE: demo work for prompt 1 complete$/m);
      expect(stdout).toMatch(/^REVIEW: demo work for prompt 2 is ready for review$/m);
    },
    TEST_TIMEOUT,
  );
});
