// Hostile text against every display path at once (issue 11, hostile input): the sanitizer, the console's cell
// and wrap arithmetic, the detail view's lines and the CLI's human output. Generated from the attacks a title,
// a body or an agent's pane can carry: OSC 52 clipboard writes, terminal queries (title report, DA, DECRQSS),
// clear screen, C1 controls (8-bit CSI and OSC), bare CR, bidi overrides, invalid UTF-8, megabytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cell as cliCell, line as cliLine, MAX_LINE_CHARS } from '../../src/cli/output.js';
import {
  inertForPaste,
  sanitizeForTerminal,
  sanitizeHead,
  sanitizeLine,
  sanitizeLineHead,
} from '../../src/core/sanitize.js';
import type { TicketDetail } from '../../src/core/store.port.js';
import type { McEvent, Ticket } from '../../src/core/types.js';
import { detailLines, MAX_PARAGRAPH_CHARS } from '../../src/ui/detail-lines.js';
import { cell, cellWidth, fit, MAX_LINE_COLUMNS, truncate, wrap } from '../../src/ui/text.js';

const ESC = '\x1b';
/** What a terminal could act on in display text: C0 but LF and tab, DEL, C1, separators, bidi controls. */
const BAD_DISPLAY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** The same for one line: LF and tab too. */
const BAD_LINE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** What could end a bracketed paste or start any sequence in pasted text. */
const BAD_PASTE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Whole attacks, as they appear in the wild. */
const ATTACKS = [
  `${ESC}]52;c;cm0gLXJmIH4=\x07`, // OSC 52 clipboard write, BEL-terminated
  `${ESC}]52;c;cm0gLXJmIH4=${ESC}\\`, // the same, ST-terminated
  `${ESC}]52;c;?\x07`, // OSC 52 clipboard read request
  `${ESC}[21t`, // report the window title (echoes attacker text back as input)
  `${ESC}]0;rm -rf ~\x07`, // set the title, to be reported back
  `${ESC}]2;title${ESC}\\`,
  `${ESC}[c`, // primary device attributes request
  `${ESC}[>c`, // secondary DA
  `${ESC}P$qm${ESC}\\`, // DECRQSS
  `${ESC}P+q544e${ESC}\\`, // XTGETTCAP
  `${ESC}[6n`, // cursor position report
  `${ESC}[2J${ESC}[H`, // clear and home
  `${ESC}[?1049h`, // alternate screen
  `${ESC}[?2004l`, // bracketed paste off
  `${ESC}[201~`, // bracketed paste end
  `${ESC}[1;31m`,
  `${ESC}c`, // full reset
  '\u009b2J', // 8-bit CSI
  '\u009d52;c;eA==\u009c', // 8-bit OSC, 8-bit ST
  '\u009d0;t\x07',
  '\u0090$qm\u009c', // 8-bit DCS
  '\u0085', // NEL
  '\r', // bare CR: overwrite the line
  '\r\n',
  '\b\b\b',
  '\x7f',
  '\0',
  '\u202e', // RLO (Trojan Source)
  '\u202a\u202b\u202c\u202d',
  '\u2066\u2067\u2068\u2069', // isolates
  '\u2028\u2029',
  '\ud800', // lone surrogates (never valid UTF-16)
  '\udfff',
  '\ufffd', // what invalid UTF-8 decodes to
  '日本語', // wide
  '🚀',
  'e\u0301', // combining mark
  '\u200b', // zero width
  '\n',
  '\t',
  ' ',
  'word',
];

/** Bytes that are not UTF-8, decoded the way argv, a body file and a pane capture are. */
const invalidUtf8 = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from([0xff, ...b, 0xc3]).toString('utf8'));

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ATTACKS) },
  { weight: 1, arbitrary: fc.constantFrom(ESC, '[', ']', 'P', '\\', ';', '\x07', '\u009b', '\u009c', '\u009d') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: invalidUtf8 },
);
const hostile = fc.array(piece, { maxLength: 30 }).map((a) => a.join(''));
const width = fc.integer({ min: 1, max: 200 });
const count = (s: string, ch: string) => s.split(ch).length - 1;

