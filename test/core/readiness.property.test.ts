import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../src/core/config.js';
import { acceptsInput, readScreen, type ScreenRules } from '../../src/core/screen.js';
import { DEMO } from './builders.js';

// The readiness contract (src/core/screen.ts) as properties over generated screens: the lines that decide are
// the real demo profile's prompt, busy, question and draft lines, mixed with arbitrary output.

const seed = process.env['MODEL_SEED'] ?? (process.env['CI'] ? '20261125' : undefined);
const params = { numRuns: 300, ...(seed ? { seed: Number(seed) } : {}) };

const SIGN_IN = 'Sign in to continue: select a login method';
/** The demo profile with a blocked pattern, as a profile for a sign-in dialog would have it. */
const RULES: Profile = { ...DEMO, blocked: /^Sign in to continue/ };
/** An input box with a footer under it: the prompt may be any of the last 4 non-empty lines. */
const BOXED: ScreenRules = { ...RULES, ready: /^demo> ?$/, promptLines: 4 };

const PROMPT = 'demo> ';
const BUSY = '⠋ working on prompt 1… (esc to interrupt)';
const QUESTION = 'QUESTION: which database?';

/** Output that matches no pattern of the profile (checked, so a generated line can never sneak one in). */
const output = fc
  .oneof(
    fc.constantFrom('[demo] prompt 1 received', 'DONE: all green', 'REVIEW: see the diff', '  indented', '❯ 1. Yes'),
    fc.string({ maxLength: 30 }),
  )
  .filter((l) => ![RULES.ready, RULES.busy, RULES.question, RULES.blocked].some((re) => re?.test(l)));
const blank = fc.constantFrom('', ' ', '   ', '\t');
/** Any line a screen may show, blocked dialogs excepted. */
const line = fc.oneof(
  { weight: 4, arbitrary: output },
  { weight: 1, arbitrary: fc.constantFrom(PROMPT, 'demo>', BUSY, QUESTION, 'demo> fix it') },
  { weight: 1, arbitrary: blank },
);
const lines = fc.array(line, { maxLength: 30 });
const quiet = fc.oneof(fc.constant(null), fc.nat({ max: 10 * RULES.quietMs }));
const nonEmpty = (ls: readonly string[]) => ls.filter((l) => l.trim() !== '');

describe('readScreen properties (the readiness contract)', () => {
  it('blank lines and trailing spaces change nothing', () => {
    fc.assert(
      fc.property(lines, fc.array(blank, { minLength: 1, maxLength: 5 }), quiet, (ls, blanks, q) => {
        const padded = [...ls.map((l) => `${l}  `), ...blanks];
        expect(readScreen(padded, RULES, q)).toEqual(readScreen(ls, RULES, q));
      }),
      params,
    );
  });

  it('a blocked line anywhere in the tail window reads blocked, whatever else shows and however still', () => {
    fc.assert(
      fc.property(lines, lines, quiet, (above, below, q) => {
        fc.pre(nonEmpty(below).length < RULES.tailLines);
        expect(readScreen([...above, SIGN_IN, ...below], RULES, q).status).toBe('blocked');
      }),
      params,
    );
  });

  it('a busy line below the prompt reads running whatever quietForMs', () => {
    fc.assert(
      fc.property(lines, fc.array(output, { maxLength: 2 }), quiet, (above, between, q) => {
        expect(readScreen([...above, PROMPT, ...between, BUSY], BOXED, q).status).toBe('running');
      }),
      params,
    );
  });

  it('once the screen is still for quietMs, a busy line above the prompt never blocks delivery', () => {
    fc.assert(
      fc.property(lines, lines, fc.nat({ max: 60_000 }), (above, between, extra) => {
        const reading = readScreen([...above, BUSY, ...between, PROMPT], RULES, RULES.quietMs + extra);
        expect(acceptsInput(reading.status)).toBe(true);
        for (const m of reading.matches) if (m.pattern === 'busy') expect(m.stale).toBe(true);
      }),
      params,
    );
  });

  it('before quietMs (or not knowing), a busy line above the prompt is current: running', () => {
    fc.assert(
      fc.property(
        fc.array(output, { maxLength: 2 }),
        fc.oneof(fc.constant(null), fc.nat({ max: RULES.quietMs - 1 })),
        (between, q) => {
          const screen = [BUSY, ...between, PROMPT];
          expect(readScreen(screen, RULES, q).status).toBe('running');
        },
      ),
      params,
    );
  });

  it('a typed draft after the prompt text never reads idle or waiting (demo profile)', () => {
    const draft = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '');
    fc.assert(
      fc.property(lines, draft, quiet, (above, text, q) => {
        const status = readScreen([...above, `${PROMPT}${text}`], RULES, q).status;
        expect(acceptsInput(status)).toBe(false);
      }),
      params,
    );
  });

  it('the reading never depends on lines above the tail window', () => {
    const tail = fc.array(fc.oneof(line, fc.constant(SIGN_IN)), { minLength: RULES.tailLines, maxLength: 25 });
    fc.assert(
      fc.property(fc.array(fc.oneof(line, fc.constant(SIGN_IN)), { maxLength: 20 }), tail, quiet, (old, t, q) => {
        fc.pre(nonEmpty(t).length >= RULES.tailLines);
        expect(readScreen([...old, ...t], RULES, q)).toEqual(readScreen(t, RULES, q));
      }),
      params,
    );
  });
});
