import type { GridRow } from '../core/console-model.js';
import { sanitizeHead, sanitizeLine } from '../core/sanitize.js';
import type { TicketDetail } from '../core/store.port.js';
import type { McEvent, RuntimeSession } from '../core/types.js';
import { findingLines } from './plan.js';
import { cell, MAX_LINE_COLUMNS, shortAge, wrap, type ViewLine } from './text.js';

// The detail view's content as plain lines, built from store rows and a pane capture. Pure, so the
// sanitizing and the terminal-state shape of the activity log are tested without a terminal.

export type PaneTail =
  { ok: true; lines: string[]; status: string | null; explain?: string[] } | { ok: false; reason: string };

export interface DetailData {
  detail: TicketDetail | null;
  pane: PaneTail | null;
  /** Why the detail could not be loaded, if it could not. */
  error: string | null;
}

/** How much of one body or summary the view wraps; the whole text is in `mcc show KEY --json`. */
export const MAX_PARAGRAPH_CHARS = 64 * 1024;

const ago = (now: number, at: number) => `${shortAge(now - at)} ago`;

/** One untrusted value on one line, cut long before the view would cut it (the view redraws every snapshot). */
const one = (text: string): string => cell(text, MAX_LINE_COLUMNS);

function paragraph(text: string, width: number, indent = ''): ViewLine[] {
  const out: ViewLine[] = [];
  const head = sanitizeHead(text, MAX_PARAGRAPH_CHARS);
  for (const raw of head.text.split('\n')) {
    for (const l of wrap(sanitizeLine(raw), Math.max(10, width - indent.length))) out.push({ text: indent + l });
  }
  if (head.cut)
    out.push({
      text: `${indent}… cut here: the text is ${text.length} characters long (mcc show --json has it all)`,
      style: 'dim',
    });
  return out;
}

function runtimeLine(r: RuntimeSession, now: number): ViewLine {
  const parts = [
    `runtime ${r.id}`,
    r.status,
    r.tmuxSession,
    r.paneId ? `pane ${r.paneId}` : 'no pane',
    r.pid ? `pid ${r.pid}` : 'no pid',
  ];
  parts.push(`host ${one(r.host)}`, `started ${ago(now, r.createdAt)}`);
  if (r.lastSeenAt !== null) parts.push(`seen ${ago(now, r.lastSeenAt)}`);
  if (r.exitStatus !== null) parts.push(`exit ${r.exitStatus}`);
  if (r.workdir) parts.push(`workdir ${one(r.workdir)}`);
  if (r.branch) parts.push(`branch ${one(r.branch)}`);
  if (r.closedReason) parts.push(`closed: ${one(r.closedReason)}`);
  return r.status === 'closed' ? { text: parts.join('  '), style: 'dim' } : { text: parts.join('  ') };
}

/** One event in the seed's terminal-state shape: status and summary, then the fields that are set. */
export function eventLines(e: McEvent, now: number, width: number): ViewLine[] {
  const style: ViewLine['style'] = e.status === 'error' ? 'error' : e.status === 'warning' ? 'warn' : 'ok';
  const out: ViewLine[] = [
    { text: `${ago(now, e.at)}  status: ${e.status}  ${one(e.kind)}  by ${one(e.actor)}`, style },
  ];
  out.push(...paragraph(`summary: ${e.summary}`, width, '  '));
  if (e.rootCause) out.push(...paragraph(`root_cause: ${e.rootCause}`, width, '  '));
  if (e.safeRetry) out.push(...paragraph(`safe_retry: ${e.safeRetry}`, width, '  '));
  if (e.stopCondition) out.push(...paragraph(`stop_condition: ${e.stopCondition}`, width, '  '));
  if (e.humanInputRequired) out.push({ text: '  human_input_required: yes', style: 'warn' });
  if (e.nextActions.length > 0) out.push(...paragraph(`next_actions: ${e.nextActions.join('; ')}`, width, '  '));
  if (e.artifacts.length > 0) out.push({ text: `  artifacts: ${one(e.artifacts.join(', '))}`, style: 'dim' });
  return out;
}

