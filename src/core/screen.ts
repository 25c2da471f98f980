// Reading an agent's screen: its status from the profile's patterns, and the DONE:/REVIEW:/QUESTION:
// markers it prints. Pure functions over captured lines.
//
// The readiness contract (README "Readiness"):
// - `blocked` on any of the last `tailLines` non-empty lines wins over everything: nothing is typed.
// - `ready` is tested on each of the last `promptLines` non-empty lines, so an input box with a border and a
//   footer under it is found; the lowest match is the prompt.
// - `busy` is tested on the last `tailLines` non-empty lines. A busy line counts only while it is current:
//   it is below the prompt, or the screen changed within `quietMs`. A busy line above a prompt on a screen
//   that has been still for `quietMs` is stale (left in scrollback) and does not block delivery.
// - `question` on one of the 3 lines above the prompt (or the prompt line itself) makes a ready screen `waiting`.
// - Neither a current busy line nor a prompt (a typed draft, output after the prompt): null, never a guess.

/** The patterns and windows a profile judges a screen by. Each pattern is tested on one line at a time. */
export interface ScreenRules {
  ready: RegExp | null;
  busy: RegExp | null;
  question: RegExp | null;
  blocked: RegExp | null;
  promptLines: number;
  tailLines: number;
  quietMs: number;
}

/** `blocked`: a sign-in menu, a trust dialog, a permission prompt: a human must act in the pane. */
export type ScreenStatus = 'running' | 'idle' | 'waiting' | 'blocked';

export type PatternName = 'ready' | 'busy' | 'question' | 'blocked';

export interface ScreenMatch {
  pattern: PatternName;
  line: string;
  /** 1 = the last non-empty line. */
  fromBottom: number;
  /** A busy line that no longer counts (above the prompt on a still screen). */
  stale?: boolean;
}

/** What a screen says and why: the status, the lines that decided it, and how long the screen has been still. */
export interface ScreenReading {
  status: ScreenStatus | null;
  why: string;
  matches: ScreenMatch[];
  /** Milliseconds since the screen last changed; null when not known (a busy line then counts). */
  quietForMs: number | null;
}

/** Lines captured of a pane for a reading (and again just before typing, to compare). */
export const CAPTURE_LINES = 40;

/** A screen as compared: trailing blanks of each line and trailing empty lines do not count. */
export function normalizeScreen(lines: readonly string[]): string {
  return lines
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

/**
 * A short fingerprint of a screen (53-bit cyrb53 of the normalized text), stored with a submit so a later pass
 * can tell whether the agent reacted to it. A collision only makes mcc wait (then warn), never type.
 */
export function screenFingerprint(lines: readonly string[]): string {
  const text = normalizeScreen(lines);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const n = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return `${text.length.toString(36)}-${n.toString(36)}`;
}

/** The question window: the prompt line and the lines just above it. */
const QUESTION_ABOVE = 3;

function nonEmpty(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/\s+$/, '')).filter((l) => l.length > 0);
}

function lastIndex(tail: readonly string[], re: RegExp | null, from = 0): number {
  if (!re) return -1;
  for (let i = tail.length - 1; i >= from; i--) if (re.test(tail[i] ?? '')) return i;
  return -1;
}

/** Read a screen by the readiness contract. `quietForMs`: time since the screen last changed, null = unknown. */
export function readScreen(lines: readonly string[], rules: ScreenRules, quietForMs: number | null): ScreenReading {
  const tail = nonEmpty(lines).slice(-rules.tailLines);
  const n = tail.length;
  const at = (pattern: PatternName, i: number, stale?: boolean): ScreenMatch => ({
    pattern,
    line: tail[i] ?? '',
    fromBottom: n - i,
    ...(stale ? { stale } : {}),
  });
  const reading = (status: ScreenStatus | null, why: string, matches: ScreenMatch[]): ScreenReading => ({
    status,
    why,
    matches,
    quietForMs,
  });
  if (n === 0) return reading(null, 'the screen is empty', []);

  const blocked = lastIndex(tail, rules.blocked);
  if (blocked >= 0)
    return reading('blocked', 'blocked pattern: a human must act in the pane', [at('blocked', blocked)]);

  const prompt = lastIndex(tail, rules.ready, Math.max(0, n - rules.promptLines));
  const busy = lastIndex(tail, rules.busy);
  const quiet = quietForMs !== null && quietForMs >= rules.quietMs;
  const matches: ScreenMatch[] = [];
  if (busy >= 0) {
    const current = prompt < 0 || busy > prompt || !quiet;
    if (current) {
      const why =
        prompt < 0
          ? 'busy pattern, no prompt'
          : busy > prompt
            ? 'busy pattern below the prompt'
            : quietForMs === null
              ? 'busy pattern above the prompt; the screen may still be changing'
              : `busy pattern above the prompt; the screen changed ${quietForMs} ms ago (< ${rules.quietMs} ms)`;
      const shown = [at('busy', busy)];
      if (prompt >= 0) shown.push(at('ready', prompt));
      return reading('running', why, shown);
    }
    matches.push(at('busy', busy, true));
  }
  if (prompt < 0) {
    return reading(null, 'no prompt on the last lines and no current busy line (a draft, or output after it)', matches);
  }
  matches.push(at('ready', prompt));
  const question = lastIndex(tail.slice(0, prompt + 1), rules.question, Math.max(busy + 1, prompt - QUESTION_ABOVE));
  if (question >= 0) {
    matches.push(at('question', question));
    return reading('waiting', 'prompt shown after a question', matches);
  }
  const stale = busy >= 0 ? `; the busy line above it is stale (screen still ${quietForMs} ms)` : '';
  return reading('idle', `prompt shown${stale}`, matches);
}

