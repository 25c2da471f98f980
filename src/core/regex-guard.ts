// A static guard for the profile patterns an operator writes in the config file. JavaScript's RegExp
// backtracks, so `(a+)+$` takes seconds on 30 characters and `.*.*.*x` takes seconds on 500: a hostile or
// careless pattern would stall every pass that reads a screen. Patterns are parsed here into a small safe
// subset and refused at config load when they could backtrack badly:
// - no backreferences and no lookarounds (they are what makes a pattern non-regular);
// - a repeated group (`*`, `+`, `{n,}`, `{n,m}` with m > 1) holds only fixed-width parts: no quantifier that
//   varies and no alternation inside it, which rules out `(a+)+`, `(a|a)*`, `(a?)*`;
// - two unbounded quantifiers in one sequence must not be able to share text: their character sets are
//   disjoint, or a required part between them matches nothing the first one does (`\s*>\s+` is fine,
//   `.*.*` and `a.*a.*b` are not).
// The text a pattern runs on is bounded too (PATTERN_TEXT_LIMIT), so what is left is at worst quadratic in a
// short line. A linear-time engine (RE2) would need a native or WASM dependency; this keeps the patterns
// ordinary RegExps with their usual syntax.

/** Patterns longer than this are refused outright: a screen rule is a line of text, not a program. */
export const PATTERN_SOURCE_LIMIT = 1000;

/** A profile pattern sees at most this many characters of a line (tmux panes here are 200 columns wide). */
export const PATTERN_TEXT_LIMIT = 1024;

/** Above this, a counted repetition `{n,m}` is treated as unbounded. */
const UNBOUNDED_FROM = 16;
const MAX_UNIT = 0xffff;

/** A set of UTF-16 code units as sorted, disjoint, inclusive ranges. */
type Ranges = readonly (readonly [number, number])[];

/** `text`: the node's own source, for messages; set once the node is parsed. */
type Node = (
  | { kind: 'set'; set: Ranges }
  | { kind: 'assert' }
  | { kind: 'group'; alts: Node[][] }
  | { kind: 'repeat'; min: number; max: number; body: Node }
) & { text?: string };

class Refused extends Error {}

function normalize(ranges: (readonly [number, number])[]): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_UNIT) out.push([next, MAX_UNIT]);
  return out;
}

function intersects(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i]!;
    const [blo, bhi] = b[j]!;
    if (alo <= bhi && blo <= ahi) return true;
    if (ahi < bhi) i++;
    else j++;
  }
  return false;
}

