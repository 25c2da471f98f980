import type { Key } from 'ink';

// The one-line editor behind `s`, `n` and `/`, as a pure function of (draft, key). Its state lives in the
// UI store, so the one key handler feeds it without a second input hook (and without losing keys typed
// in the same instant as the key that opened it).

export interface Draft {
  text: string;
  /** Cursor position in code points. */
  cursor: number;
}

export const EMPTY_DRAFT: Draft = { text: '', cursor: 0 };

const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** A draft holding `text` with the cursor at its end. */
export function draftOf(text: string): Draft {
  return { text, cursor: [...text].length };
}

/** Apply one key to a draft: Left/Right/Home/End move, Backspace deletes, Ctrl-U clears, printable text inserts. */
export function editDraft(d: Draft, input: string, key: Key): Draft {
  const cs = [...d.text];
  const at = Math.max(0, Math.min(d.cursor, cs.length));
  if (key.leftArrow) return { text: d.text, cursor: Math.max(0, at - 1) };
  if (key.rightArrow) return { text: d.text, cursor: Math.min(cs.length, at + 1) };
  if (key.home) return { text: d.text, cursor: 0 };
  if (key.end) return { text: d.text, cursor: cs.length };
  if (key.backspace || key.delete) {
    if (at === 0) return d;
    return { text: [...cs.slice(0, at - 1), ...cs.slice(at)].join(''), cursor: at - 1 };
  }
  if (key.ctrl && input === 'u') return EMPTY_DRAFT;
  if (
    key.ctrl ||
    key.meta ||
    key.upArrow ||
    key.downArrow ||
    key.pageUp ||
    key.pageDown ||
    key.tab ||
    key.escape ||
    key.return
  )
    return d;
  const typed = [...input.replace(/\r\n?|\n/g, ' ').replace(CONTROL, '')];
  if (typed.length === 0) return d;
  return { text: [...cs.slice(0, at), ...typed, ...cs.slice(at)].join(''), cursor: at + typed.length };
}
