import { bufferName } from './delivery.js';
import { age, finding, profileOfTicket, quietFor, rowStatusOf, type Finding, type TicketCtx } from './findings.js';
import { overdue } from './review.js';
import {
  acceptsInput,
  draftBelowBusy,
  draftVisible,
  echoVisible,
  findMarker,
  readScreen,
  screenFingerprint,
  type ScreenReading,
} from './screen.js';
import type { PaneInfo } from './tmux.port.js';
import type { Message, RuntimeSession } from './types.js';

// Routine work on a healthy runtime of an in_progress ticket: status bookkeeping, markers, the readiness
// gate in front of every message, and the warnings that keep a stuck message in sight. Not drift, except
// NOT-READY: a message that waited too long is an operator's business.

/**
 * How often a healthy runtime's last_seen_at is rewritten when nothing else changed. It is information for
 * operators, not a liveness input (death is timed from dead_since), so it is refreshed rarely: at 500 agents a
 * short period would mean hundreds of writes a minute, each one a reload for every console. Spread per row.
 */
const LAST_SEEN_REFRESH_MS = 5 * 60_000;

/** How many screen lines go into a warning as evidence. */
const EVIDENCE_LINES = 12;

/** The matched lines of a reading, as evidence: which pattern matched on which line. */
export function readingEvidence(reading: ScreenReading): string[] {
  const quiet = reading.quietForMs === null ? 'unknown' : `${reading.quietForMs} ms`;
  return [
    `screen: ${reading.status ?? 'cannot tell'} (${reading.why}); still for ${quiet}`,
    ...reading.matches.map(
      (m) => `${m.pattern}${m.stale ? ' (stale)' : ''} matched line -${m.fromBottom}: ${JSON.stringify(m.line)}`,
    ),
  ];
}

function screenTail(lines: readonly string[]): string[] {
  return lines.filter((l) => l.trim() !== '').slice(-EVIDENCE_LINES);
}

/** Routine findings for a live runtime whose ticket is in_progress, and OVERDUE when its check-in passed. */
export function routine(ctx: TicketCtx, r: RuntimeSession, pane: PaneInfo): Finding[] {
  const out = routineWork(ctx, r, pane);
  // A marker this pass is the check-in itself.
  if (out.some((f) => f.action.type === 'marker')) return out;
  const late = overdue(ctx, r);
  return late ? [...out, late] : out;
}

