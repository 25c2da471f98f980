import type { Profile } from './config.js';
import type { RuntimeStatus } from './types.js';

// Reading an agent's screen: its status from the profile's patterns, and the DONE:/REVIEW:/QUESTION:
// markers it prints. Pure functions over captured lines.

const TAIL_LINES = 15;

export type ScreenStatus = Extract<RuntimeStatus, 'running' | 'idle' | 'waiting'>;

function nonEmpty(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/\s+$/, '')).filter((l) => l.length > 0);
}

/**
 * Status shown by a pane: busy wins (an agent that is working is never "ready", whatever else shows), then
 * a question in the last lines, then the ready pattern on the last non-empty line. null = cannot tell.
 */
export function classifyScreen(lines: readonly string[], profile: Profile): ScreenStatus | null {
  const tail = nonEmpty(lines).slice(-TAIL_LINES);
  if (tail.length === 0) return null;
  const text = tail.join('\n');
  if (profile.busy?.test(text)) return 'running';
  const last = tail[tail.length - 1] ?? '';
  if (profile.ready?.test(last)) {
    const recent = tail.slice(-3).join('\n');
    return profile.question?.test(recent) ? 'waiting' : 'idle';
  }
  // Neither busy nor ready (e.g. a typed but unsubmitted draft): say so rather than guess.
  return null;
}

export type MarkerKind = 'DONE' | 'REVIEW' | 'QUESTION';

export interface Marker {
  kind: MarkerKind;
  line: string;
  /** Stable id of this marker line, stored on the runtime row so it acts once. */
  fingerprint: string;
}

const MARKER_RE = /^(DONE|REVIEW|QUESTION):(.*)$/;

function fingerprintOf(line: string): string {
  // FNV-1a: short, stable, no crypto import in core.
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    h ^= line.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${line.slice(0, 12)}#${h.toString(16)}`;
}

/**
 * The newest marker line on screen that is not an echo of text we sent. A marker counts only at the very
 * start of a line; a line identical to a line of the prompt (the seed's own prompt names DONE:/REVIEW:)
 * is an echo and never counts. Returns null when there is none or it already acted (`lastFingerprint`).
 */
export function findMarker(
  lines: readonly string[],
  sentTexts: readonly string[],
  lastFingerprint: string | null,
): Marker | null {
  const echoed = new Set<string>();
  for (const t of sentTexts) for (const l of t.split(/\r?\n/)) if (l.trim()) echoed.add(l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').replace(/\s+$/, '');
    const m = MARKER_RE.exec(line);
    if (!m || echoed.has(line.trim())) continue;
    const fingerprint = fingerprintOf(line);
    if (fingerprint === lastFingerprint) return null;
    return { kind: m[1] as MarkerKind, line, fingerprint };
  }
  return null;
}
