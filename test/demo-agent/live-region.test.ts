// The redrawn-in-place bottom of the demo agent's screen: exact control sequences for each geometry.
import { describe, expect, it } from 'vitest';
import { LiveRegion } from '../../src/demo-agent/live-region.js';
import { BOX_PROMPT, boxLines, footerLines, inputView } from '../../src/demo-agent/layouts.js';

function region(tty = true, columns = 10): { r: LiveRegion; out: string[] } {
  const out: string[] = [];
  return {
    r: new LiveRegion(
      (s) => out.push(s),
      tty,
      () => columns,
    ),
    out,
  };
}

describe('LiveRegion', () => {
  it('a one-line region is redrawn with \\r ESC[2K alone, lines print above it, release ends the line', () => {
    const { r, out } = region();
    r.draw(['demo> ']);
    r.print('hello');
    r.clear();
    r.clear(); // nothing shown: nothing written
    r.print('after');
    r.draw(['x']);
    r.release();
    expect(out).toEqual([
      '\r\x1b[2Kdemo> ',
      '\r\x1b[2Khello\ndemo> ',
      '\r\x1b[2K',
      '\r\x1b[2Kafter\n',
      '\r\x1b[2Kx',
      '\n',
    ]);
  });

  it('a taller region is erased from its first row, counting wrapped lines and the parked cursor', () => {
    const { r, out } = region(true, 10);
    // 'abcdefghijkl' wraps onto a second row: 4 rows in all; the cursor goes to line 1, column 3.
    r.draw(['top', 'abcdefghijkl', 'end'], { line: 2, col: 3 });
    expect(out.pop()).toBe('\r\x1b[2Ktop\nabcdefghijkl\nend\r\x1b[3C');
    r.print('above'); // cursor row 3 of 4: up 3, clear below; the cursor is parked again
    expect(out.pop()).toBe('\r\x1b[2K\x1b[3A\x1b[Jabove\ntop\nabcdefghijkl\nend\r\x1b[3C');
    r.draw(['a', 'b', 'c'], { line: 0, col: 0 });
    expect(out.pop()).toBe('\r\x1b[2K\x1b[3A\x1b[Ja\nb\nc\x1b[2A\r');
    r.release(); // down to the last row, then a fresh line
    expect(out.pop()).toBe('\x1b[2B\n');
    expect(r.shown).toBe(false);
  });

  it('without a terminal every drawn or printed line is written once, and nothing is erased', () => {
    const { r, out } = region(false);
    r.draw(['a', 'b'], { line: 0, col: 1 });
    r.print('c');
    r.clear();
    r.release();
    expect(out.join('')).toBe('a\nb\nc\n');
  });
});

describe('box layout pieces', () => {
  it('draws a box exactly as wide as the terminal, the text inside it and the cursor after the text', () => {
    const { lines, cursorCol } = boxLines(30, 'hello');
    expect(lines).toEqual([`╭${'─'.repeat(28)}╮`, `│ > hello${' '.repeat(19)} │`, `╰${'─'.repeat(28)}╯`]);
    for (const l of lines) expect(Array.from(l)).toHaveLength(30);
    expect(cursorCol).toBe(BOX_PROMPT.length + 5);
    expect(boxLines(30, '').lines[1]).toMatch(/^│ > +│$/);
  });

  it('shows the tail of long or multi-line input on one line, with control characters inert', () => {
    const { lines } = boxLines(20, `first\nsecond line that is long\t\x1b`);
    expect(lines[1]).toBe('│ > …at is long  ? │');
    expect(inputView('a\nb', 10)).toBe('a⏎b');
  });

  it('has the footers real agents show under the box', () => {
    expect(footerLines('shortcuts')).toEqual(['  ? for shortcuts']);
    expect(footerLines('both')).toEqual(['  ? for shortcuts', '  ⏵⏵ bypass permissions on (shift+tab to cycle)']);
    expect(footerLines('bypass')).toHaveLength(1);
    expect(footerLines('none')).toEqual([]);
  });
});
