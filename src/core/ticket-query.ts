import { fail, ok, type Result } from './result.js';
import type { TicketQuery } from './store.port.js';
import { notAKey, TICKET_KEY_RE, TICKET_STATUSES } from './types.js';

// What a ticket query may ask of a store: checked once here, so adapters only ever see sound queries.

/** The query itself, or `invalid` naming the field that is wrong (a limit below 1, a key that is not one). */
export function checkTicketQuery<Q extends TicketQuery>(query: Q): Result<Q> {
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 1))
    return fail('invalid', `the limit must be a whole number >= 1, got ${query.limit}`);
  if (query.after !== undefined && !TICKET_KEY_RE.test(query.after)) return fail('invalid', notAKey(query.after));
  for (const s of [...(query.states ?? []), ...(query.excludeStates ?? [])])
    if (!(TICKET_STATUSES as readonly string[]).includes(s))
      return fail('invalid', `"${s}" is not one of ${TICKET_STATUSES.join(', ')}`);
  return ok(query);
}
