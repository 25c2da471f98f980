// Pure statistics and table formatting for `npm run bench`: no I/O, no clocks, so every figure's arithmetic
// and the printed table are unit-tested (test/bench/stats.test.ts).

/** A figure as the bench reports it: the median of repeated runs with their spread. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p95: number;
}

/** Quantile `q` (0..1) of ascending `sorted` values, linearly interpolated between ranks (R-7, as numpy). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Median, min, max and p95 of samples; NaNs are ignored, and an empty set summarizes to NaN with n = 0. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = samples.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted.length ? (sorted[0] as number) : Number.NaN,
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    p95: quantile(sorted, 0.95),
  };
}

/** Ratios a[i] / b[i] of runs measured side by side (interleaved), so drift of the machine cancels out. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x / (b[i] as number));
}

/** A number with about three significant digits, thousands separated: 0.0123, 1.23, 12.3, 123, 12,345. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '-' : x > 0 ? 'inf' : '-inf';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

export type Comparison = '<=' | '<' | '>=' | '>';

/** A target a figure is held to; `of` says which statistic is compared (the median unless told). */
export interface Target {
  op: Comparison;
  limit: number;
  of?: 'median' | 'p95';
}

/** SKIP: the figure could not be measured this run (the reason is in the row's note). */
export type Verdict = 'PASS' | 'MISS' | 'SKIP';

/** Whether `value` meets the target. NaN (a run that measured nothing) never passes. */
export function verdictOf(value: number, t: Target): Exclude<Verdict, 'SKIP'> {
  if (Number.isNaN(value)) return 'MISS';
  switch (t.op) {
    case '<=':
      return value <= t.limit ? 'PASS' : 'MISS';
    case '<':
      return value < t.limit ? 'PASS' : 'MISS';
    case '>=':
      return value >= t.limit ? 'PASS' : 'MISS';
    case '>':
      return value > t.limit ? 'PASS' : 'MISS';
    default: {
      const never: never = t.op;
      throw new Error(`unhandled comparison ${String(never)}`);
    }
  }
}

/** One line of the results table (and one entry of the JSON). */
export interface ResultRow {
  section: string;
  name: string;
  unit: string;
  /** null when the figure could not be measured; `note` then says why. */
  summary: Summary | null;
  /** Show the p95 column (latencies). */
  showP95?: boolean;
  target?: Target;
  verdict?: Verdict;
  note?: string;
}

/** Build a row, judging it against its target when one is given. */
export function resultRow(r: Omit<ResultRow, 'verdict'>): ResultRow {
  if (!r.target) return r;
  if (!r.summary) return { ...r, verdict: 'SKIP' };
  return { ...r, verdict: verdictOf(r.target.of === 'p95' ? r.summary.p95 : r.summary.median, r.target) };
}

/** A figure that could not be measured: no summary, the reason, and SKIP when it had a target. */
export function skippedRow(section: string, name: string, unit: string, why: string, target?: Target): ResultRow {
  return resultRow({ section, name, unit, summary: null, note: `not measured: ${why}`, ...(target ? { target } : {}) });
}

function targetText(r: ResultRow): string {
  if (!r.target) return '';
  const of = r.target.of === 'p95' ? 'p95 ' : '';
  return `${of}${r.target.op} ${fmt(r.target.limit)}${r.unit === 'x' ? 'x' : ` ${r.unit}`}`;
}

/** Lay out cells in columns: the first `leftColumns` columns left-aligned, the rest right-aligned. */
export function renderColumns(rows: readonly (readonly string[])[], leftColumns = 1): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) =>
    row
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd(),
  );
}

const HEADERS = ['measure', 'unit', 'median', 'min', 'max', 'p95', 'n', 'target', 'result'];

/** The results table: one block per section, a rule under the headers, notes indented under their row. */
export function renderTable(rows: readonly ResultRow[]): string {
  const cells: string[][] = [HEADERS];
  const notes = new Map<number, string>();
  const sectionAt = new Map<number, string>();
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      sectionAt.set(cells.length, section);
    }
    const s = r.summary;
    cells.push([
      `  ${r.name}`,
      r.unit,
      s ? fmt(s.median) : '-',
      s ? fmt(s.min) : '-',
      s ? fmt(s.max) : '-',
      s && r.showP95 ? fmt(s.p95) : '',
      s ? String(s.n) : '',
      targetText(r),
      r.verdict ?? '',
    ]);
    if (r.note) notes.set(cells.length - 1, r.note);
  }
  const lines = renderColumns(cells, 2);
  const width = Math.max(...lines.map((l) => l.length));
  const out: string[] = [lines[0] as string, '-'.repeat(width)];
  lines.slice(1).forEach((line, i) => {
    const at = i + 1;
    const title = sectionAt.get(at);
    if (title !== undefined) out.push(title);
    out.push(line);
    const note = notes.get(at);
    if (note) out.push(`      ${note}`);
  });
  return out.join('\n');
}

/** Parts of a total (rows) at several sizes (columns), in ms, with each part's share at the largest size. */
export function renderBreakdown(
  sizes: readonly { label: string; totalMs: number; parts: ReadonlyMap<string, number> }[],
): string {
  const names: string[] = [];
  for (const s of sizes) for (const name of s.parts.keys()) if (!names.includes(name)) names.push(name);
  const last = sizes[sizes.length - 1];
  const share = (ms: number | undefined) =>
    last && ms !== undefined && last.totalMs > 0 ? `${Math.round((ms / last.totalMs) * 100)}%` : '';
  const cells: string[][] = [['part (median ms per pass)', ...sizes.map((s) => s.label), 'share']];
  for (const name of names) {
    const at = sizes.map((s) => s.parts.get(name));
    cells.push([`  ${name}`, ...at.map((ms) => (ms === undefined ? '-' : fmt(ms))), share(last?.parts.get(name))]);
  }
  cells.push(['  total pass (instrumented)', ...sizes.map((s) => fmt(s.totalMs)), last ? '100%' : '']);
  const lines = renderColumns(cells, 1);
  return [lines[0] as string, '-'.repeat(Math.max(...lines.map((l) => l.length))), ...lines.slice(1)].join('\n');
}
