import { describe, expect, it } from 'vitest';
import { classifyScreen, draftBelowBusy, findMarker } from '../../src/core/screen.js';
import { CONFIG, DEMO, SCREEN } from './builders.js';

// The demo profile from builtinProfiles, compiled by parseConfig: ready = ^demo> ?$, busy = esc to interrupt,
// question = ^QUESTION:.

describe('classifyScreen with the demo profile', () => {
  it('reads the demo agent’s screens', () => {
    expect(classifyScreen(SCREEN.booting, DEMO)).toBe('running');
    expect(classifyScreen(SCREEN.working, DEMO)).toBe('running');
    expect(classifyScreen(SCREEN.idle, DEMO)).toBe('idle');
    expect(classifyScreen(SCREEN.review, DEMO)).toBe('idle');
    expect(classifyScreen(SCREEN.question, DEMO)).toBe('waiting');
  });

  it('busy wins over ready: a working agent is never ready, whatever the last line shows', () => {
    expect(classifyScreen(['⠋ working on prompt 1… (esc to interrupt)', 'demo> '], DEMO)).toBe('running');
  });

  it('ready only on the last non-empty line; trailing blank lines do not count', () => {
    expect(classifyScreen(['output', 'demo> ', '', '   '], DEMO)).toBe('idle');
    expect(classifyScreen(['output', 'demo>'], DEMO)).toBe('idle');
    // Neither busy nor ready (output after the prompt, a typed draft): cannot tell, never guessed as idle.
    expect(classifyScreen(['demo> ', 'compiling…'], DEMO)).toBeNull();
    expect(classifyScreen(['demo> hello'], DEMO)).toBeNull();
  });

  it('a question counts only in the last lines before the prompt', () => {
    expect(classifyScreen(['QUESTION: a or b?', 'demo> '], DEMO)).toBe('waiting');
    expect(classifyScreen(['QUESTION: a or b?', 'x', 'y', 'z', 'demo> '], DEMO)).toBe('idle');
    // Not at line start: not a question.
    expect(classifyScreen(['│ QUESTION: echoed', 'demo> '], DEMO)).toBe('idle');
  });

  it('only the last 15 non-empty lines are read', () => {
    const old = ['⠋ booting… (esc to interrupt)', ...Array.from({ length: 15 }, (_, i) => `line ${i}`), 'demo> '];
    expect(classifyScreen(old, DEMO)).toBe('idle');
  });

  it('an empty screen, or a profile without a busy pattern that sees no prompt, cannot tell (null)', () => {
    expect(classifyScreen([], DEMO)).toBeNull();
    expect(classifyScreen(['', '  '], DEMO)).toBeNull();
    const shell = CONFIG.profiles['shell']!;
    expect(classifyScreen(['make: building'], shell)).toBeNull();
    // The shell profile sets PS1 itself, so its ready rule is exact.
    expect(classifyScreen(['mcc$ '], shell)).toBe('idle');
    for (const notReady of [['user@host:~$ '], ['mcc$ echo "a', '> '], ['<!-- x', '-->'], ['<div>', '</div>']]) {
      expect(classifyScreen(notReady, shell)).toBeNull();
    }
  });
});

describe('findMarker', () => {
  it('finds the newest marker line at line start', () => {
    const m = findMarker(['REVIEW: first', 'noise', 'DONE: second', 'demo> '], [], null);
    expect(m).toMatchObject({ kind: 'DONE', line: 'DONE: second' });
  });

  it('ignores trailing whitespace and markers not at the very start', () => {
    expect(findMarker(['DONE: x   '], [], null)?.line).toBe('DONE: x');
    expect(findMarker([' DONE: x', 'so DONE: x', 'done: x', 'DONE x'], [], null)).toBeNull();
  });

  it('a line equal to a line of sent text is an echo, and an older real marker above it still counts', () => {
    const sent = ['MC-1: t\n\nDONE: when tests pass\r\nREVIEW: never'];
    expect(findMarker(['DONE: when tests pass'], sent, null)).toBeNull();
    expect(findMarker(['REVIEW: real', 'DONE: when tests pass'], sent, null)?.kind).toBe('REVIEW');
  });

  it('fingerprints are stable per line and differ between lines; the acted one returns null', () => {
    const a = findMarker(['REVIEW: a'], [], null)!;
    expect(findMarker(['REVIEW: a'], [], null)!.fingerprint).toBe(a.fingerprint);
    expect(findMarker(['REVIEW: b'], [], null)!.fingerprint).not.toBe(a.fingerprint);
    expect(findMarker(['REVIEW: a'], [], a.fingerprint)).toBeNull();
    // The newest marker is the one acted on: an older one above it does not act again either.
    expect(findMarker(['QUESTION: q', 'REVIEW: a'], [], a.fingerprint)).toBeNull();
  });
});

describe('draftBelowBusy: a pasted draft hiding the prompt under a busy line', () => {
  const rules = { busy: /esc to interrupt/, promptLines: 1, tailLines: 15 };
  const text = 'please also handle case 1';
  it('the draft on the prompt line below a busy line left in scrollback', () => {
    const screen = ['⠋ working on prompt 1… (esc to interrupt)', 'REVIEW: done', `demo> ${text}`];
    expect(draftBelowBusy(screen, text, rules)).toBe(true);
    expect(classifyScreen(screen, DEMO)).toBe('running');
  });
  it('the text echoed above a current busy line is an agent at work on it, not a draft', () => {
    expect(draftBelowBusy([`demo> ${text}`, '⠋ working on prompt 2… (esc to interrupt)'], text, rules)).toBe(false);
  });
  it('no draft of this text on the input lines: false (a draft of other text, or the text far above)', () => {
    expect(draftBelowBusy(['⠋ working (esc to interrupt)', 'demo> something else'], text, rules)).toBe(false);
    expect(draftBelowBusy([`demo> ${text}`, 'out', 'more', 'demo> '], text, rules)).toBe(false);
    expect(draftBelowBusy(['demo> '], '', rules)).toBe(false);
  });
  it("an agent's [Pasted text] placeholder counts as the draft", () => {
    expect(draftBelowBusy(['⠋ (esc to interrupt)', '> [Pasted text #1 +12 lines]'], 'line\n'.repeat(12), rules)).toBe(
      true,
    );
  });
});
