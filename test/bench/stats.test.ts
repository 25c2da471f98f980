import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  fmt,
  pairedRatios,
  quantile,
  renderBreakdown,
  renderColumns,
  renderTable,
  resultRow,
  skippedRow,
  summarize,
  verdictOf,
} from '../../src/bench/stats.js';
import { parseStatTimes, parseStatusKb, treeTicks } from '../../src/bench/proc.js';

describe('quantile and summarize', () => {
  it('interpolates between ranks (R-7): the median of an even count is the mean of the middle two', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3], 0.5)).toBe(2);
    expect(quantile([10, 20], 0.95)).toBeCloseTo(19.5);
  });

  it('clamps q and answers NaN for no samples', () => {
    expect(quantile([1, 2], -1)).toBe(1);
    expect(quantile([1, 2], 2)).toBe(2);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('sorts its input, ignores NaN, and reports n', () => {
    const s = summarize([5, 1, Number.NaN, 3, 2, 4]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5 });
    expect(s.p95).toBeCloseTo(4.8);
  });

  it('summarizes a single run as itself', () => {
    expect(summarize([7])).toEqual({ n: 1, median: 7, min: 7, max: 7, p95: 7 });
  });

  it('summarizes nothing as NaN with n = 0', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
    expect(s.min).toBeNaN();
  });
});

describe('pairedRatios', () => {
  it('divides run by run', () => {
    expect(pairedRatios([10, 30], [5, 10])).toEqual([2, 3]);
  });

  it('refuses samples of different lengths (they were not measured side by side)', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(RangeError);
  });
});

describe('fmt', () => {
  it.each([
    [0, '0'],
    [0.01234, '0.012'],
    [1.234, '1.23'],
    [12.34, '12.3'],
    [123.4, '123'],
    [12345.6, '12,346'],
    [-2.5, '-2.50'],
    [Number.NaN, '-'],
    [Number.POSITIVE_INFINITY, 'inf'],
  ])('%s -> %s', (x, text) => {
    expect(fmt(x)).toBe(text);
  });
});

describe('verdicts', () => {
  it('compares with each operator, at the limit too', () => {
    expect(verdictOf(2, { op: '<=', limit: 2 })).toBe('PASS');
    expect(verdictOf(2, { op: '<', limit: 2 })).toBe('MISS');
    expect(verdictOf(50, { op: '>=', limit: 50 })).toBe('PASS');
    expect(verdictOf(50, { op: '>', limit: 50 })).toBe('MISS');
  });

  it('never passes NaN', () => {
    expect(verdictOf(Number.NaN, { op: '<=', limit: 2 })).toBe('MISS');
    expect(verdictOf(Number.NaN, { op: '>=', limit: 0 })).toBe('MISS');
  });

  it('judges the median unless the target names p95', () => {
    const summary = summarize([10, 10, 10, 10, 10, 10, 10, 10, 10, 100]);
    expect(resultRow({ section: 's', name: 'm', unit: 'ms', summary, target: { op: '<', limit: 50 } }).verdict).toBe(
      'PASS',
    );
    expect(
      resultRow({ section: 's', name: 'p', unit: 'ms', summary, target: { op: '<', limit: 50, of: 'p95' } }).verdict,
    ).toBe('MISS');
  });

  it('leaves rows without a target unjudged, and marks an unmeasured target SKIP with its reason', () => {
    expect(resultRow({ section: 's', name: 'x', unit: 'ms', summary: summarize([1]) }).verdict).toBeUndefined();
    const skipped = skippedRow('s', 'x', 'ms', 'console not built', { op: '<', limit: 1 });
    expect(skipped.verdict).toBe('SKIP');
    expect(skipped.note).toBe('not measured: console not built');
  });
});

describe('renderColumns', () => {
  it('pads left columns on the right and the rest on the left, without trailing blanks', () => {
    expect(
      renderColumns(
        [
          ['a', 'bb', '1'],
          ['ccc', 'd', '22'],
        ],
        2,
      ),
    ).toEqual(['a    bb   1', 'ccc  d   22']);
  });
});