function routineWork(ctx: TicketCtx, r: RuntimeSession, pane: PaneInfo): Finding[] {
  const { snap, t } = ctx;
  const out: Finding[] = [];
  const base = { ticketKey: t.key, runtimeId: r.id, drift: null, severity: 'info' as const };
  const profile = profileOfTicket(t, snap);
  const lines = snap.captures.get(pane.paneId);
  const reading = profile && lines ? readScreen(lines, profile, quietFor(snap, pane.paneId)) : null;
  const status = reading?.status ?? null;
  const open = ctx.messages.filter((m) => m.status === 'pending' || m.status === 'delivering');
  // A marker answers what the agent was given: one printed before queued text (the prompt, requested changes)
  // reached it is premature, so it waits until the queue is empty.
  const textPending = open.length > 0;
  const marker =
    lines && !textPending ? findMarker(lines, [t.title, t.body, ...open.map((m) => m.body)], r.lastMarker) : null;
  if (marker) {
    // The marker's own runtime update carries the status: one CAS on the runtime row per pass.
    out.push(
      finding({
        ...base,
        summary: `${t.key} agent says ${marker.kind}`,
        evidence: [marker.line],
        action: {
          type: 'marker',
          key: t.key,
          ticketVersion: t.version,
          runtimeId: r.id,
          runtimeVersion: r.version,
          marker,
        },
      }),
    );
    return out;
  }
  if (!profile) {
    // Judging this screen with another profile's patterns could type into a dialog: say so, type nothing.
    out.push(
      finding({
        ...base,
        drift: 'NEEDS-OPERATOR',
        severity: 'warning',
        summary: `profile "${t.profile}" of ${t.key} is not in the config: its screen cannot be judged; nothing is typed`,
        evidence: [`known profiles: ${Object.keys(snap.profiles).join(', ')}`],
        action: { type: 'none' },
      }),
    );
    return out;
  }
  if (status === 'blocked' && reading && lines) {
    if (!(r.status === 'waiting' && t.humanInputRequired)) {
      out.push(
        finding({
          ...base,
          severity: 'warning',
          summary: `${t.key}: the agent's screen waits for a human (sign-in, dialog or permission prompt); nothing is typed`,
          evidence: readingEvidence(reading),
          action: {
            type: 'screen_blocked',
            key: t.key,
            ticketVersion: t.version,
            runtimeId: r.id,
            runtimeVersion: r.version,
            screen: screenTail(lines),
          },
        }),
      );
      return out;
    }
  } else {
    // A question's own screen reads `running` while it is fresh (the finished busy line above the prompt, not
    // yet still for quietMs). Only output after the wait was recorded shows the agent took an answer; tmux's
    // window activity (whole seconds, rounded down) is never later than that output.
    const asked = r.status === 'waiting' && t.humanInputRequired;
    const newOutput = pane.windowActivity > (r.lastSeenAt ?? r.createdAt);
    // Someone acted on what the agent waited for: it works again, or the dialog that blocked it is gone and no
    // QUESTION of the agent is outstanding (a question stays asked until its answer is delivered).
    const askedQuestion = r.lastMarker?.startsWith('QUESTION:') ?? false;
    const answered = asked && newOutput && (status === 'running' || (status === 'idle' && !askedQuestion));
    const rowStatus = status && !(status === 'running' && asked && !newOutput) ? rowStatusOf(status) : null;
    const lastSeenOld = r.lastSeenAt === null || snap.at - r.lastSeenAt > LAST_SEEN_REFRESH_MS + (r.id % 60) * 1000;
    if ((rowStatus !== null && rowStatus !== r.status) || lastSeenOld) {
      out.push(
        finding({
          ...base,
          summary:
            rowStatus && rowStatus !== r.status ? `runtime ${r.id} is ${rowStatus}` : `runtime ${r.id} seen alive`,
          action: {
            type: 'observe',
            runtimeId: r.id,
            runtimeVersion: r.version,
            status: rowStatus !== r.status ? rowStatus : null,
            lastSeenAt: snap.at,
            clearHumanInput: answered ? { key: t.key, ticketVersion: t.version } : null,
          },
        }),
      );
    }
  }
  const inFlight = open.find((m) => m.status === 'delivering');
  if (inFlight && inFlight.runtimeId === r.id && inFlight.deliveryToken && snap.buffers) {
    const resume = resumeFinding(ctx, r, pane, inFlight, reading, lines);
    if (resume) out.push(resume);
    return out;
  }
  if (inFlight) return out;
  const next = open
    .filter((m) => m.status === 'pending')
    .sort((a, b) => (a.kind === b.kind ? a.id - b.id : a.kind === 'prompt' ? -1 : 1))[0];
  if (!next) return out;
  // The last text typed in has not been taken yet: a frozen or slow agent still shows the very prompt it was
  // typed onto. Its ready look says nothing about the next text, which it would read as typed-ahead input.
  const untaken = lines ? notTakenYet(r, pane, lines) : false;
  if (acceptsInput(status) && !untaken) {
    out.push(
      finding({
        ...base,
        summary: `deliver ${next.kind} message ${next.id} to runtime ${r.id}`,
        evidence: reading ? readingEvidence(reading) : [],
        action: {
          type: 'deliver',
          messageId: next.id,
          runtimeId: r.id,
          paneId: pane.paneId,
          key: t.key,
          profile: t.profile,
        },
      }),
    );
    return out;
  }
  // An agent gets readyTimeoutSeconds to take a submitted text before the one behind it is reported.
  const since = Math.max(next.createdAt, r.createdAt, untaken ? (r.submittedAt ?? 0) : 0);
  const waited = snap.at - since;
  const state = untaken
    ? `has not taken the text submitted ${age(snap.at - (r.submittedAt ?? snap.at))} ago`
    : (status ?? r.status);
  if (waited >= profile.readyTimeoutMs) {
    out.push(notReady(ctx, r, next, reading, lines, waited, untaken));
    return out;
  }
  out.push(
    finding({
      ...base,
      summary: `${next.kind} message ${next.id} waits for runtime ${r.id} to be ready (${state}, ${age(waited)})`,
      evidence: [
        ...(untaken ? [UNTAKEN_EVIDENCE] : []),
        ...(reading ? readingEvidence(reading) : ['no screen captured yet']),
      ],
      action: { type: 'wait', until: since + profile.readyTimeoutMs },
    }),
  );
  return out;
}

const UNTAKEN_EVIDENCE =
  'the screen is the one the last submit was typed onto, and the pane printed nothing since: that text is not taken yet';

/**
 * Whether the runtime has not taken the last text submitted into it: its screen is still the one the submit
 * was typed onto (same fingerprint) and the pane printed nothing after the submit. tmux's window_activity is
 * whole seconds rounded down, so activity later than the submit's time means output after it.
 */
export function notTakenYet(r: RuntimeSession, pane: PaneInfo, lines: readonly string[]): boolean {
  if (r.submittedScreen === null || r.submittedAt === null) return false;
  if (pane.windowActivity > r.submittedAt) return false;
  return screenFingerprint(lines) === r.submittedScreen;
}