/** Everything the detail view shows for one ticket, top to bottom. */
export function detailLines(
  key: string,
  row: GridRow | null,
  data: DetailData,
  now: number,
  width: number,
): ViewLine[] {
  const lines: ViewLine[] = [];
  const head = (text: string) => lines.push({ text, style: 'heading' });
  if (data.error) lines.push({ text: `cannot load ${key}: ${one(data.error)}`, style: 'error' });
  const d = data.detail;
  if (!d) {
    if (!data.error) lines.push({ text: `loading ${key}…`, style: 'dim' });
    return lines;
  }
  const t = d.ticket;
  head(`${t.key}  ${one(t.title)}`);
  const facts = [
    `state ${t.status}`,
    `profile ${one(t.profile)}`,
    `attempts ${t.attempts}`,
    `runtime ${row?.runtime ?? '?'}`,
  ];
  if (row?.badge) facts.push(`drift ${row.badge}`);
  if (t.humanInputRequired) facts.push('NEEDS-INPUT: the agent asked a question');
  lines.push({ text: facts.join('  ') });
  if (t.blockedReason)
    lines.push(...paragraph(`blocked: ${t.blockedReason}`, width).map((l) => ({ ...l, style: 'warn' as const })));

  const checks = d.events.find((e) => e.kind === 'review.checks');
  if (t.reviewChecks !== null || checks) {
    head(`Review checks (${t.reviewChecks ?? 'none wanted'})`);
    if (!checks) lines.push({ text: '  (running or waiting for a runner: mcc --auto or this console)', style: 'dim' });
    else {
      lines.push(
        ...eventLines(checks, now, width)
          .map((l) => ({ ...l, text: `  ${l.text}` }))
          .slice(0, 2),
      );
      for (const a of checks.artifacts) {
        const failed = a.startsWith('check FAILED');
        lines.push({ text: `  ${one(a)}`, ...(failed ? { style: 'error' as const } : {}) });
      }
    }
  }

  head('Body');
  lines.push(...(t.body.trim() ? paragraph(t.body, width, '  ') : [{ text: '  (no body)', style: 'dim' as const }]));

  head('Runtimes');
  if (d.runtimes.length === 0) lines.push({ text: '  (none yet: p picks the ticket up)', style: 'dim' });
  for (const r of d.runtimes) {
    const l = runtimeLine(r, now);
    lines.push({ ...l, text: `  ${l.text}` });
  }

  const pane = data.pane;
  head(`Pane${pane?.ok && pane.status ? ` (screen: ${pane.status})` : ''}`);
  if (!pane) lines.push({ text: '  (no live pane)', style: 'dim' });
  else if (!pane.ok) lines.push({ text: `  cannot capture the pane: ${one(pane.reason)}`, style: 'error' });
  else if (pane.lines.length === 0) lines.push({ text: '  (no live pane)', style: 'dim' });
  else {
    // Where the screen status came from, above the screen it was read from.
    for (const e of pane.explain ?? []) lines.push({ text: `  ${one(e)}`, style: 'dim' });
    for (const l of pane.lines) lines.push({ text: `  ${one(l)}` });
  }

  const pending = d.messages.filter((m) => m.status === 'pending' || m.status === 'delivering');
  if (pending.length > 0) {
    head('Queued messages');
    for (const m of pending) lines.push({ text: `  #${m.id} ${m.kind} ${m.status}: ${one(m.body)}` });
  }

  head('Findings');
  const findings = row?.findings ?? [];
  if (findings.length === 0) lines.push({ text: '  (none: the store and tmux agree)', style: 'dim' });
  for (const f of findings) lines.push(...findingLines(f).map((l) => ({ ...l, text: `  ${l.text}` })));

  head('Activity (newest first)');
  if (d.events.length === 0) lines.push({ text: '  (no events)', style: 'dim' });
  for (const e of d.events) lines.push(...eventLines(e, now, width));
  return lines;
}
