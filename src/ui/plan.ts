import type { Action, Finding } from '../core/findings.js';
import { sanitizeLine } from '../core/sanitize.js';
import type { ViewLine } from './text.js';

// The reconcile plan in words: which findings a pass would act on, and what it would do.

/** Findings worth showing in a plan: every drift, and routine work that does something (not bookkeeping). */
export function planFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter(
    (f) => f.drift !== null || (f.action.type !== 'none' && f.action.type !== 'wait' && f.action.type !== 'observe'),
  );
}

/** What applying an action would do, in a few words. */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'none':
      return 'nothing: the operator decides';
    case 'wait':
      return a.until === null ? 'wait' : 'wait for the TTL, then act';
    case 'adopt':
      return `adopt ${a.session} (pane ${a.paneId}, pid ${a.identity.pid}) for ${a.key}`;
    case 'mark_exited':
      return `mark runtime ${a.runtimeId} exited`;
    case 'replace':
      return `close runtime ${a.runtimeId} (${a.reason}), then ${describeAction(a.adopt)}`;
    case 'close': {
      const kill = a.killSession ? `, kill ${a.killSession}` : '';
      const move = a.ticket ? `, ${a.ticket.key} -> ${a.ticket.to}` : '';
      return `close runtime ${a.runtimeId} (${a.reason})${kill}${move}`;
    }
    case 'requeue_ticket':
      return `move ${a.key} -> ${a.to}${a.killSession ? `, kill ${a.killSession}` : ''}`;
    case 'kill_orphan':
      return `kill session ${a.session}`;
    case 'observe':
      return `record runtime ${a.runtimeId} status`;
    case 'deliver':
      return `deliver message ${a.messageId} to ${a.key}`;
    case 'resume_delivery':
      return `finish delivery of message ${a.messageId} to ${a.key}`;
    case 'marker':
      return `act on ${a.marker.kind} from ${a.key}`;
    case 'screen_blocked':
      return `mark runtime ${a.runtimeId} waiting; ${a.key} needs a human at its screen`;
    case 'warn':
      return `record one warning (${a.kind})`;
    default: {
      const never: never = a;
      throw new Error(`unhandled action ${String(never)}`);
    }
  }
}

/** One finding as view lines: badge and summary, evidence, then the proposed action. */
export function findingLines(f: Finding): ViewLine[] {
  const head = `${f.drift ?? 'ROUTINE'}${f.ticketKey ? ` ${f.ticketKey}` : ''}: ${sanitizeLine(f.summary)}`;
  const style: ViewLine['style'] = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warn' : undefined;
  return [
    style ? { text: head, style } : { text: head },
    ...f.evidence.map((e) => ({ text: `  evidence: ${sanitizeLine(e)}`, style: 'dim' as const })),
    { text: `  action: ${sanitizeLine(describeAction(f.action))}` },
  ];
}

/** The whole plan as view lines, with what `y` will do. */
export function planLines(findings: readonly Finding[]): ViewLine[] {
  const shown = planFindings(findings);
  const acting = shown.filter((f) => f.action.type !== 'none' && f.action.type !== 'wait').length;
  const lines: ViewLine[] = [
    { text: `Reconcile plan (dry run): ${shown.length} finding(s), ${acting} action(s)`, style: 'heading' },
  ];
  for (const f of shown) lines.push(...findingLines(f));
  return lines;
}
