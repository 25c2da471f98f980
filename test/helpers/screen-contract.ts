// A small reference implementation of the readiness contract (issue 9) that the profile fixtures are judged
// by, until `readScreen` in src/core/screen.ts implements it; then the tests import that one instead.
import type { AgentProfileInput } from '../../src/core/profiles.js';

export type ContractStatus = 'blocked' | 'running' | 'waiting' | 'idle';

export const CONTRACT_DEFAULTS = { promptLines: 4, tailLines: 15, quietMs: 1500 };

export interface CompiledContractProfile {
  ready: RegExp | null;
  busy: RegExp | null;
  question: RegExp | null;
  blocked: RegExp | null;
  promptLines: number;
  tailLines: number;
  quietMs: number;
}

/** Compile a profile's sources as the contract says: one line at a time, no flags. */
export function compileContract(p: AgentProfileInput): CompiledContractProfile {
  const re = (s: string | undefined) => (s === undefined ? null : new RegExp(s));
  return {
    ready: re(p.ready),
    busy: re(p.busy),
    question: re(p.question),
    blocked: re(p.blocked),
    promptLines: p.promptLines ?? CONTRACT_DEFAULTS.promptLines,
    tailLines: p.tailLines ?? CONTRACT_DEFAULTS.tailLines,
    quietMs: p.quietMs ?? CONTRACT_DEFAULTS.quietMs,
  };
}

function lastIndexMatching(lines: readonly string[], re: RegExp | null, from: number): number {
  if (!re) return -1;
  for (let i = lines.length - 1; i >= from; i--) if (re.test(lines[i] ?? '')) return i;
  return -1;
}

/**
 * Status of a captured screen. `quietForMs` is how long the screen has been unchanged (null = unknown).
 * null = cannot tell (e.g. a typed draft in the input line).
 */
export function readScreen(
  raw: readonly string[],
  profile: CompiledContractProfile,
  quietForMs: number | null,
): ContractStatus | null {
  const lines = raw.map((l) => l.replace(/\s+$/, '')).filter((l) => l.length > 0);
  if (lines.length === 0) return null;
  const tailFrom = Math.max(0, lines.length - profile.tailLines);
  if (lastIndexMatching(lines, profile.blocked, tailFrom) >= 0) return 'blocked';
  const ready = lastIndexMatching(lines, profile.ready, Math.max(0, lines.length - profile.promptLines));
  const busy = lastIndexMatching(lines, profile.busy, tailFrom);
  const changing = quietForMs === null || quietForMs < profile.quietMs;
  if (busy >= 0 && (busy > ready || changing)) return 'running';
  if (ready < 0) return null;
  const question = lastIndexMatching(lines, profile.question, Math.max(tailFrom, busy + 1));
  return question >= 0 ? 'waiting' : 'idle';
}
