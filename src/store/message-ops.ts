import { holderLabel } from '../core/lease-holder.js';
import type { BeginDeliveryInput, FinishDeliveryInput, Lease, TakeOverLeaseInput } from '../core/store.port.js';
import type { EventInput, Message, MessageKind, MessageStatus } from '../core/types.js';
import { iso, ms, toLease, toMessage, type LeaseRow, type MessageRow } from './rows.js';
import { insertEvent, mustMessage, mustRuntime, mustTicket } from './op-common.js';
import { get, refuse, run, type Op } from './sql-op.js';

// Outbox and lease operations, as sql-op operations (the same code for every dialect). Messages carry no version: their status is the compare-and-set guard, because
// every transition starts from exactly one known status.

/** Queue text for a ticket's current or next runtime. */
export function* queueMessage(i: {
  key: string;
  body: string;
  kind: MessageKind;
  now: number;
  event: EventInput;
}): Op<Message> {
  yield* mustTicket(i.key);
  const row = (yield* get<MessageRow>(
    `INSERT INTO messages (ticket_key, runtime_id, kind, body, status, attempts, created_at)
     VALUES (?, NULL, ?, ?, 'pending', 0, ?) RETURNING *`,
    [i.key, i.kind, i.body, iso(i.now)],
  )) as MessageRow;
  yield* insertEvent(i.event, i.now, { key: i.key });
  return toMessage(row);
}

function* transition(
  id: number,
  from: readonly MessageStatus[],
  to: MessageStatus,
  extraSet: string,
  params: Record<string, unknown>,
): Op<MessageRow> {
  const m = yield* mustMessage(id);
  if (!from.includes(m.status as MessageStatus)) {
    refuse(
      'conflict',
      `cannot move message ${id} of ${m.ticket_key} to ${to}: it is ${m.status}, not ${from.join(' or ')}`,
    );
  }
  const placeholders = from.map((_, n) => `@from${n}`).join(', ');
  const fromParams = Object.fromEntries(from.map((s, n) => [`from${n}`, s]));
  const row = yield* get<MessageRow>(
    `UPDATE messages SET status = @to${extraSet} WHERE id = @id AND status IN (${placeholders}) RETURNING *`,
    { ...params, ...fromParams, to, id },
  );
  return row ?? refuse('conflict', `message ${id} changed underneath while moving to ${to}`);
}

/** pending -> delivering, bound to an open runtime of the same ticket, before any text is typed. */
export function* beginDelivery(i: BeginDeliveryInput): Op<Message> {
  const m = yield* mustMessage(i.messageId);
  const r = yield* mustRuntime(i.runtimeId);
  if (r.ticket_key !== m.ticket_key) {
    refuse('invalid', `message ${m.id} belongs to ${m.ticket_key}, runtime ${r.id} to ${r.ticket_key}`);
  }
  if (r.status === 'closed')
    refuse('conflict', `cannot deliver message ${m.id}: runtime ${r.id} of ${r.ticket_key} is closed`);
  // Read here, in the write transaction, so a submit by another process since this one's pass counts too.
  if (
    i.onto &&
    r.submitted_screen === i.onto.screen &&
    r.submitted_at !== null &&
    i.onto.activityAt <= ms(r.submitted_at)
  ) {
    refuse(
      'conflict',
      `cannot deliver message ${m.id}: runtime ${r.id} of ${r.ticket_key} has not reacted to the text submitted at ` +
        `${r.submitted_at} (its screen is unchanged and it printed nothing since)`,
    );
  }
  const row = yield* transition(
    i.messageId,
    ['pending'],
    'delivering',
    ', attempts = attempts + 1, runtime_id = @rid, delivery_token = @token',
    { rid: i.runtimeId, token: i.token },
  );
  return toMessage(row);
}