describe('the sanitizer on generated attacks', () => {
  it('display text holds no ESC, no C0 but LF and tab, no DEL, C1, separator or bidi control', () => {
    fc.assert(
      fc.property(hostile, (s) => !BAD_DISPLAY.test(sanitizeForTerminal(s))),
      { numRuns: 3000 },
    );
  });

  it('one-line text holds no control at all', () => {
    fc.assert(
      fc.property(hostile, (s) => !BAD_LINE.test(sanitizeLine(s))),
      { numRuns: 3000 },
    );
  });

  it('never adds a line, and a line never grows past the caret forms of its input', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = sanitizeForTerminal(s);
        const inLines = s.split('\n');
        const outLines = out.split('\n');
        if (count(out, '\n') > count(s, '\n')) return false;
        // A caret form (`M-^[` for U+009B) is at most 4 columns for one code unit of input.
        return outLines.every((l) => cellWidth(l) <= 4 * Math.max(...inLines.map((x) => x.length)));
      }),
      { numRuns: 2000 },
    );
  });

  it('sanitizeHead is a prefix of the whole, at most max long, and says when it left something out', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 80 }), (s, max) => {
        const whole = sanitizeForTerminal(s);
        const head = sanitizeHead(s, max);
        const line = sanitizeLineHead(s, max);
        return (
          head.text.length <= max &&
          whole.startsWith(head.text) &&
          (head.cut || head.text === whole) &&
          (!head.cut || whole.length >= head.text.length) &&
          line.text === head.text.replace(/[\n\t]/g, ' ') &&
          !BAD_LINE.test(line.text)
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('pasted text holds no control but LF and tab, so no ESC[201~ (7-bit or 8-bit) can end the paste', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const p = inertForPaste(s);
        return !BAD_PASTE.test(p) && !p.includes(`${ESC}[201~`) && !p.includes('\u009b201~');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('console cells and wrapping on generated attacks', () => {
  it('a cell is safe and never wider than its column', () => {
    fc.assert(
      fc.property(hostile, width, (s, w) => {
        const c = cell(s, w);
        const f = fit(c, w);
        return !BAD_LINE.test(c) && cellWidth(c) <= w && cellWidth(f) === w;
      }),
      { numRuns: 3000 },
    );
  });

  it('a cell shows the whole sanitized line when it fits, and marks a cut with …', () => {
    fc.assert(
      fc.property(hostile, width, (s, w) => {
        const whole = sanitizeLine(s);
        const c = cell(s, w);
        return cellWidth(whole) <= w ? c === whole : c.endsWith('…') && whole.startsWith(c.slice(0, -1));
      }),
      { numRuns: 3000 },
    );
  });

  it('wrapped lines are never wider than the width', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 60 }), (s, w) =>
        wrap(sanitizeLine(s), w).every((l) => cellWidth(l) <= w && !BAD_LINE.test(l)),
      ),
      { numRuns: 2000 },
    );
  });

  it('every detail-view line of an all-hostile ticket is safe, and the body wraps inside the width', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, fc.integer({ min: 20, max: 160 }), (title, body, pane, w) => {
        const lines = detailLines('MC-1', null, hostileDetail(title, body, pane), 1_000_000, w);
        return lines.every((l) => !BAD_LINE.test(l.text) && cellWidth(truncate(l.text, w)) <= w);
      }),
      { numRuns: 500 },
    );
  });
});