const single = (c: number): Ranges => [[c, c]];
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
// ECMAScript WhiteSpace and LineTerminator.
const SPACE: Ranges = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const DOT: Ranges = complement(
  normalize([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);

/** Parses the subset; throws Refused with the reason for anything outside it. */
class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node[][] {
    const alts = this.alternatives();
    if (this.i < this.src.length) throw new Refused(`unbalanced ")" at position ${this.i}`);
    return alts;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alternatives(): Node[][] {
    const alts: Node[][] = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts;
  }

  private sequence(): Node[] {
    const seq: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      const start = this.i;
      const atom: Node = { ...this.atom(), text: this.src.slice(start, this.i) };
      const q = this.quantifier();
      if (q === null) seq.push(atom);
      else {
        if (atom.kind === 'assert') throw new Refused(`a quantifier on an assertion at position ${start}`);
        seq.push({ kind: 'repeat', ...q, body: atom, text: this.src.slice(start, this.i) });
      }
    }
    return seq;
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.peek();
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    if (q) this.i++;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      // Outside the `u` flag a `{` that is no quantifier is a literal brace.
      if (!m) return null;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      q = { min, max };
      this.i += m[0].length;
    }
    if (q && this.peek() === '?') this.i++; // lazy: same set of matches, same backtracking
    return q;
  }

  private atom(): Node {
    const start = this.i;
    const c = this.src[this.i++]!;
    switch (c) {
      case '^':
      case '$':
        return { kind: 'assert' };
      case '.':
        return { kind: 'set', set: DOT };
      case '[':
        return { kind: 'set', set: this.charClass() };
      case '\\':
        return this.escape(false);
      case '(': {
        const rest = this.src.slice(this.i);
        if (rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!'))
          throw new Refused(`a lookaround at position ${start}`);
        if (rest.startsWith('?:')) this.i += 2;
        else if (rest.startsWith('?<')) {
          const m = /^\?<[A-Za-z_$][\w$]*>/.exec(rest);
          if (!m) throw new Refused(`a malformed group name at position ${start}`);
          this.i += m[0].length;
        } else if (rest.startsWith('?')) throw new Refused(`an unsupported group "(?" at position ${start}`);
        const alts = this.alternatives();
        if (this.peek() !== ')') throw new Refused(`an unclosed group at position ${start}`);
        this.i++;
        return { kind: 'group', alts };
      }
      case '*':
      case '+':
      case '?':
        throw new Refused(`a quantifier with nothing to repeat at position ${start}`);
      default:
        return { kind: 'set', set: single(c.charCodeAt(0)) };
    }
  }

  /** After a backslash. Inside a class `\b` is a backspace; outside it is a word boundary. */
  private escape(inClass: boolean): Node {
    const pos = this.i - 1;
    const c = this.src[this.i++];
    if (c === undefined) throw new Refused('a trailing backslash');
    const set = (s: Ranges): Node => ({ kind: 'set', set: s });
    switch (c) {
      case 'd':
        return set(DIGIT);
      case 'D':
        return set(complement(DIGIT));
      case 'w':
        return set(WORD);
      case 'W':
        return set(complement(WORD));
      case 's':
        return set(SPACE);
      case 'S':
        return set(complement(SPACE));
      case 'b':
        return inClass ? set(single(8)) : { kind: 'assert' };
      case 'B':
        if (inClass) throw new Refused(`"\\B" inside a character class at position ${pos}`);
        return { kind: 'assert' };
      case 'n':
        return set(single(0x0a));
      case 'r':
        return set(single(0x0d));
      case 't':
        return set(single(0x09));
      case 'v':
        return set(single(0x0b));
      case 'f':
        return set(single(0x0c));
      case 'k':
        throw new Refused(`a backreference "\\k" at position ${pos}`);
      case 'c': {
        const letter = this.src[this.i];
        if (letter === undefined || !/[A-Za-z]/.test(letter)) return set(single(0x5c)); // `\c` alone is literal
        this.i++;
        return set(single(letter.charCodeAt(0) % 32));
      }
      case 'x':
      case 'u': {
        const len = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) return set(single(c.charCodeAt(0)));
        this.i += len;
        return set(single(parseInt(hex, 16)));
      }
      default:
        if (/[1-9]/.test(c)) {
          if (inClass) throw new Refused(`an octal escape "\\${c}" at position ${pos}`);
          throw new Refused(`a backreference "\\${c}" at position ${pos}`);
        }
        if (c === '0') {
          if (/[0-9]/.test(this.src[this.i] ?? '')) throw new Refused(`an octal escape at position ${pos}`);
          return set(single(0));
        }
        return set(single(c.charCodeAt(0)));
    }
  }

  private charClass(): Ranges {
    const start = this.i - 1;
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.i++;
    }
    const ranges: (readonly [number, number])[] = [];
    const member = (): Ranges => {
      const c = this.src[this.i++]!;
      if (c !== '\\') return single(c.charCodeAt(0));
      const e = this.escape(true);
      if (e.kind !== 'set') throw new Refused(`an assertion inside a character class at position ${this.i}`);
      return e.set;
    };
    while (this.peek() !== ']') {
      if (this.peek() === undefined) throw new Refused(`an unclosed character class at position ${start}`);
      const lo = member();
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        const hi = member();
        // `[\d-z]` is a set, a dash and a letter outside the `u` flag.
        if (lo.length === 1 && hi.length === 1 && lo[0]![0] === lo[0]![1] && hi[0]![0] === hi[0]![1]) {
          if (hi[0]![0] < lo[0]![0]) throw new Refused(`a range out of order at position ${start}`);
          ranges.push([lo[0]![0], hi[0]![0]]);
        } else ranges.push(...lo, [0x2d, 0x2d], ...hi);
      } else ranges.push(...lo);
    }
    this.i++;
    const set = normalize(ranges);
    return negate ? complement(set) : set;
  }
}

