import { describe, expect, it } from 'vitest';
import type { McEvent } from '../../src/core/types.js';
import { detailLines, eventLines } from '../../src/ui/detail-lines.js';
import { hintItems, packHints } from '../../src/ui/footer.js';
import { cellText, gridColumns, MARKER_WIDTH, screenLayout } from '../../src/ui/layout.js';
import { cellWidth, fit, shortAge, truncate, wrap } from '../../src/ui/text.js';
import { makeTheme, noColorRequested } from '../../src/ui/theme.js';
import { driftFinding, gridRow } from './rows.js';

const HOSTILE = 'a\x1b]52;c;ZXZpbA==\x07b\x1b[2Jc\rd\u009b31me';

describe('text cells', () => {
  it('measures wide and combining characters', () => {
    expect(cellWidth('abc')).toBe(3);
    expect(cellWidth('日本')).toBe(4);
    expect(cellWidth('e\u0301')).toBe(1);
  });

  it('truncates and pads to exact widths', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(fit('日本語テキスト', 6)).toBe('日本… ');
    expect(cellWidth(fit('日本語テキスト', 5))).toBe(5);
    expect(cellWidth(fit('日本語テキスト', 6))).toBe(6);
    expect(fit('7', 3, 'right')).toBe('  7');
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(shortAge(59_999)).toBe('59s');
    expect(shortAge(3 * 3600_000)).toBe('3h');
  });
});

describe('grid columns', () => {
  const rows = [
    gridRow({
      key: 'MC-123456',
      title: HOSTILE,
      state: 'in_progress',
      runtime: 'running',
      pid: 4194304,
      runtimeCreatedAt: 0,
      badge: 'NEEDS-OPERATOR',
    }),
    gridRow({ key: 'MC-1', title: '日本語のタイトル'.repeat(10) }),
  ];

  for (const width of [40, 60, 80, 120, 200]) {
    it(`lays out lines exactly ${width} columns wide`, () => {
      const cols = gridColumns(width, rows);
      for (const r of rows) {
        const line = ' '.repeat(MARKER_WIDTH) + cols.map((c) => cellText(r, c, 60_000)).join(' ');
        expect(cellWidth(line)).toBe(width);
      }
    });
  }

  it('keeps every column at 80 for usual rows and drops pid, then age, when the title gets too narrow', () => {
    const usual = [
      gridRow({ key: 'MC-120', state: 'in_progress', runtime: 'running', pid: 123456, badge: 'HIDDEN-LIVE' }),
    ];
    expect(gridColumns(80, usual).map((c) => c.id)).toEqual([
      'key',
      'title',
      'state',
      'runtime',
      'pid',
      'age',
      'attempts',
      'pending',
      'badge',
    ]);
    expect(gridColumns(80, usual).find((c) => c.id === 'title')!.width).toBeGreaterThanOrEqual(15);
    expect(gridColumns(60, rows).map((c) => c.id)).not.toContain('pid');
    expect(gridColumns(50, rows).map((c) => c.id)).not.toContain('age');
  });

  it('sanitizes the title: no ESC, C1 or CR reaches the cell', () => {
    const title = gridColumns(200, rows).find((c) => c.id === 'title')!;
    const text = cellText(rows[0]!, title, 0);
    expect(text).not.toMatch(/[\x1b\r\u0080-\u009f]/);
    expect(text).toContain('a');
  });

  it('shows the badge as words, and a question as NEEDS-INPUT', () => {
    const badge = gridColumns(80, rows).find((c) => c.id === 'badge')!;
    expect(cellText(rows[0]!, badge, 0).trim()).toBe('NEEDS-OPERATOR');
    expect(cellText(gridRow({ key: 'MC-2', humanInput: true }), badge, 0).trim()).toBe('NEEDS-INPUT');
  });

  it('fits header, grid and footer into 24 rows', () => {
    const l = screenLayout(80, 24);
    expect(l.lines).toBe(23);
    expect(l.gridRows).toBe(l.body - 1);
    expect(screenLayout(80, 5).gridRows).toBeGreaterThanOrEqual(1);
  });
});

