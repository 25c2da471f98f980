import { exitCodeOf, type Failure } from '../core/result.js';
import { sanitizeHead, sanitizeLineHead } from '../core/sanitize.js';
import { cellWidth, truncate } from '../ui/text.js';

// Everything the CLI prints goes through here: human text sanitized (untrusted titles, bodies and pane
// lines never reach the terminal with control sequences), JSON escaped but intact.

export interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processOut: Out = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/**
 * JSON with every control character escaped: C1, DEL, separators and bidi controls included (JSON.stringify
 * leaves those raw, and a terminal showing the JSON would act on them). The parsed value is unchanged.
 */
export function toJson(value: unknown, pretty = true): string {
  const text = JSON.stringify(value, null, pretty ? 2 : undefined);
  return text.replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The most of one untrusted value a human line shows; `--json` has all of it. */
export const MAX_LINE_CHARS = 4096;

/** One line of human output, made safe; a longer one is cut, and says so. */
export function line(out: Out, text: string): void {
  // A CR just before the LF this adds is a CRLF line end (a body line from a Windows editor), not an overwrite.
  const head = sanitizeHead(text.endsWith('\r') ? text.slice(0, -1) : text, MAX_LINE_CHARS);
  const note = head.cut ? `… (cut: ${text.length} characters; --json has them all)` : '';
  out.stdout(`${head.text}${note}\n`);
}

/** A table cell of `width` terminal columns: one line, safe, cut (wide characters count twice) and padded. */
export function cell(text: string, width: number): string {
  const head = sanitizeLineHead(text, 2 * width + 64);
  const s = truncate(head.text, width, head.cut);
  return s + ' '.repeat(Math.max(0, width - cellWidth(s)));
}

/** Print a failure on stderr and return its exit code (2 usage, 3 conflict, 4 not found, 1 otherwise). */
export function failWith(out: Out, f: Failure): number {
  const head = sanitizeHead(f.message, 4 * MAX_LINE_CHARS);
  out.stderr(`mcc: ${head.text}${head.cut ? '…' : ''}\n`);
  return exitCodeOf(f.code);
}

export function ago(ms: number | null, now: number): string {
  if (ms === null) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
