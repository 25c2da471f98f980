import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INITIAL_INPUT,
  PASTE_END,
  PASTE_START,
  feedInput,
  flushInput,
  type InputEvent,
  type InputState,
} from '../../src/demo-agent/input.js';

/** Feeds chunks in order; returns all events and the final state. */
function feedAll(chunks: string[], state: InputState = INITIAL_INPUT): { state: InputState; events: InputEvent[] } {
  const events: InputEvent[] = [];
  for (const chunk of chunks) {
    const step = feedInput(state, chunk);
    state = step.state;
    events.push(...step.events);
  }
  return { state, events };
}

/** Adjacent text events are one run of typing, however the chunks fell. */
function mergeText(events: InputEvent[]): InputEvent[] {
  const out: InputEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === 'text' && last?.type === 'text') out[out.length - 1] = { type: 'text', text: last.text + e.text };
    else out.push(e);
  }
  return out;
}

describe('input reducer', () => {
  it('turns several printable keys in one chunk into one text event', () => {
    expect(feedAll(['hello world']).events).toEqual([{ type: 'text', text: 'hello world' }]);
    expect(feedAll(['héllo ✓ 日本']).events).toEqual([{ type: 'text', text: 'héllo ✓ 日本' }]);
    expect(feedAll(['a\tb']).events).toEqual([{ type: 'text', text: 'a\tb' }]);
  });

  it('decodes Enter, Backspace/DEL, Ctrl-C and Ctrl-D between text runs', () => {
    expect(feedAll(['ab\x7fc\bd\rx\x03\x04']).events).toEqual([
      { type: 'text', text: 'ab' },
      { type: 'backspace' },
      { type: 'text', text: 'c' },
      { type: 'backspace' },
      { type: 'text', text: 'd' },
      { type: 'submit' },
      { type: 'text', text: 'x' },
      { type: 'ctrl-c' },
      { type: 'ctrl-d' },
    ]);
    expect(feedAll(['line\n']).events).toEqual([{ type: 'text', text: 'line' }, { type: 'submit' }]);
  });

  it('ignores other control characters', () => {
    expect(feedAll(['a\x01\x02b\x00']).events).toEqual([{ type: 'text', text: 'ab' }]);
  });

  it('decodes Ctrl-O as a key, but inside a paste it is text', () => {
    expect(feedAll(['a\x0fb']).events).toEqual([
      { type: 'text', text: 'a' },
      { type: 'ctrl-o' },
      { type: 'text', text: 'b' },
    ]);
    expect(feedAll([`${PASTE_START}x\x0fy${PASTE_END}`]).events).toEqual([{ type: 'paste', text: 'x\x0fy' }]);
  });

  it('a lone ESC chunk is the Escape key', () => {
    const step = feedInput(INITIAL_INPUT, '\x1b');
    expect(step.events).toEqual([{ type: 'escape' }]);
    expect(step.state).toEqual(INITIAL_INPUT);
  });

  it('ignores escape sequences: arrows (CSI and SS3), modified keys, function keys, Alt+key', () => {
    for (const seq of ['\x1b[A', '\x1b[B', '\x1bOC', '\x1b[1;5D', '\x1b[3~', '\x1b[15~', '\x1bx', '\x1b[M']) {
      expect(feedAll([seq]), JSON.stringify(seq)).toEqual({ state: INITIAL_INPUT, events: [] });
    }
    expect(feedAll(['a\x1b[Db']).events).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]);
  });

  it('holds an unfinished escape sequence for the next chunk', () => {
    const first = feedInput(INITIAL_INPUT, 'x\x1b[1;');
    expect(first.events).toEqual([{ type: 'text', text: 'x' }]);
    expect(first.state.pending).toBe('\x1b[1;');
    expect(feedInput(first.state, '5Cy')).toEqual({ state: INITIAL_INPUT, events: [{ type: 'text', text: 'y' }] });
    // ESC at the end of a longer chunk may start a sequence: the next chunk decides.
    const held = feedInput(INITIAL_INPUT, 'ab\x1b');
    expect(held.state.pending).toBe('\x1b');
    expect(feedInput(held.state, '[A').events).toEqual([]);
  });

  it('flushInput turns a held lone ESC into Escape and drops a partial sequence', () => {
    const held = feedInput(INITIAL_INPUT, 'ab\x1b').state;
    expect(flushInput(held)).toEqual({ state: INITIAL_INPUT, events: [{ type: 'escape' }] });
    expect(flushInput(feedInput(INITIAL_INPUT, 'x\x1b[1').state)).toEqual({ state: INITIAL_INPUT, events: [] });
    expect(flushInput(INITIAL_INPUT)).toEqual({ state: INITIAL_INPUT, events: [] });
  });

  it('ESC ESC is an Escape key press followed by a held ESC', () => {
    const step = feedInput(INITIAL_INPUT, '\x1b\x1b');
    expect(step.events).toEqual([{ type: 'escape' }]);
    expect(flushInput(step.state).events).toEqual([{ type: 'escape' }]);
  });

  it('collects a bracketed paste literally: LF and CR inside are newlines, not submits', () => {
    expect(feedAll([`${PASTE_START}one\ntwo\rthree\r\nfour${PASTE_END}`]).events).toEqual([
      { type: 'paste', text: 'one\ntwo\nthree\nfour' },
    ]);
  });

  it('keeps control keys and escape sequences inside a paste as text', () => {
    expect(feedAll([`${PASTE_START}a\x1b[Ab\x03\x7f\x1b[201${PASTE_END}`]).events).toEqual([
      { type: 'paste', text: 'a\x1b[Ab\x03\x7f\x1b[201' },
    ]);
  });

  it('text, paste and Enter in one chunk come out in order', () => {
    expect(feedAll([`hi ${PASTE_START}DONE: x\nmore${PASTE_END}\r`]).events).toEqual([
      { type: 'text', text: 'hi ' },
      { type: 'paste', text: 'DONE: x\nmore' },
      { type: 'submit' },
    ]);
  });

  it('a paste may span chunks, including split start and end markers', () => {
    expect(feedAll(['\x1b[2', '00~hel', 'lo\nwor', 'ld\x1b[20', '1~\r']).events).toEqual([
      { type: 'paste', text: 'hello\nworld' },
      { type: 'submit' },
    ]);
    const open = feedAll([`${PASTE_START}abc`]);
    expect(open.events).toEqual([]);
    expect(open.state.paste).toBe('abc');
    expect(flushInput(open.state).state).toBe(open.state); // a paste waits for its end marker
  });

  it('splits the end marker at every position', () => {
    for (let k = 1; k < PASTE_END.length; k++) {
      const chunks = [`${PASTE_START}x\ny${PASTE_END.slice(0, k)}`, `${PASTE_END.slice(k)}z`];
      expect(feedAll(chunks).events, `split at ${k}`).toEqual([
        { type: 'paste', text: 'x\ny' },
        { type: 'text', text: 'z' },
      ]);
    }
  });

  it('a lone ESC chunk inside a paste is pasted text', () => {
    const { events, state } = feedAll([PASTE_START, '\x1b', `a${PASTE_END}`]);
    expect(events).toEqual([{ type: 'paste', text: '\x1ba' }]);
    expect(state).toEqual(INITIAL_INPUT);
  });

  it('ignores a stray paste end marker outside a paste', () => {
    expect(feedAll([`a${PASTE_END}b`]).events).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]);
  });

  it('gives the same events however a stream is split into chunks', () => {
    const token = fc.constantFrom(
      'a',
      'Z',
      ' ',
      'é',
      '\r',
      '\n',
      '\x7f',
      '\x03',
      '\x04',
      '\x0f',
      '\x1b[A',
      '\x1bOB',
      '\x1b[1;5C',
      PASTE_START,
      PASTE_END,
      'DONE: x\n',
      '\r\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), (tokens, cuts) => {
        const stream = tokens.join('');
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.slice(from, p));
          from = p;
        }
        // A chunk that is exactly ESC is the Escape key by definition; keep ESC with what follows it.
        const joined = chunks.reduce<string[]>((acc, c) => {
          if (acc.length > 0 && acc[acc.length - 1] === '\x1b') acc[acc.length - 1] += c;
          else acc.push(c);
          return acc;
        }, []);
        fc.pre(joined[joined.length - 1] !== '\x1b');
        const whole = feedAll([stream]);
        const split = feedAll(joined);
        expect(mergeText(split.events)).toEqual(mergeText(whole.events));
        expect(split.state).toEqual(whole.state);
      }),
      { numRuns: 500 },
    );
  });
});
