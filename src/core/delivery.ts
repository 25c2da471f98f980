import type { Failpoints } from './failpoints.js';
import type { Profile } from './config.js';
import { fail, ok, type Result } from './result.js';
import { inertForPaste } from './sanitize.js';
import { CAPTURE_LINES, normalizeScreen, screenFingerprint } from './screen.js';
import type { StorePort } from './store.port.js';
import type { TmuxPort } from './tmux.port.js';
import type { Message } from './types.js';

// Delivering text into an agent exactly once. The text travels through a tmux buffer whose name carries a
// token recorded on the message in the same step that marks it `delivering`:
//   load buffer -> mark delivering (token) -> paste -d (consumes the buffer) -> submit keys -> mark sent.
// After a crash, a `delivering` message whose buffer still exists was never pasted (paste it); one whose
// buffer is gone was pasted (only the submit may be missing). Nothing is ever pasted twice.
// Typing into a pane holds that runtime's delivery lease, from the re-capture to the last key: two processes
// (the daemon and a `mcc send`, or two passes resuming one crashed delivery) never both pass the re-check and
// then both type. A lease left by a crashed process expires after `leaseMs`; then its delivery is resumed.

export interface DeliveryDeps {
  store: StorePort;
  tmux: TmuxPort;
  failpoints: Failpoints;
  now: () => number;
  actor: string;
}

export interface DeliveryTarget {
  message: Pick<Message, 'id' | 'ticketKey' | 'kind'>;
  body: string;
  runtimeId: number;
  paneId: string;
  profile: Profile;
  /** The screen the ready decision was made on; re-checked just before typing. */
  decidedOn: readonly string[] | null;
  /** The pane's last output (tmux window_activity, whole seconds) seen with `decidedOn`. */
  activityAt: number;
  /** How long the runtime's delivery lease is held at most (a crashed holder blocks deliveries this long). */
  leaseMs: number;
}

/** Name of the tmux buffer that carries a message delivery. */
export function bufferName(messageId: number, token: string): string {
  return `mcc-msg-${messageId}-${token}`;
}

function sameScreen(a: readonly string[], b: readonly string[]): boolean {
  return normalizeScreen(a) === normalizeScreen(b);
}

/**
 * The last check before typing: the pane is captured again and must show the very screen the decision was
 * made on. A screen that changed since (the agent started printing, a dialog opened) waits for the next pass.
 */
async function screenUnchanged(deps: DeliveryDeps, target: DeliveryTarget): Promise<Result<string>> {
  if (!target.decidedOn) return fail('conflict', 'no screen was read for this decision; waiting for the next pass');
  const now = await deps.tmux.capture(target.paneId, CAPTURE_LINES);
  if (!now.ok) return now;
  if (!sameScreen(now.value, target.decidedOn)) {
    return fail('conflict', 'the screen changed since it was judged ready; waiting for the next pass');
  }
  return ok(screenFingerprint(target.decidedOn));
}

/** A short random token: a delivery buffer's name, a lease holder's id. */
export function newToken(): string {
  return Math.random().toString(16).slice(2, 10).padEnd(8, '0');
}

/** Run `typing` holding the runtime's delivery lease; `conflict` while another process types into it. */
async function holdingLease(
  deps: DeliveryDeps,
  target: DeliveryTarget,
  typing: () => Promise<Result<'sent'>>,
): Promise<Result<'sent'>> {
  const name = `delivery:runtime:${target.runtimeId}`;
  const holder = `${deps.actor}:${newToken()}`;
  const lease = await deps.store.acquireLease({ name, holder, ttlMs: target.leaseMs, now: deps.now() });
  if (!lease.ok) {
    return fail('conflict', `another process is typing into runtime ${target.runtimeId} (${lease.message})`);
  }
  try {
    return await typing();
  } finally {
    await deps.store.releaseLease({ name, holder });
  }
}

/** Type one pending message into a ready pane and submit it; the message stays pending on any failure. */
export function deliver(deps: DeliveryDeps, target: DeliveryTarget): Promise<Result<'sent'>> {
  return holdingLease(deps, target, () => deliverHeld(deps, target));
}