describe('CLI human output on generated attacks', () => {
  it('a table cell is exactly its width in columns and safe', () => {
    fc.assert(
      fc.property(hostile, width, (s, w) => {
        const c = cliCell(s, w);
        return !BAD_LINE.test(c) && cellWidth(c) === w;
      }),
      { numRuns: 3000 },
    );
  });

  it('a printed line is safe: LF kept, nothing else a terminal would act on', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const printed = capture((out) => cliLine(out, s));
        return !BAD_DISPLAY.test(printed) && printed.endsWith('\n');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a megabyte of text', () => {
  const MiB = 1 << 20;
  const unit = `ab${ESC}]52;c;QUFB\x07 ${ESC}[2J\u009b31m\r\u202e日本 \ufffd`;
  const cases: [string, string][] = [
    ['mixed attacks', unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB)],
    ['one line of letters', 'x'.repeat(MiB)],
    ['words', 'word '.repeat(MiB / 5)],
    ['ESC after ESC', ESC.repeat(MiB)],
    ['bare CRs', '\r'.repeat(MiB)],
    ['an OSC that never ends, then text', `${ESC}]52;c;${'A'.repeat(MiB)}`],
    ['an OSC payload, then the title', `${ESC}]52;c;${'A'.repeat(MiB)}\x07the real title`],
    ['invalid UTF-8', Buffer.alloc(MiB, 0xff).toString('utf8')],
  ];

  it.each(cases)('%s: a cell and a CLI cell are cut to the column, safe', (_what, text) => {
    for (const w of [60, Number.MAX_SAFE_INTEGER]) {
      const c = cell(text, w);
      expect(cellWidth(c)).toBeLessThanOrEqual(Math.min(w, MAX_LINE_COLUMNS));
      expect(c).not.toMatch(BAD_LINE);
    }
    expect(cellWidth(cliCell(text, 60))).toBe(60);
    expect(cell(`${ESC}]52;c;${'A'.repeat(MiB)}\x07the real title`, 60)).toBe('the real title');
  });

  it.each(cases)('%s: the detail view wraps a head of the body and says where it was cut', (_what, text) => {
    const lines = detailLines('MC-1', null, hostileDetail(text, text, text), 1_000_000, 100);
    for (const l of lines) expect(l.text).not.toMatch(BAD_LINE);
    const shown = lines.reduce((n, l) => n + l.text.length, 0);
    // Heads only: never the megabyte (title, pane line, event fields are one cell; the body a 64 KiB head).
    expect(shown).toBeLessThan(8 * MAX_PARAGRAPH_CHARS);
    // Cut where it is long: the blocked reason and the summary (a body of CRs alone trims to "(no body)").
    if (sanitizeForTerminal(text).length > MAX_PARAGRAPH_CHARS)
      expect(lines.filter((l) => /… cut here: the text is \d+ characters long/.test(l.text)).length).toBeGreaterThan(1);
  });

  it.each(cases)('%s: a CLI line is cut and says how long the text was', (_what, text) => {
    const printed = capture((out) => cliLine(out, `title:    ${text}`));
    expect(printed).not.toMatch(BAD_DISPLAY);
    expect(printed.length).toBeLessThan(MAX_LINE_CHARS + 100);
    if (sanitizeForTerminal(text).length > MAX_LINE_CHARS)
      expect(printed).toContain(`(cut: ${text.length + 'title:    '.length} characters; --json has them all)`);
  });
});

function capture(print: (out: { stdout: (s: string) => void; stderr: (s: string) => void }) => void): string {
  let text = '';
  print({ stdout: (s) => (text += s), stderr: (s) => (text += s) });
  return text;
}

/** A detail whose every untrusted field holds the given text. */
function hostileDetail(title: string, body: string, pane: string) {
  const ticket = {
    key: 'MC-1',
    title,
    body,
    status: 'blocked',
    profile: title,
    attempts: 1,
    reviewChecks: null,
    humanInputRequired: true,
    blockedReason: body,
  } as unknown as Ticket;
  const event = {
    id: 1,
    at: 999_000,
    ticketKey: 'MC-1',
    runtimeId: null,
    actor: title,
    kind: title,
    status: 'warning',
    summary: body,
    rootCause: pane,
    safeRetry: body,
    stopCondition: pane,
    humanInputRequired: true,
    nextActions: [title, pane],
    artifacts: [pane, title],
  } as unknown as McEvent;
  const detail = { ticket, events: [event], runtimes: [], messages: [] } as unknown as TicketDetail;
  return {
    detail,
    pane: { ok: true as const, lines: [pane, title], status: null, explain: [body] },
    error: null,
  };
}