/** One part of a flattened sequence: what it can match, whether it must match, whether it can repeat freely. */
interface Item {
  set: Ranges;
  required: boolean;
  unbounded: boolean;
  text: string;
}

function setsOf(n: Node): Ranges {
  switch (n.kind) {
    case 'set':
      return n.set;
    case 'assert':
      return [];
    case 'group':
      return normalize(n.alts.flat().flatMap((x) => [...setsOf(x)]));
    case 'repeat':
      return setsOf(n.body);
  }
}

function minLength(n: Node): number {
  switch (n.kind) {
    case 'set':
      return 1;
    case 'assert':
      return 0;
    case 'group':
      return Math.min(...n.alts.map((seq) => seq.reduce((s, x) => s + minLength(x), 0)));
    case 'repeat':
      return n.min * minLength(n.body);
  }
}

function varies(n: Node): boolean {
  switch (n.kind) {
    case 'set':
    case 'assert':
      return false;
    case 'group':
      return n.alts.length > 1 || n.alts.some((seq) => seq.some(varies));
    case 'repeat':
      return n.min !== n.max || varies(n.body);
  }
}

function hasUnbounded(n: Node): boolean {
  if (n.kind === 'repeat') return n.max >= UNBOUNDED_FROM || hasUnbounded(n.body);
  if (n.kind === 'group') return n.alts.some((seq) => seq.some(hasUnbounded));
  return false;
}

/** Refuse repeated groups whose body can match in more than one way; returns the flattened sequence. */
function flatten(seq: readonly Node[]): Item[] {
  const items: Item[] = [];
  for (const n of seq) {
    if (n.kind === 'assert') continue;
    if (n.kind === 'set') {
      items.push({ set: n.set, required: true, unbounded: false, text: n.text ?? '' });
      continue;
    }
    if (n.kind === 'repeat') {
      if (n.max > 1 && varies(n.body))
        throw new Refused(
          `"${n.text ?? ''}" repeats a part that can itself match in more than one way (nested quantifier or alternation)`,
        );
      // A repeat of a group whose branches are fixed still gets its branches checked on their own.
      if (n.body.kind === 'group') for (const alt of n.body.alts) checkSequence(alt);
      items.push({
        set: setsOf(n.body),
        required: minLength(n) > 0,
        unbounded: n.max >= UNBOUNDED_FROM || hasUnbounded(n.body),
        text: n.text ?? '',
      });
      continue;
    }
    if (n.alts.length === 1) {
      items.push(...flatten(n.alts[0]!));
      continue;
    }
    for (const alt of n.alts) checkSequence(alt);
    items.push({ set: setsOf(n), required: minLength(n) > 0, unbounded: hasUnbounded(n), text: n.text ?? '' });
  }
  return items;
}

function checkSequence(seq: readonly Node[]): void {
  const items = flatten(seq);
  for (let i = 0; i < items.length; i++) {
    const a = items[i]!;
    if (!a.unbounded) continue;
    for (let j = i + 1; j < items.length; j++) {
      const b = items[j]!;
      if (!b.unbounded) continue;
      const fenced = items.slice(i + 1, j).some((x) => x.required && !intersects(x.set, a.set));
      if (!fenced && intersects(a.set, b.set))
        throw new Refused(
          `"${a.text}" and "${b.text}" can match the same text, so a line that fails is retried at every split ` +
            'between them (polynomial backtracking); put a character the first cannot match between them',
        );
    }
  }
}

/**
 * Why `source` may backtrack catastrophically (or lies outside the safe subset), or null when it is safe to
 * run on untrusted screen text. Assumes `new RegExp(source)` already compiles.
 */
export function regexHazard(source: string): string | null {
  if (source.length > PATTERN_SOURCE_LIMIT) return `longer than ${PATTERN_SOURCE_LIMIT} characters`;
  try {
    for (const alt of new Parser(source).parse()) checkSequence(alt);
    return null;
  } catch (e) {
    if (e instanceof Refused) return e.message;
    throw e;
  }
}

/** A RegExp that never looks past the first PATTERN_TEXT_LIMIT characters of its input. */
export class BoundedRegExp extends RegExp {
  override exec(text: string): RegExpExecArray | null {
    return super.exec(text.length > PATTERN_TEXT_LIMIT ? text.slice(0, PATTERN_TEXT_LIMIT) : text);
  }
}