/** The status alone (see readScreen). */
export function classifyScreen(
  lines: readonly string[],
  rules: ScreenRules,
  quietForMs: number | null = null,
): ScreenStatus | null {
  return readScreen(lines, rules, quietForMs).status;
}

/** The agent takes typed input: a prompt shows and nothing blocks it. */
export function acceptsInput(status: ScreenStatus | null): boolean {
  return status === 'idle' || status === 'waiting';
}

/**
 * The lowest of the last `promptLines` + 1 lines that shows a draft of `pasted` (the first words of its first
 * line, or an agent's "[Pasted text" placeholder); -1 when none does.
 */
function draftLine(lines: readonly string[], pasted: string, promptLines: number): number {
  const probe = probeOf(pasted);
  if (!probe) return -1;
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - (promptLines + 1)); i--) {
    const line = lines[i] ?? '';
    if (line.includes(probe) || /\[Pasted text/.test(line)) return i;
  }
  return -1;
}

/**
 * Whether text pasted before a crash sits unsubmitted on the input lines (see draftLine). Only then is a
 * submit safe; anything else (an empty prompt, a dialog) could approve what nobody meant.
 */
export function draftVisible(
  lines: readonly string[],
  pasted: string,
  rules: Pick<ScreenRules, 'promptLines'>,
): boolean {
  return draftLine(nonEmpty(lines), pasted, rules.promptLines) >= 0;
}

/**
 * A pasted draft that hides the prompt below every busy line of the tail. The draft's line stands in for the
 * prompt it hides, so the busy line above is judged as readScreen judges one above a prompt (stale once the
 * screen is still for `quietMs`): the text was pasted, not submitted. A busy line below it is an agent at work.
 */
export function draftBelowBusy(
  lines: readonly string[],
  pasted: string,
  rules: Pick<ScreenRules, 'busy' | 'promptLines' | 'tailLines'>,
): boolean {
  const tail = nonEmpty(lines).slice(-rules.tailLines);
  const draft = draftLine(tail, pasted, rules.promptLines);
  return draft >= 0 && lastIndex(tail, rules.busy) < draft;
}

/**
 * Whether text pasted before a crash shows in the transcript above the input lines: the agent took it (it
 * echoes what it was given) and, when its prompt is back and empty, is already done with it.
 */
export function echoVisible(
  lines: readonly string[],
  pasted: string,
  rules: Pick<ScreenRules, 'promptLines'>,
): boolean {
  const probe = probeOf(pasted);
  if (!probe) return false;
  return nonEmpty(lines)
    .slice(0, -(rules.promptLines + 1))
    .some((l) => l.includes(probe));
}

/** The first words of the first line of a pasted text: what a draft or an echo of it shows. */
function probeOf(pasted: string): string | null {
  const first = pasted
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return first ? first.slice(0, 24) : null;
}

export type MarkerKind = 'DONE' | 'REVIEW' | 'QUESTION';

export interface Marker {
  kind: MarkerKind;
  line: string;
  /** Stable id of this marker line, stored on the runtime row so it acts once. */
  fingerprint: string;
}

const MARKER_RE = /^(DONE|REVIEW|QUESTION):(.*)$/;

function fingerprintOf(line: string): string {
  // FNV-1a: short, stable, no crypto import in core.
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    h ^= line.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${line.slice(0, 12)}#${h.toString(16)}`;
}

/**
 * The newest marker line on screen that is not an echo of text we sent. A marker counts only at the very
 * start of a line; a line identical to a line of the prompt (the seed's own prompt names DONE:/REVIEW:)
 * is an echo and never counts. Returns null when there is none or it already acted (`lastFingerprint`).
 */
export function findMarker(
  lines: readonly string[],
  sentTexts: readonly string[],
  lastFingerprint: string | null,
): Marker | null {
  const echoed = new Set<string>();
  for (const t of sentTexts) for (const l of t.split(/\r?\n/)) if (l.trim()) echoed.add(l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').replace(/\s+$/, '');
    const m = MARKER_RE.exec(line);
    if (!m || echoed.has(line.trim())) continue;
    const fingerprint = fingerprintOf(line);
    if (fingerprint === lastFingerprint) return null;
    return { kind: m[1] as MarkerKind, line, fingerprint };
  }
  return null;
}
