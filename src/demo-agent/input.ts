// Pure decoding of a raw-mode terminal input stream into key events. No I/O: the demo agent feeds
// chunks in and acts on the events; everything here is unit-testable.

export type InputEvent =
  | { type: 'text'; text: string } // a run of printable characters, in order
  | { type: 'paste'; text: string } // a whole bracketed paste, newlines normalised to \n
  | { type: 'submit' } // Enter (\r, or \n) outside a paste
  | { type: 'escape' } // a lone Escape key
  | { type: 'ctrl-c' }
  | { type: 'ctrl-d' }
  | { type: 'ctrl-o' } // the operator's key that leaves the sign-in menu (a paste can never produce it)
  | { type: 'backspace' };

export interface InputState {
  /** Held back for the next chunk: an unfinished escape sequence, or in a paste a possible partial end marker. */
  readonly pending: string;
  /** The paste collected so far while inside `\x1b[200~`...`\x1b[201~`, else null. */
  readonly paste: string | null;
}

export interface InputStep {
  state: InputState;
  events: InputEvent[];
}

export const INITIAL_INPUT: InputState = { pending: '', paste: null };

const ESC = '\x1b';
export const PASTE_START = '\x1b[200~';
export const PASTE_END = '\x1b[201~';
/** An unfinished escape sequence longer than this is garbage, not a key: drop it. */
const MAX_PENDING = 32;

type EscapeMatch = { kind: 'incomplete' } | { kind: 'sequence'; seq: string } | { kind: 'lone-escape' };

/** Classifies the escape sequence starting at s[i] (which is ESC). */
function matchEscape(s: string, i: number): EscapeMatch {
  const next = s[i + 1];
  if (next === undefined) return { kind: 'incomplete' };
  if (next === ESC) return { kind: 'lone-escape' }; // ESC ESC: the first one was a key press of its own
  if (next === 'O') return i + 2 < s.length ? { kind: 'sequence', seq: s.slice(i, i + 3) } : { kind: 'incomplete' };
  if (next !== '[') return { kind: 'sequence', seq: s.slice(i, i + 2) }; // Alt+key
  let j = i + 2; // CSI: parameter and intermediate bytes 0x20-0x3f, then one final byte 0x40-0x7e
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x3f) j++;
  if (j >= s.length) return { kind: 'incomplete' };
  const final = s.charCodeAt(j);
  return { kind: 'sequence', seq: s.slice(i, final >= 0x40 && final <= 0x7e ? j + 1 : j) };
}

/** Length of the longest suffix of s (starting at or after `from`) that is a proper prefix of `marker`. */
function partialSuffix(s: string, from: number, marker: string): number {
  for (let n = Math.min(marker.length - 1, s.length - from); n > 0; n--) {
    if (s.endsWith(marker.slice(0, n))) return n;
  }
  return 0;
}

const normaliseNewlines = (text: string): string => text.replace(/\r\n?/g, '\n');

/** Feeds one chunk of input. A chunk that is exactly ESC (with nothing pending) is the Escape key. */
export function feedInput(state: InputState, chunk: string): InputStep {
  if (chunk === ESC && state.pending === '' && state.paste === null) {
    return { state, events: [{ type: 'escape' }] };
  }
  const s = state.pending + chunk;
  const events: InputEvent[] = [];
  let paste = state.paste;
  let text = '';
  const flushText = (): void => {
    if (text !== '') events.push({ type: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < s.length) {
    if (paste !== null) {
      const end = s.indexOf(PASTE_END, i);
      if (end === -1) {
        const keep = partialSuffix(s, i, PASTE_END);
        paste += s.slice(i, s.length - keep);
        return { state: { pending: s.slice(s.length - keep), paste }, events };
      }
      events.push({ type: 'paste', text: normaliseNewlines(paste + s.slice(i, end)) });
      paste = null;
      i = end + PASTE_END.length;
      continue;
    }
    const c = s[i]!;
    if (c === ESC) {
      const m = matchEscape(s, i);
      flushText();
      if (m.kind === 'incomplete') {
        const rest = s.slice(i);
        return { state: { pending: rest.length > MAX_PENDING ? '' : rest, paste: null }, events };
      }
      if (m.kind === 'lone-escape') {
        events.push({ type: 'escape' });
        i += 1;
        continue;
      }
      if (m.seq === PASTE_START) paste = '';
      // Every other sequence (arrows, function keys, a stray paste end, Alt+key) is ignored.
      i += m.seq.length;
      continue;
    }
    i++;
    const key = controlKey(c);
    if (key === undefined) {
      if (c === '\t' || c >= ' ') text += c;
      continue; // other control characters are ignored
    }
    flushText();
    events.push(key);
  }
  flushText();
  return { state: { pending: '', paste }, events };
}

function controlKey(c: string): InputEvent | undefined {
  switch (c) {
    case '\r':
    case '\n':
      return { type: 'submit' };
    case '\x7f':
    case '\b':
      return { type: 'backspace' };
    case '\x03':
      return { type: 'ctrl-c' };
    case '\x04':
      return { type: 'ctrl-d' };
    case '\x0f':
      return { type: 'ctrl-o' };
    default:
      return undefined;
  }
}

/**
 * Called when no more input arrived shortly after a chunk that left an escape sequence unfinished:
 * a pending lone ESC was the Escape key; any other fragment is dropped. Inside a paste nothing changes.
 */
export function flushInput(state: InputState): InputStep {
  if (state.paste !== null || state.pending === '') return { state, events: [] };
  return { state: INITIAL_INPUT, events: state.pending === ESC ? [{ type: 'escape' }] : [] };
}
