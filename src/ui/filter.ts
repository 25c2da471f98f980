import type { GridRow } from '../core/console-model.js';
import { TICKET_STATUSES, type TicketStatus } from '../core/types.js';

// The `/` filter: free text matched against key, title and badge, plus `state:` and `drift:` tokens.
// `state:in_progress` (or an unambiguous part of it, `state:prog`), `drift:DYING`, `drift:any`, `drift:none`. Tokens of
// the same kind are alternatives (OR); different kinds and free words must all hold (AND).

export interface ParsedFilter {
  words: string[];
  states: TicketStatus[];
  /** Upper-cased drift classes, or the special `ANY` / `NONE`. */
  drifts: string[];
  /** Tokens that name nothing known, reported on the status line. */
  problems: string[];
}

function stateOf(value: string): TicketStatus | null {
  const v = value.toLowerCase().replace(/-/g, '_');
  const exact = TICKET_STATUSES.find((s) => s === v);
  if (exact) return exact;
  const prefixed = TICKET_STATUSES.filter((s) => s.includes(v));
  return prefixed.length === 1 ? (prefixed[0] as TicketStatus) : null;
}

/** Split filter text into free words and `state:` / `drift:` tokens. */
export function parseFilter(text: string): ParsedFilter {
  const out: ParsedFilter = { words: [], states: [], drifts: [], problems: [] };
  for (const token of text.trim().split(/\s+/)) {
    if (token === '') continue;
    const m = /^(state|drift):(.*)$/i.exec(token);
    if (!m) {
      out.words.push(token.toLowerCase());
      continue;
    }
    const kind = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    if (kind === 'state') {
      const s = stateOf(value);
      if (s) out.states.push(s);
      else out.problems.push(`state:${value} names no state (${TICKET_STATUSES.join(', ')})`);
    } else if (value === '') {
      out.problems.push('drift: needs a class, any or none');
    } else {
      out.drifts.push(value.toUpperCase());
    }
  }
  return out;
}

function matchesDrift(row: GridRow, drifts: string[]): boolean {
  if (drifts.length === 0) return true;
  const badge = row.badge?.toUpperCase() ?? null;
  return drifts.some((d) => {
    if (d === 'ANY') return badge !== null;
    if (d === 'NONE') return badge === null;
    return badge !== null && (badge === d || badge.startsWith(`${d} `) || row.findings.some((f) => f.drift === d));
  });
}

/** Whether one row passes a parsed filter. */
export function matchesFilter(row: GridRow, f: ParsedFilter): boolean {
  if (f.states.length > 0 && !f.states.includes(row.state)) return false;
  if (!matchesDrift(row, f.drifts)) return false;
  if (f.words.length === 0) return true;
  const hay = `${row.key} ${row.title} ${row.badge ?? ''}`.toLowerCase();
  return f.words.every((w) => hay.includes(w));
}

/** The rows a filter text keeps, in their original (attention) order. */
export function applyFilter(rows: readonly GridRow[], text: string): GridRow[] {
  const f = parseFilter(text);
  if (f.words.length === 0 && f.states.length === 0 && f.drifts.length === 0) return [...rows];
  return rows.filter((r) => matchesFilter(r, f));
}
