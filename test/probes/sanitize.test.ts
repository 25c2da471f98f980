// The one sanitizer in core (src/core/sanitize.ts): hostile text renders harmlessly and pastes inertly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inertForPaste, sanitizeForTerminal, sanitizeLine } from '../../src/core/sanitize.js';

const ESC = '\x1b';
const BAD_DISPLAY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const BAD_LINE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const BAD_PASTE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

describe('sanitizeForTerminal', () => {
  it.each([
    ['OSC 52 clipboard write (BEL)', `a${ESC}]52;c;cm0gLXJmIH4=\x07b`, 'ab'],
    ['OSC 52 clipboard write (ST)', `a${ESC}]52;c;cm0gLXJmIH4=${ESC}\\b`, 'ab'],
    ['OSC 0 title set', `${ESC}]0;owned\x07title`, 'title'],
    ['an unterminated OSC swallows to the end', `keep${ESC}]0;never ends`, 'keep'],
    ['a title report request (CSI 21 t)', `x${ESC}[21ty`, 'xy'],
    ['clear screen', `${ESC}[2J${ESC}[Hhello`, 'hello'],
    ['colors', `${ESC}[1;31mred${ESC}[0m`, 'red'],
    ['private CSI', `${ESC}[?1049hx${ESC}[?2004l`, 'x'],
    ['bracketed paste end', `${ESC}[201~after`, 'after'],
    ['DCS', `a${ESC}Pq#0;2;0;0;0${ESC}\\b`, 'ab'],
    ['APC', `a${ESC}_Gf=100;AAAA${ESC}\\b`, 'ab'],
    ['PM and SOS', `a${ESC}^pm${ESC}\\b${ESC}Xsos${ESC}\\c`, 'abc'],
    ['two-character escapes (RIS, DECSC, charset)', `${ESC}c${ESC}7${ESC}(Bz`, 'z'],
    ['8-bit CSI', 'a\u009b2Jb', 'ab'],
    ['8-bit OSC ended by 8-bit ST', 'a\u009d52;c;eA==\u009cb', 'ab'],
    ['an ESC inside an OSC aborts it and starts over', `a${ESC}]0;t${ESC}[31mb`, 'ab'],
    ['a lone ESC at the end', `x${ESC}`, 'x^['],
    ['ESC before a non-ASCII character', `x${ESC}é`, 'x^[é'],
    ['bare CR (overwrite attack)', 'safe\rEVIL', 'safe^MEVIL'],
    ['CRLF as a line end', 'a\r\nb', 'a\nb'],
    ['backspace and BEL', 'ab\b\bX\x07', 'ab^H^HX^G'],
    ['NUL and DEL', 'a\0b\x7f', 'a^@b^?'],
    ['other C1 controls', 'a\u0085b\u0084', 'aM-^EbM-^D'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a b c'],
    ['bidi overrides and isolates', 'x\u202eevil\u202c\u2066y\u2069', 'x\ufffdevil\ufffd\ufffdy\ufffd'],
    ['LF and tab kept', 'a\n\tb', 'a\n\tb'],
  ])('handles %s', (_what, input, want) => {
    expect(sanitizeForTerminal(input)).toBe(want);
  });

  it('passes ordinary text, Unicode and emoji through unchanged', () => {
    const text = 'Fix the login page: naïve café, 日本語, emoji 🚀, math ∑ and `code` $(x) #(y);\n\tindented';
    expect(sanitizeForTerminal(text)).toBe(text);
  });
});

describe('sanitizeLine', () => {
  it('makes one cell: LF and tab become spaces, CR stays visible', () => {
    expect(sanitizeLine('title\nsecond\tline\r\nthird\rX')).toBe('title second line third^MX');
    expect(sanitizeLine(`${ESC}]52;c;AAAA\x07ok`)).toBe('ok');
  });
});

describe('inertForPaste', () => {
  it('keeps every character visible: ESC[201~ cannot end a bracketed paste', () => {
    expect(inertForPaste(`text ${ESC}[201~ more`)).toBe('text ^[[201~ more');
    expect(inertForPaste(`${ESC}]52;c;AAAA\x07`)).toBe('^[]52;c;AAAA^G');
  });

  it('keeps LF and tab, makes CRLF LF, and shows bare CR, C-c, C-d and DEL', () => {
    expect(inertForPaste('a\r\nb\tc\rd\x03\x04\x7f')).toBe('a\nb\tc^Md^C^D^?');
  });

  it('shows C1 controls and leaves tmux and shell syntax alone (it is text, delivered via a buffer)', () => {
    expect(inertForPaste('\u009b201~')).toBe('M-^[201~');
    const text = 'foo;\n#(touch /tmp/x) $(id) `id` Enter C-c\n';
    expect(inertForPaste(text)).toBe(text);
  });
});

describe('properties', () => {
  // Strings rich in the characters that matter, mixed with arbitrary Unicode.
  const nasty = fc.constantFrom(
    ESC,
    '\x07',
    '\r',
    '\n',
    '\t',
    '\0',
    '\x7f',
    '\u009b',
    '\u009c',
    '\u009d',
    '\u0085',
    '[',
    ']',
    '\\',
    'P',
    '_',
    '^',
    'X',
    ';',
    '2',
    'J',
    '\u2028',
    '\u202e',
    '\u2066',
    'é',
    '🚀',
  );
  const hostile = fc
    .array(fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 40 })
    .map((a) => a.join(''));
  const printable = fc
    .string({ unit: 'grapheme', maxLength: 60 })
    .map((s) => s.replace(new RegExp(BAD_LINE.source, 'g'), ''));

  it('display output never holds a control (except LF and tab), ESC, DEL, C1, separator or bidi override', () => {
    fc.assert(
      fc.property(hostile, (s) => !BAD_DISPLAY.test(sanitizeForTerminal(s))),
      { numRuns: 2000 },
    );
  });

  it('line output holds no control at all, not even LF or tab', () => {
    fc.assert(
      fc.property(hostile, (s) => !BAD_LINE.test(sanitizeLine(s))),
      { numRuns: 2000 },
    );
  });

  it('paste output holds no control but LF and tab', () => {
    fc.assert(
      fc.property(hostile, (s) => !BAD_PASTE.test(inertForPaste(s))),
      { numRuns: 2000 },
    );
  });

  it('printable text passes through every function unchanged', () => {
    fc.assert(
      fc.property(printable, (s) => sanitizeForTerminal(s) === s && sanitizeLine(s) === s && inertForPaste(s) === s),
      { numRuns: 1000 },
    );
  });

  it('all three are idempotent', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const d = sanitizeForTerminal(s);
        const l = sanitizeLine(s);
        const p = inertForPaste(s);
        return sanitizeForTerminal(d) === d && sanitizeLine(l) === l && inertForPaste(p) === p;
      }),
      { numRuns: 1000 },
    );
  });

  it('paste loses nothing printable: removing the caret forms leaves the printable characters in order', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const keep = (t: string) => t.replace(/\r\n/g, '\n').replace(new RegExp(BAD_PASTE.source, 'g'), '');
        return isSubsequence(keep(s), inertForPaste(s));
      }),
      { numRuns: 1000 },
    );
  });
});

function isSubsequence(needle: string, hay: string): boolean {
  let i = 0;
  for (let j = 0; j < hay.length && i < needle.length; j++) if (hay[j] === needle[i]) i++;
  return i === needle.length;
}