describe('footer hints', () => {
  it('are generated from the keymap and fit two lines of 80, ending with help when cut', () => {
    const lines = packHints(hintItems('grid', false), 80, 2);
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const l of lines) expect(cellWidth(l)).toBeLessThanOrEqual(80);
    expect(lines.join(' ')).toContain('? help');
    expect(lines.join(' ')).toContain('p pickup');
    const narrow = packHints(hintItems('grid', false), 30, 2);
    expect(narrow[1]).toMatch(/\? help$/);
  });

  it('leave out mutating commands when read-only', () => {
    const items = hintItems('grid', true).join(' ');
    expect(items).not.toContain('pickup');
    expect(items).toContain('q quit');
  });
});

describe('detail lines', () => {
  const event: McEvent = {
    id: 1,
    at: 0,
    ticketKey: 'MC-1',
    runtimeId: 1,
    actor: 'auto',
    kind: 'reconcile.warning',
    status: 'warning',
    summary: `runtime dead ${HOSTILE}`,
    rootCause: 'pane %1 dead',
    safeRetry: 'next pass',
    stopCondition: 'blocked after 3',
    humanInputRequired: true,
    nextActions: ['adopt', 'retire'],
    artifacts: [],
  };

  it('render an event in the terminal-state shape', () => {
    const text = eventLines(event, 5000, 200)
      .map((l) => l.text)
      .join('\n');
    for (const field of [
      'status: warning',
      'summary:',
      'root_cause: pane %1 dead',
      'safe_retry: next pass',
      'stop_condition: blocked after 3',
      'human_input_required: yes',
      'next_actions: adopt; retire',
    ]) {
      expect(text).toContain(field);
    }
    expect(text).not.toMatch(/[\x1b\r\u0080-\u009f]/);
  });

  it('show body, runtimes, pane tail, findings and activity, sanitized', () => {
    const row = gridRow({ key: 'MC-1', badge: 'HIDDEN-LIVE', findings: [driftFinding('MC-1', 'HIDDEN-LIVE', true)] });
    const lines = detailLines(
      'MC-1',
      row,
      {
        detail: {
          ticket: {
            key: 'MC-1',
            title: HOSTILE,
            body: `line one\n${HOSTILE}`,
            status: 'todo',
            profile: 'demo',
            workerPid: null,
            attempts: 1,
            humanInputRequired: false,
            blockedReason: null,
            checkInSeconds: null,
            checkInAt: null,
            reviewChecks: null,
            reviewChecksAt: null,
            version: 3,
            createdAt: 0,
            updatedAt: 0,
          },
          runtimes: [],
          messages: [],
          events: [event],
        },
        pane: { ok: true, lines: [`demo> ${HOSTILE}`], status: 'idle' },
        error: null,
      },
      10_000,
      80,
    );
    const text = lines.map((l) => l.text).join('\n');
    for (const part of [
      'Body',
      'line one',
      'Runtimes',
      'Pane (screen: idle)',
      'demo>',
      'Findings',
      'HIDDEN-LIVE MC-1',
      'evidence: pane %1 alive',
      'action: adopt mc-MC-1',
      'Activity (newest first)',
    ]) {
      expect(text).toContain(part);
    }
    expect(text).not.toMatch(/[\x1b\r\u0080-\u009f]/);
  });
});

describe('NO_COLOR', () => {
  it('is honoured when set and not empty, and leaves no colour in the theme', () => {
    expect(noColorRequested({ NO_COLOR: '1' })).toBe(true);
    expect(noColorRequested({ NO_COLOR: '' })).toBe(false);
    expect(noColorRequested({})).toBe(false);
    const t = makeTheme(false);
    expect([t.state('blocked'), t.tone('error'), t.badge, t.dim]).toEqual([undefined, undefined, undefined, undefined]);
    expect(makeTheme(true).state('blocked')).toBe('red');
  });
});
