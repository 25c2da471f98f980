// The control-mode parser and argument quoting, pure: examples from real tmux 3.3a output, and a property test
// that cuts the byte stream anywhere (inside lines, inside multi-byte characters, with bytes that are not UTF-8).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ControlParser,
  controlCommandLine,
  controlModeSafe,
  outcomeOfBlock,
  quoteControlArg,
  type ControlEvent,
} from '../../src/probes/tmux-control-protocol.js';
import { PANE_FORMAT } from '../../src/probes/tmux-protocol.js';

function parseAll(chunks: Buffer[]): ControlEvent[] {
  const p = new ControlParser();
  return chunks.flatMap((c) => p.push(c));
}

describe('ControlParser', () => {
  it('reads blocks, notifications and %exit as tmux 3.3a writes them', () => {
    const text = [
      '%begin 1796005296 266 1',
      'mc-A 200x50 0',
      '%end 1796005296 266 1',
      '%begin 1796005296 268 1',
      "can't find pane: %99",
      '%error 1796005296 268 1',
      '%session-changed $0 mc-A',
      '%begin 1796005297 274 0',
      '%end 1796005297 274 0',
      '%exit',
      '',
    ].join('\n');
    expect(parseAll([Buffer.from(text)])).toEqual([
      { kind: 'block', flags: 1, ok: true, lines: ['mc-A 200x50 0'] },
      { kind: 'block', flags: 1, ok: false, lines: ["can't find pane: %99"] },
      { kind: 'notification', line: '%session-changed $0 mc-A' },
      { kind: 'block', flags: 0, ok: true, lines: [] },
      { kind: 'exit', reason: '' },
    ]);
  });

  it('keeps pane lines that look like guards or notifications as output', () => {
    const text = '%begin 5 7 1\n%end 5 8 1\n%exit\n%output %1 x\n\n%end 5 7 1\n%exit server exited\n';
    expect(parseAll([Buffer.from(text)])).toEqual([
      { kind: 'block', flags: 1, ok: true, lines: ['%end 5 8 1', '%exit', '%output %1 x', ''] },
      { kind: 'exit', reason: 'server exited' },
    ]);
  });

  it('calls a plain line outside a block garbage, and knows when it stopped mid-answer', () => {
    const p = new ControlParser();
    expect(p.push(Buffer.from('hello\n%begin 1 2 1\npartial'))).toEqual([{ kind: 'garbage', line: 'hello' }]);
    expect(p.midAnswer).toBe(true);
    p.push(Buffer.from('\n%end 1 2 1\n'));
    expect(p.midAnswer).toBe(false);
  });

  it('turns a block into the outcome the exec path returns', () => {
    expect(outcomeOfBlock({ ok: true, lines: ['a', ''] })).toEqual({ exitCode: 0, stdout: 'a\n\n', stderr: '' });
    expect(outcomeOfBlock({ ok: true, lines: [] })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(outcomeOfBlock({ ok: false, lines: ['no sessions'] })).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'no sessions\n',
    });
  });

  // A line of output: any bytes but LF; it must not equal the block's own closing guard.
  const lineBytes = fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a)));
  const item = fc.oneof(
    fc.record({
      kind: fc.constant('block' as const),
      flags: fc.constantFrom(0, 1),
      ok: fc.boolean(),
      lines: fc.array(
        fc.oneof(
          lineBytes,
          fc.constantFrom('%end 1 1 1', '%begin 9 9 1', '%exit', 'ü€😀').map((s) => Buffer.from(s)),
        ),
        { maxLength: 5 },
      ),
    }),
    fc.constantFrom('%sessions-changed', '%window-add @1').map((line) => ({ kind: 'notification' as const, line })),
  );

  it('parses the same events however the bytes are cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (items, cuts, exit) => {
          const parts: Buffer[] = [];
          const expected: ControlEvent[] = [];
          items.forEach((it, i) => {
            if (it.kind === 'notification') {
              parts.push(Buffer.from(`${it.line}\n`));
              expected.push(it);
              return;
            }
            const guard = `${1000 + i} ${i} ${it.flags}`;
            parts.push(Buffer.from(`%begin ${guard}\n`));
            for (const l of it.lines) parts.push(l, Buffer.from('\n'));
            parts.push(Buffer.from(`%${it.ok ? 'end' : 'error'} ${guard}\n`));
            expected.push({ ...it, lines: it.lines.map((l) => l.toString('utf8')) });
          });
          if (exit) {
            parts.push(Buffer.from('%exit detached\n'));
            expected.push({ kind: 'exit', reason: 'detached' });
          }
          const all = Buffer.concat(parts);
          const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const p of [...points, all.length]) {
            chunks.push(all.subarray(from, p));
            from = p;
          }
          expect(parseAll(chunks)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes a character split across chunks whole, and bytes that are not UTF-8 as U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('%begin 1 1 1\n'), Buffer.from('a😀b'), Buffer.from([0xff, 0x0a])]);
    const end = Buffer.from('%end 1 1 1\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const evs = parseAll([bytes.subarray(0, cut), bytes.subarray(cut), end]);
      expect(evs).toEqual([{ kind: 'block', flags: 1, ok: true, lines: ['a😀b\uFFFD'] }]);
    }
  });
});

describe('quoting for the control channel', () => {
  it('single-quotes plain arguments', () => {
    expect(controlCommandLine(['send-keys', '-t', '%3', 'C-c', 'Enter'])).toBe("'send-keys' '-t' '%3' 'C-c' 'Enter'");
    expect(quoteControlArg('')).toBe("''");
    expect(quoteControlArg('$HOME ~ "x" \\ #{a}; b')).toBe(`'$HOME ~ "x" \\ #{a}; b'`);
  });

  it('sends control bytes as octal escapes, so the list-panes format fits on one line', () => {
    expect(quoteControlArg('a\x1fb\nc')).toBe(`'a'"\\037"'b'"\\012"'c'`);
    const line = controlCommandLine(['list-panes', '-a', '-F', PANE_FORMAT]);
    expect(line).not.toBeNull();
    expect(line).not.toMatch(/[\x00-\x1f]/);
  });

  it("refuses what must not go over it: NUL, ', #( and a trailing ;", () => {
    for (const bad of ['a\0b', "it's", '#(rm -rf ~)', 'x;']) {
      expect(quoteControlArg(bad)).toBeNull();
      expect(controlCommandLine(['set-buffer', bad])).toBeNull();
    }
    expect(controlCommandLine([])).toBeNull();
  });
});

describe('controlModeSafe (tmux -V)', () => {
  it.each([
    ['tmux 3.3a\n', false],
    ['tmux 3.5a', false],
    ['tmux 3.6', false],
    ['tmux 3.7', true],
    ['tmux 3.7b', true],
    ['tmux next-3.7', true],
    ['tmux next-3.6', false],
    ['tmux 4.0', true],
    ['tmux 10.1', true],
    ['tmux master', false],
    ['tmux openbsd-7.5', false],
    ['', false],
    ['screen 4.09', false],
  ] as const)('%j -> %s', (version, safe) => {
    const v = controlModeSafe(version);
    expect(v.safe).toBe(safe);
    expect(v.why.length).toBeGreaterThan(0);
  });

  it('names the version and the upstream issue when it says no', () => {
    expect(controlModeSafe('tmux 3.3a').why).toMatch(/^tmux 3\.3a: before 3\.7 .*issue 4980/);
  });
});