describe('renderTable', () => {
  const rows = [
    resultRow({
      section: '1. Pass',
      name: 'pass / floor',
      unit: 'x',
      summary: summarize([1.5, 1.7, 1.6]),
      target: { op: '<=', limit: 2 },
    }),
    resultRow({ section: '1. Pass', name: 'pass', unit: 'ms', summary: summarize([10, 12, 11]) }),
    resultRow({
      section: '3. Console',
      name: 'key',
      unit: 'ms',
      summary: summarize([5, 6, 80]),
      showP95: true,
      target: { op: '<', limit: 50, of: 'p95' },
      note: 'a note',
    }),
    skippedRow('3. Console', 'idle CPU', '% core', 'not built', { op: '<', limit: 3 }),
  ];
  const lines = renderTable(rows).split('\n');

  it('prints headers, a rule, each section title once, and its rows under it', () => {
    expect(lines[0]).toMatch(/^measure\s+unit\s+median\s+min\s+max\s+p95\s+n\s+target\s+result$/);
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines.filter((l) => l === '1. Pass')).toHaveLength(1);
    expect(lines.indexOf('3. Console')).toBeGreaterThan(lines.indexOf('1. Pass'));
  });

  it('shows median, min, max, n, target and verdict on the row', () => {
    const ratio = lines.find((l) => l.includes('pass / floor'));
    expect(ratio).toMatch(/1\.60\s+1\.50\s+1\.70\s+3\s+<= 2\.00x\s+PASS$/);
  });

  it('shows p95 only where asked, with the p95 target spelled out', () => {
    expect(lines.find((l) => l.trim().startsWith('key'))).toMatch(/p95 < 50\.0 ms\s+MISS$/);
    expect(lines.find((l) => l.trim().startsWith('pass ') && !l.includes('/'))).not.toMatch(/PASS|MISS/);
  });

  it('puts a note on the line under its row, and dashes where nothing was measured', () => {
    const key = lines.findIndex((l) => l.trim().startsWith('key'));
    expect(lines[key + 1]?.trim()).toBe('a note');
    const idle = lines.find((l) => l.includes('idle CPU'));
    expect(idle).toMatch(/% core\s+-\s+-\s+-/);
    expect(idle).toMatch(/SKIP$/);
  });
});

describe('renderBreakdown', () => {
  it('lists each part per size and its share of the largest size', () => {
    const text = renderBreakdown([
      {
        label: '10',
        totalMs: 5,
        parts: new Map([
          ['exec', 4],
          ['diagnose', 1],
        ]),
      },
      {
        label: '1000',
        totalMs: 50,
        parts: new Map([
          ['exec', 40],
          ['diagnose', 10],
        ]),
      },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^part \(median ms per pass\)\s+10\s+1000\s+share$/);
    expect(lines.find((l) => l.includes('exec'))).toMatch(/4\.00\s+40\.0\s+80%$/);
    expect(lines.find((l) => l.includes('total'))).toMatch(/5\.00\s+50\.0\s+100%$/);
  });
});

describe('/proc parsing', () => {
  const stat = (comm: string) =>
    `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 120 30 7 3 20 0 1 0 555 1000 200 18446744073709551615`;

  it('reads ppid and cpu ticks after the last `)`, whatever the command name holds', () => {
    expect(parseStatTimes(stat('node'))).toEqual({ pid: 4242, ppid: 1, own: 150, reaped: 10 });
    expect(parseStatTimes(stat('a) S 9 (b'))).toEqual({ pid: 4242, ppid: 1, own: 150, reaped: 10 });
  });

  it('rejects text that is not a stat line', () => {
    expect(parseStatTimes('garbage')).toBeNull();
    expect(parseStatTimes('12 (x) S')).toBeNull();
  });

  it('reads kB fields of /proc/PID/status in MiB', () => {
    expect(parseStatusKb('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t 1024 kB\n', 'VmHWM')).toBe(200);
    expect(parseStatusKb('Name:\tnode\n', 'VmHWM')).toBeNull();
  });

  it('counts a grandchild under its parent, as a control client runs under its sh watchdog', async () => {
    // root sh -> sh (no exec: more follows the sleep) -> sleep.
    const root = spawn('/bin/sh', ['-c', '/bin/sh -c "sleep 30; exit 0" & wait'], {
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((r) => root.once('exit', r));
    const pid = root.pid as number;
    try {
      const deadline = Date.now() + 5000;
      let tree = treeTicks(pid);
      while (!tree?.descendants.includes('sleep') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        tree = treeTicks(pid);
      }
      expect(tree?.descendants.sort()).toEqual(['sh', 'sleep']);
      expect(tree?.own).toBeGreaterThanOrEqual(0);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
    await exited;
  });

  it('is null once the root is gone', () => {
    expect(treeTicks(2 ** 22 + 1)).toBeNull();
  });
});
