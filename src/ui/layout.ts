import type { GridRow } from '../core/console-model.js';
import { cell, fit, shortAge } from './text.js';

// Screen geometry and grid columns, computed from the terminal size on every render so a resize re-lays
// out everything. The whole screen is one line shorter than the terminal: Ink clears and redraws the full
// terminal when its output reaches the last row, which flickers badly over SSH.

export const HEADER_LINES = 3;
export const FOOTER_LINES = 3;

export interface ScreenLayout {
  columns: number;
  /** Lines the console draws (terminal rows minus one). */
  lines: number;
  /** Lines between header and footer. */
  body: number;
  /** Grid rows on screen (the body minus the column header line). */
  gridRows: number;
}

/** The layout with `extra` more header lines (one per host, a banner per UNREACHABLE host), taken from the body. */
export function withHeaderLines(layout: ScreenLayout, extra: number): ScreenLayout {
  if (extra <= 0) return layout;
  const body = Math.max(2, layout.body - extra);
  return { ...layout, body, gridRows: Math.max(1, body - 1) };
}

/** Geometry for a terminal of `columns` x `rows`. */
export function screenLayout(columns: number, rows: number): ScreenLayout {
  const cols = Math.max(20, Math.floor(columns) || 80);
  const lines = Math.max(HEADER_LINES + FOOTER_LINES + 2, (Math.floor(rows) || 24) - 1);
  const body = lines - HEADER_LINES - FOOTER_LINES;
  return { columns: cols, lines, body, gridRows: Math.max(1, body - 1) };
}

export type ColumnId =
  'key' | 'title' | 'state' | 'runtime' | 'host' | 'pid' | 'age' | 'attempts' | 'pending' | 'badge';

export interface Column {
  id: ColumnId;
  label: string;
  width: number;
  align: 'left' | 'right';
}

/** Width of the selection marker (`> `) at the start of each grid line. */
export const MARKER_WIDTH = 2;
const MIN_TITLE = 12;
/** Dropped in this order when the title would get narrower than MIN_TITLE. */
const DROPPABLE: readonly ColumnId[] = ['pid', 'age', 'pending', 'attempts', 'host'];
/** The HOST column is narrow: a long host id is cut (the detail view has all of it). */
const MAX_HOST = 10;
const SHRINKABLE: readonly ColumnId[] = ['badge', 'state', 'runtime', 'key'];
const MIN_TITLE_TINY = 4;

/** What the badge column says: the drift class, or that the agent asked a human. */
export function badgeText(row: GridRow): string {
  if (row.badge) return row.badge;
  return row.humanInput ? 'NEEDS-INPUT' : '';
}

/**
 * Columns for the visible rows at this width; every width is exact, so lines are exactly `width` wide. The HOST
 * column is there only when the store has more than one host: one-host operators keep today's columns.
 */
export function gridColumns(width: number, visible: readonly GridRow[], opts: { hosts?: boolean } = {}): Column[] {
  let keyW = 3;
  let pidW = 3;
  let badgeW = 5;
  let hostW = 4;
  for (const r of visible) {
    keyW = Math.max(keyW, r.key.length);
    pidW = Math.max(pidW, String(r.pid ?? '').length);
    badgeW = Math.max(badgeW, badgeText(r).length);
    hostW = Math.max(hostW, (r.host ?? '').length);
  }
  let cols: Column[] = [
    { id: 'key', label: 'KEY', width: keyW, align: 'left' },
    { id: 'title', label: 'TITLE', width: 0, align: 'left' },
    { id: 'state', label: 'STATE', width: 11, align: 'left' },
    { id: 'runtime', label: 'RUNTIME', width: 8, align: 'left' },
    ...(opts.hosts === true
      ? [{ id: 'host', label: 'HOST', width: Math.min(hostW, MAX_HOST), align: 'left' } satisfies Column]
      : []),
    { id: 'pid', label: 'PID', width: pidW, align: 'right' },
    { id: 'age', label: 'AGE', width: 4, align: 'right' },
    { id: 'attempts', label: 'ATT', width: 3, align: 'right' },
    { id: 'pending', label: 'PEND', width: 4, align: 'right' },
    { id: 'badge', label: 'DRIFT', width: Math.min(badgeW, 16), align: 'left' },
  ];
  const titleWidth = (cs: Column[]) =>
    width - MARKER_WIDTH - cs.reduce((n, c) => n + (c.id === 'title' ? 0 : c.width), 0) - (cs.length - 1);
  for (const drop of DROPPABLE) {
    if (titleWidth(cols) >= MIN_TITLE) break;
    cols = cols.filter((c) => c.id !== drop);
  }
  // Still too narrow (a tiny terminal): shrink the widest fixed columns, down to 3 columns each.
  for (const id of SHRINKABLE) {
    const over = MIN_TITLE_TINY - titleWidth(cols);
    if (over <= 0) break;
    cols = cols.map((c) => (c.id === id ? { ...c, width: Math.max(3, c.width - over) } : c));
  }
  const tw = Math.max(1, titleWidth(cols));
  return cols.map((c) => (c.id === 'title' ? { ...c, width: tw } : c));
}

/** The age column's text at `now`: the only cell that moves with the clock. */
export function ageText(row: GridRow, now: number): string {
  return row.runtimeCreatedAt === null ? '-' : shortAge(now - row.runtimeCreatedAt);
}

/** The text of one cell: sanitized, cut and padded to the column. */
export function cellText(row: GridRow, col: Column, now: number): string {
  return fit(rawCell(row, col.id, now), col.width, col.align);
}

function rawCell(row: GridRow, id: ColumnId, now: number): string {
  switch (id) {
    case 'key':
      return row.key;
    case 'title':
      return cell(row.title, Number.MAX_SAFE_INTEGER);
    case 'state':
      return row.state;
    case 'runtime':
      return row.runtime;
    case 'host':
      return row.host ?? '-';
    case 'pid':
      return row.pid === null ? '-' : String(row.pid);
    case 'age':
      return ageText(row, now);
    case 'attempts':
      return String(row.attempts);
    case 'pending':
      return String(row.pending);
    case 'badge':
      return badgeText(row);
    default: {
      const never: never = id;
      throw new Error(`unhandled column ${String(never)}`);
    }
  }
}

/** The column header line's cells. */
export function headerCells(cols: readonly Column[]): string[] {
  return cols.map((c) => fit(c.label, c.width, c.align));
}
