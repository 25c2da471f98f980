// Untrusted text (titles, bodies, pane captures, tmux errors) on its way to a terminal or into an agent.
//
// Display (sanitizeForTerminal, sanitizeLine): escape sequences are removed whole (CSI, OSC including OSC 52
// clipboard writes and title reports, DCS, SOS, PM, APC; terminated by BEL or ST, or unterminated up to the end),
// in their 7-bit (ESC x) and 8-bit (C1) forms. Every control character that is left is shown in caret notation,
// as `cat -v` does: ESC -> `^[`, CR -> `^M`, DEL -> `^?`, C1 U+009B -> `M-^[`. Visible, inert, and never able
// to move the cursor. CRLF counts as a line end. Line and paragraph separators become spaces; bidi overrides
// and isolates (Trojan Source) become U+FFFD.
//
// Length: sanitizeHead and sanitizeLineHead stop after the first `max` code units they produce, so showing the
// head of a megabyte of text costs no more than showing a short one (the console redraws every snapshot).
//
// Paste (inertForPaste): nothing is removed, so nothing is lost silently: every control except LF and tab is
// caret-mapped, so `ESC[201~` (the end of a bracketed paste) arrives as the text `^[[201~`.

const ESC = 0x1b;
const BEL = 0x07;
const C1_ST = 0x9c;
const REPLACEMENT = '\ufffd';

/** Anything any of the three functions changes; text without it passes through untouched. */
const NEEDS_WORK = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const PASTE_NEEDS_WORK = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Caret notation for one C0, DEL or C1 code unit. */
function caret(c: number): string {
  if (c >= 0x80) return `M-^${String.fromCharCode((c - 0x80) ^ 0x40)}`;
  return `^${String.fromCharCode(c ^ 0x40)}`;
}

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** The kind of sequence starting at `i`, and where its body starts; `null` for a lone control. */
function introducer(text: string, i: number): { kind: 'csi' | 'string' | 'escape'; bodyStart: number } | null {
  const c = text.charCodeAt(i);
  if (c === 0x9b) return { kind: 'csi', bodyStart: i + 1 };
  if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) return { kind: 'string', bodyStart: i + 1 };
  if (c !== ESC || i + 1 >= text.length) return null;
  const n = text[i + 1] as string;
  if (n === '[') return { kind: 'csi', bodyStart: i + 2 };
  if (n === ']' || n === 'P' || n === 'X' || n === '^' || n === '_') return { kind: 'string', bodyStart: i + 2 };
  const nc = n.charCodeAt(0);
  if (nc >= 0x20 && nc <= 0x7e) return { kind: 'escape', bodyStart: i + 1 };
  return null;
}

/** Index just past a sequence of `kind` whose body starts at `j`. */
function skipSequence(text: string, kind: 'csi' | 'string' | 'escape', j: number): number {
  const len = text.length;
  if (kind === 'csi') {
    while (j < len && inRange(text.charCodeAt(j), 0x30, 0x3f)) j++;
    while (j < len && inRange(text.charCodeAt(j), 0x20, 0x2f)) j++;
    // A final byte ends it; anything else ends it too and is then read as ordinary text.
    return j < len && inRange(text.charCodeAt(j), 0x40, 0x7e) ? j + 1 : j;
  }
  if (kind === 'escape') {
    while (j < len && inRange(text.charCodeAt(j), 0x20, 0x2f)) j++;
    return j < len && inRange(text.charCodeAt(j), 0x30, 0x7e) ? j + 1 : j;
  }
  for (; j < len; j++) {
    const c = text.charCodeAt(j);
    if (c === BEL || c === C1_ST) return j + 1;
    if (c === ESC) return text[j + 1] === '\\' ? j + 2 : j; // any other ESC aborts the string, as in xterm
  }
  return len;
}

function inRange(c: number, lo: number, hi: number): boolean {
  return c >= lo && c <= hi;
}

/** Text made safe for a terminal: escape sequences removed, other controls shown in caret notation; keeps LF and tab. */
export function sanitizeForTerminal(text: string): string {
  return sanitizeHead(text, Infinity).text;
}

/**
 * At most the first `max` code units of sanitizeForTerminal(text), and whether the text went on past them.
 * Work stops once `max` are made, so a megabyte title costs what its shown head costs, wherever it is shown.
 */
export function sanitizeHead(text: string, max: number): { text: string; cut: boolean } {
  if (!NEEDS_WORK.test(text)) return headOf(text, max);
  let out = '';
  let plainFrom = 0;
  let i = 0;
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    const special =
      isControl(c) || c === 0x2028 || c === 0x2029 || inRange(c, 0x202a, 0x202e) || inRange(c, 0x2066, 0x2069);
    if (!special || c === 0x0a || c === 0x09) {
      i++;
      continue;
    }
    out += text.slice(plainFrom, i);
    if (out.length >= max) return { text: headOf(out, max).text, cut: true };
    const seq = introducer(text, i);
    if (seq !== null) {
      i = skipSequence(text, seq.kind, seq.bodyStart);
    } else {
      // CR before LF is a line end, not an overwrite: only the LF is kept.
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) out += '';
      else if (c === 0x2028 || c === 0x2029) out += ' ';
      else if (!isControl(c)) out += REPLACEMENT;
      else out += caret(c);
      i++;
    }
    plainFrom = i;
  }
  const whole = out + text.slice(plainFrom);
  return headOf(whole, max);
}

/** The first `max` code units, never ending in half a surrogate pair. */
function headOf(text: string, max: number): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  const end = Math.max(0, Math.floor(max));
  const last = text.charCodeAt(end - 1);
  const head = text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
  return { text: head, cut: true };
}

/** sanitizeForTerminal for a one-line cell: LF and tab become spaces too. */
export function sanitizeLine(text: string): string {
  return sanitizeForTerminal(text).replace(/[\n\t]/g, ' ');
}

/** sanitizeHead for a one-line cell: LF and tab become spaces too. */
export function sanitizeLineHead(text: string, max: number): { text: string; cut: boolean } {
  const head = sanitizeHead(text, max);
  return { text: head.text.replace(/[\n\t]/g, ' '), cut: head.cut };
}

/** Text to paste into an agent: LF and tab kept, CRLF made LF, every other control caret-mapped; nothing dropped. */
export function inertForPaste(text: string): string {
  const lf = text.replace(/\r\n/g, '\n');
  if (!PASTE_NEEDS_WORK.test(lf)) return lf;
  return lf.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => caret(ch.charCodeAt(0)));
}