/** delivering -> sent. */
export function* finishDelivery(i: FinishDeliveryInput): Op<Message> {
  const row = yield* transition(i.messageId, ['delivering'], 'sent', ', sent_at = @now', { now: iso(i.now) });
  yield* insertEvent(i.event, i.now, { key: row.ticket_key, runtimeId: row.runtime_id });
  if (i.submittedScreen !== undefined && row.runtime_id !== null) {
    // No version bump: this is not a decision about the runtime that a CAS must order, only what its screen
    // showed when text went in; the delivery lease already orders every process that types into it.
    yield* run('UPDATE runtime_sessions SET submitted_screen = ?, submitted_at = ? WHERE id = ?', [
      i.submittedScreen,
      iso(i.now),
      row.runtime_id,
    ]);
  }
  if (row.kind === 'operator') {
    // The answer reached the agent: only now does the ticket stop asking for a human.
    yield* run(
      `UPDATE tickets SET human_input_required = 0, version = version + 1, updated_at = ?
        WHERE key = ? AND human_input_required = 1`,
      [iso(i.now), row.ticket_key],
    );
  }
  return toMessage(row);
}

/** delivering -> pending: nothing was typed, so it stays bound to its runtime and the next attempt gets a new token. */
export function* revertDelivery(i: { messageId: number; now: number; event?: EventInput }): Op<Message> {
  const row = yield* transition(i.messageId, ['delivering'], 'pending', ', delivery_token = NULL', {});
  if (i.event !== undefined) yield* insertEvent(i.event, i.now, { key: row.ticket_key, runtimeId: row.runtime_id });
  return toMessage(row);
}

/** pending|delivering -> cancelled. */
export function* cancelMessage(i: { messageId: number; now: number; event: EventInput }): Op<Message> {
  const row = yield* transition(i.messageId, ['pending', 'delivering'], 'cancelled', '', {});
  yield* insertEvent(i.event, i.now, { key: row.ticket_key, runtimeId: row.runtime_id });
  return toMessage(row);
}

/**
 * Take a free or expired lease, or renew our own; refuse while another holds it, naming the holder as people
 * know it (`host:PID`) in the message and giving its full holder string (with the process identity) as `holder`.
 */
export function* acquireLease(i: { name: string; holder: string; ttlMs: number; now: number }): Op<Lease> {
  if (!(i.ttlMs > 0)) refuse('invalid', `lease ${i.name}: ttlMs must be positive, got ${i.ttlMs}`);
  const current = yield* get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [i.name]);
  if (current !== undefined && current.holder !== i.holder && ms(current.expires_at) > i.now) {
    refuse(
      'conflict',
      `lease ${i.name} is held by ${holderLabel(current.holder)} until ${current.expires_at}`,
      current.holder,
    );
  }
  const row = (yield* get<LeaseRow>(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     RETURNING *`,
    [i.name, i.holder, iso(i.now + i.ttlMs)],
  )) as LeaseRow;
  return toLease(row);
}

/**
 * Compare-and-set a lease from one exact holder to another, whatever its expiry: the caller proved `from` is a
 * dead process. Anyone else holding it by now (a successor was quicker, the holder renewed) is a conflict.
 */
export function* takeOverLease(i: TakeOverLeaseInput): Op<Lease> {
  if (!(i.ttlMs > 0)) refuse('invalid', `lease ${i.name}: ttlMs must be positive, got ${i.ttlMs}`);
  const row = yield* get<LeaseRow>(
    'UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND holder = ? RETURNING *',
    [i.holder, iso(i.now + i.ttlMs), i.name, i.from],
  );
  if (row === undefined) {
    const current = yield* get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [i.name]);
    refuse(
      'conflict',
      current === undefined
        ? `lease ${i.name} was released before it could be taken over from ${holderLabel(i.from)}`
        : `lease ${i.name} changed hands: it is held by ${holderLabel(current.holder)}, not ${holderLabel(i.from)}`,
      current?.holder,
    );
  }
  yield* insertEvent(i.event, i.now);
  return toLease(row);
}

/** Drop a lease only if `holder` still holds it, so a late release never frees a successor's lease. */
export function* releaseLease(i: { name: string; holder: string }): Op<void> {
  yield* run('DELETE FROM leases WHERE name = ? AND holder = ?', [i.name, i.holder]);
}
