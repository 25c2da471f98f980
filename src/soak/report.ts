// The soak report: what was injected, what was checked, what broke, as text and as JSON.
import { INVARIANTS, type InvariantName, type MessageTally, type Violation } from './invariants.js';
import type { FaultKind } from './journal.js';
import type { OperatorError } from './operators.js';

export interface SoakReport {
  seed: number;
  minutes: number;
  durationMs: number;
  tickets: { created: number; byStatus: Record<string, number> };
  faults: Record<FaultKind, number>;
  skippedFaults: Partial<Record<FaultKind, string>>;
  faultLog: { kind: FaultKind; at: string; detail: string }[];
  checks: Record<InvariantName, number>;
  checksRun: number;
  violations: Violation[];
  messages: MessageTally;
  worstDriftAfterTtlMs: number;
  worstDrift: string;
  /** Longest time between two passes of a running daemon (a loaded machine stretches them). */
  longestPassGapMs: number;
  daemonRecoveryMs: (number | null)[];
  operatorCommands: number;
  races: string[];
  unexpectedOperatorExits: OperatorError[];
  /** Agents that died with no injected fault or operator command, found dead by mcc (not killed by it). */
  foundDead: string[];
  storeOnTmpfs: boolean;
  /** Our private tmux socket: after the run no process may name it. */
  socket: string;
}

const sec = (ms: number | null): string => (ms === null ? 'none' : `${(ms / 1000).toFixed(1)}s`);

/** The report as the terminal shows it. */
export function formatReport(r: SoakReport): string {
  const lines: string[] = [];
  lines.push(`mcc soak: seed ${r.seed}, ${r.minutes} min (${sec(r.durationMs)} incl. settling)`);
  lines.push(
    `tickets: ${r.tickets.created} created; ${Object.entries(r.tickets.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
  );
  lines.push('faults injected:');
  for (const [kind, n] of Object.entries(r.faults)) {
    const skip = r.skippedFaults[kind as FaultKind];
    lines.push(`  ${kind.padEnd(14)} ${skip ? `skipped: ${skip}` : n}`);
  }
  lines.push(`invariant checks run: ${r.checksRun}`);
  for (const [name, n] of Object.entries(r.checks))
    lines.push(`  ${name.padEnd(32)} ${String(n).padStart(5)}  ${INVARIANTS[name as InvariantName]}`);
  const m = r.messages;
  lines.push(
    `messages: queued ${m.queued}, delivered ${m.delivered}, pending ${m.pending}, cancelled ${m.cancelled}, lost ${m.lost}, doubled ${m.doubled}` +
      (m.diedWithAgent > 0 ? ` (${m.diedWithAgent} sent just before their agent was killed)` : '') +
      (m.redelivered > 0 ? `; ${m.redelivered} redelivered to the ticket's next agent (the first died first)` : ''),
  );
  lines.push(
    `longest drift unhealed after its TTL: ${sec(Math.max(0, r.worstDriftAfterTtlMs))}${r.worstDrift ? ` (${r.worstDrift})` : ''}`,
  );
  lines.push(`longest gap between two daemon passes: ${sec(r.longestPassGapMs)}`);
  lines.push(
    `daemon recovery after kill -9 (restart to first pass): ${r.daemonRecoveryMs.map(sec).join(', ') || 'no kill'}`,
  );
  lines.push(`operator commands: ${r.operatorCommands}; races: ${r.races.length}`);
  for (const x of r.races) lines.push(`  ${x}`);
  if (r.unexpectedOperatorExits.length > 0) {
    const full = r.unexpectedOperatorExits.filter((e) => e.duringDiskFull).length;
    lines.push(
      `operator commands that failed (exit 1 or a signal): ${r.unexpectedOperatorExits.length}, ${full} of them while the store's disk was full`,
    );
    for (const e of r.unexpectedOperatorExits.slice(0, 20))
      lines.push(
        `  ${e.command} -> exit ${e.exitCode ?? 'signal'}${e.duringDiskFull ? ' (disk full)' : ''}: ${e.stderr.split('\n')[0] ?? ''}`,
      );
  }
  if (r.foundDead.length > 0) {
    lines.push(
      `agents that died with no injected fault, found dead by mcc (no mcc action killed them): ${r.foundDead.length}`,
    );
    for (const d of r.foundDead.slice(0, 20)) lines.push(`  ${d}`);
  }
  lines.push(`violations: ${r.violations.length}`);
  for (const v of r.violations) {
    lines.push(`  [${v.check}] ${v.at} ${v.ticket ?? ''} ${v.detail}`);
    for (const e of v.events) lines.push(`      ${e}`);
  }
  if (r.violations.length > 0) {
    lines.push('fault log:');
    for (const f of r.faultLog) lines.push(`  ${f.at} ${f.kind}: ${f.detail}`);
  }
  return lines.join('\n');
}
