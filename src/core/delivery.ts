import { bufferName } from './diagnose.js';
import type { Failpoints } from './failpoints.js';
import type { Profile } from './config.js';
import { fail, ok, type Result } from './result.js';
import { inertForPaste } from './sanitize.js';
import type { StorePort } from './store.port.js';
import type { TmuxPort } from './tmux.port.js';
import type { Message } from './types.js';

// Delivering text into an agent exactly once. The text travels through a tmux buffer whose name carries a
// token recorded on the message in the same step that marks it `delivering`:
//   load buffer -> mark delivering (token) -> paste -d (consumes the buffer) -> submit keys -> mark sent.
// After a crash, a `delivering` message whose buffer still exists was never pasted (paste it); one whose
// buffer is gone was pasted (only the submit may be missing). Nothing is ever pasted twice.

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
}

function newToken(): string {
  return Math.random().toString(16).slice(2, 10).padEnd(8, '0');
}

/** Type one pending message into a ready pane and submit it; the message stays pending on any failure. */
export async function deliver(deps: DeliveryDeps, target: DeliveryTarget): Promise<Result<'sent'>> {
  const { message, runtimeId } = target;
  const token = newToken();
  const buf = bufferName(message.id, token);
  const loaded = await deps.tmux.loadBuffer(buf, inertForPaste(target.body));
  if (!loaded.ok) return loaded;
  const begun = await deps.store.beginDelivery({ messageId: message.id, runtimeId, token, now: deps.now() });
  if (!begun.ok) {
    // Someone else is delivering it: the buffer with our token is ours alone to remove.
    await deps.tmux.deleteBuffer(buf);
    return begun;
  }
  deps.failpoints.hit('deliver.before_paste');
  return pasteAndSubmit(deps, target, buf, 'delivered');
}

/** Finish a delivery that a crash interrupted, using the buffer's presence as the record of progress. */
export async function resumeDelivery(
  deps: DeliveryDeps,
  target: DeliveryTarget & { token: string; bufferPresent: boolean; agentBusy: boolean },
): Promise<Result<'sent'>> {
  const buf = bufferName(target.message.id, target.token);
  if (target.bufferPresent)
    return pasteAndSubmit(deps, target, buf, 'delivered after a crash (buffer was loaded, not pasted)');
  // Pasted, and the agent is working: the submit went through before the crash. Typing now would land
  // in a busy agent, the very thing this product never does.
  if (target.agentBusy)
    return finish(deps, target, 'was pasted and submitted before a crash (the agent is working on it)');
  const submitted = await deps.tmux.sendKeys(target.paneId, target.profile.submit);
  if (!submitted.ok) return submitted;
  return finish(
    deps,
    target,
    'pasted before a crash; submit keys sent again (an extra submit on an empty prompt is harmless)',
  );
}

async function pasteAndSubmit(
  deps: DeliveryDeps,
  target: DeliveryTarget,
  buf: string,
  how: string,
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
  return finish(deps, target, how);
}

async function finish(deps: DeliveryDeps, target: DeliveryTarget, how: string): Promise<Result<'sent'>> {
  const done = await deps.store.finishDelivery({
    messageId: target.message.id,
    now: deps.now(),
    event: event(deps, target, 'ok', `${target.message.kind} message ${target.message.id} ${how}`, null),
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