/** A message that waited past the profile's readyTimeoutSeconds: one warning, a badge, nothing typed. */
function notReady(
  ctx: TicketCtx,
  r: RuntimeSession,
  m: Message,
  reading: ScreenReading | null,
  lines: readonly string[] | undefined,
  waited: number,
  untaken: boolean,
): Finding {
  const { t } = ctx;
  const why = untaken
    ? 'the agent has not taken the text submitted before it (its screen has not changed since; frozen or hung?)'
    : reading
      ? reading.status === 'blocked'
        ? 'the agent shows a screen that waits for a human'
        : 'the agent never showed a ready screen'
      : 'no screen of the agent could be read';
  return finding({
    ticketKey: t.key,
    runtimeId: r.id,
    drift: 'NOT-READY',
    severity: 'warning',
    summary: `${m.kind} message ${m.id} of ${t.key} undelivered: ${why}; nothing typed`,
    evidence: [...(reading ? readingEvidence(reading) : []), `waiting ${age(waited)}`],
    action: {
      type: 'warn',
      kind: 'message.not_ready',
      once: `not_ready:message:${m.id}`,
      rootCause: `${why} (${reading ? readingEvidence(reading).join('; ') : 'no capture'})`,
      humanInputRequired: true,
      nextActions: [`attach: mcc attach ${t.key}`, `interrupt: mcc interrupt ${t.key}`, `retire: mcc retire ${t.key}`],
      artifacts: [`message:${m.id}`, `runtime:${r.id}`, ...(lines ? screenTail(lines) : [])],
    },
  });
}

/**
 * Finishing a delivery a crash interrupted. The buffer's presence says how far it got; the screen says
 * whether the next step is safe. A submit is sent only onto a visible draft of the pasted text: Enter on
 * anything else (an empty prompt, a dialog) could approve what nobody meant.
 */
function resumeFinding(
  ctx: TicketCtx,
  r: RuntimeSession,
  pane: PaneInfo,
  m: Message,
  reading: ScreenReading | null,
  lines: readonly string[] | undefined,
): Finding | null {
  const { snap, t } = ctx;
  const status = reading?.status ?? null;
  const bufferPresent = snap.buffers?.has(bufferName(m.id, m.deliveryToken ?? '')) ?? false;
  const base = { ticketKey: t.key, runtimeId: r.id, drift: null, severity: 'info' as const };
  const resume = (step: 'paste' | 'submit' | 'mark_sent', evidence: string): Finding =>
    finding({
      ...base,
      summary: `finish delivery of message ${m.id} interrupted by a crash (${step.replace('_', ' ')})`,
      evidence: [evidence, ...(reading ? readingEvidence(reading) : [])],
      action: {
        type: 'resume_delivery',
        messageId: m.id,
        runtimeId: r.id,
        paneId: pane.paneId,
        key: t.key,
        profile: t.profile,
        step,
      },
    });
  if (bufferPresent) return acceptsInput(status) ? resume('paste', 'buffer still loaded: not pasted yet') : null;
  const profile = profileOfTicket(t, snap);
  if (status === 'running') {
    // A draft hides the prompt, so a busy line left above it reads as current: the paste went in, the submit
    // did not. Marking it sent would lose the text and leave the draft blocking every later message. Submit
    // once the screen is still (the busy line is stale, as above a prompt); until then look again.
    if (profile && lines && draftBelowBusy(lines, m.body, profile)) {
      const quiet = quietFor(snap, pane.paneId);
      return quiet !== null && quiet >= profile.quietMs
        ? resume('submit', 'buffer consumed: pasted; its draft shows under a stale busy line')
        : null;
    }
    return resume('mark_sent', 'buffer consumed and the agent works: it was submitted');
  }
  if (profile && lines && status !== 'blocked' && draftVisible(lines, m.body, profile)) {
    return resume('submit', 'buffer consumed: pasted; its draft shows on the input lines');
  }
  // The submit went through and the agent already finished (a crash, then a quick agent): without this the
  // message stayed `delivering` forever, holding back its markers and every later message.
  if (profile && lines && acceptsInput(status) && echoVisible(lines, m.body, profile)) {
    return resume(
      'mark_sent',
      'buffer consumed, the input is empty and the transcript shows the text: it was submitted',
    );
  }
  if (!lines) return null;
  return finding({
    ...base,
    drift: 'NEEDS-OPERATOR',
    severity: 'warning',
    summary: `message ${m.id} was pasted into ${t.key} before a crash, but its draft is not on screen; nothing typed`,
    evidence: reading ? readingEvidence(reading) : [],
    action: {
      type: 'warn',
      kind: 'message.delivery_unconfirmed',
      once: `unconfirmed:message:${m.id}`,
      rootCause: 'the paste happened (its buffer is gone) but neither a draft nor a working agent shows',
      humanInputRequired: true,
      nextActions: [`attach: mcc attach ${t.key} and submit or clear the input`, `retire: mcc retire ${t.key}`],
      artifacts: [`message:${m.id}`, `runtime:${r.id}`, ...screenTail(lines)],
    },
  });
}