async function deliverHeld(deps: DeliveryDeps, target: DeliveryTarget): Promise<Result<'sent'>> {
  const { message, runtimeId } = target;
  const unchanged = await screenUnchanged(deps, target);
  if (!unchanged.ok) return unchanged;
  const token = newToken();
  const buf = bufferName(message.id, token);
  const loaded = await deps.tmux.loadBuffer(buf, inertForPaste(target.body));
  if (!loaded.ok) return loaded;
  // Refused while this very screen is the one the last submit went onto and the pane printed nothing since:
  // an agent that has not taken the last text (frozen, or slow) would take this one as typed-ahead input.
  const begun = await deps.store.beginDelivery({
    messageId: message.id,
    runtimeId,
    token,
    now: deps.now(),
    onto: { screen: unchanged.value, activityAt: target.activityAt },
  });
  if (!begun.ok) {
    // Someone else is delivering it: the buffer with our token is ours alone to remove.
    await deps.tmux.deleteBuffer(buf);
    return begun;
  }
  deps.failpoints.hit('deliver.before_paste');
  return pasteAndSubmit(deps, target, buf, 'delivered', unchanged.value);
}

type ResumeTarget = DeliveryTarget & { token: string; step: 'paste' | 'submit' | 'mark_sent' };

/** Finish a delivery that a crash interrupted; `step` was chosen from the buffer's presence and the screen. */
export function resumeDelivery(deps: DeliveryDeps, target: ResumeTarget): Promise<Result<'sent'>> {
  return holdingLease(deps, target, () => resumeHeld(deps, target));
}

async function resumeHeld(deps: DeliveryDeps, target: ResumeTarget): Promise<Result<'sent'>> {
  const buf = bufferName(target.message.id, target.token);
  switch (target.step) {
    case 'paste': {
      const unchanged = await screenUnchanged(deps, target);
      if (!unchanged.ok) return unchanged;
      return pasteAndSubmit(
        deps,
        target,
        buf,
        'delivered after a crash (buffer was loaded, not pasted)',
        unchanged.value,
      );
    }
    case 'mark_sent':
      // Typing now would land in a busy agent, the very thing this product never does.
      return finish(deps, target, 'was pasted and submitted before a crash (the agent is working on it)');
    case 'submit': {
      const unchanged = await screenUnchanged(deps, target);
      if (!unchanged.ok) return unchanged;
      const submitted = await deps.tmux.sendKeys(target.paneId, target.profile.submit);
      if (!submitted.ok) return submitted;
      return finish(
        deps,
        target,
        'pasted before a crash; its draft was on screen, so the submit keys were sent',
        unchanged.value,
      );
    }
  }
}

async function pasteAndSubmit(
  deps: DeliveryDeps,
  target: DeliveryTarget,
  buf: string,
  how: string,
  screen: string,
): Promise<Result<'sent'>> {
  const pasted = await deps.tmux.pasteBuffer(buf, target.paneId);
  if (!pasted.ok) {
    const still = await deps.tmux.hasBuffer(buf);
    if (still.ok && still.value) {
      await deps.tmux.deleteBuffer(buf);
      await deps.store.revertDelivery({
        messageId: target.message.id,
        now: deps.now(),
        event: event(
          deps,
          target,
          'warning',
          `delivery of message ${target.message.id} failed before typing; it stays pending`,
          pasted.message,
        ),
      });
      return pasted;
    }
    if (!still.ok) return pasted;
    // The buffer is gone: the paste happened although tmux reported a failure. Go on to submit.
  }
  deps.failpoints.hit('deliver.after_paste');
  const submitted = await deps.tmux.sendKeys(target.paneId, target.profile.submit);
  if (!submitted.ok) return submitted;
  deps.failpoints.hit('deliver.after_submit');
  return finish(deps, target, how, screen);
}

/** Mark the message sent; `screen`: the fingerprint of the screen the submit keys went onto just now. */
async function finish(
  deps: DeliveryDeps,
  target: DeliveryTarget,
  how: string,
  screen?: string,
): Promise<Result<'sent'>> {
  const done = await deps.store.finishDelivery({
    messageId: target.message.id,
    now: deps.now(),
    event: event(deps, target, 'ok', `${target.message.kind} message ${target.message.id} ${how}`, null),
    ...(screen !== undefined ? { submittedScreen: screen } : {}),
  });
  return done.ok ? ok('sent') : fail(done.code, done.message);
}

function event(
  deps: DeliveryDeps,
  target: DeliveryTarget,
  status: 'ok' | 'warning',
  summary: string,
  rootCause: string | null,
) {
  return {
    ticketKey: target.message.ticketKey,
    runtimeId: target.runtimeId,
    actor: deps.actor,
    kind: 'message.delivery',
    status,
    summary,
    rootCause,
    safeRetry: status === 'ok' ? null : 'the message stays pending and is delivered when the runtime is ready',
    artifacts: [`message:${target.message.id}`],
  };
}
