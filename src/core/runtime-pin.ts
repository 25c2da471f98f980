import { fail, type Result } from './result.js';

// An operator's action on a runtime is aimed at the runtime they saw. By the time it runs (a confirm dialog, a
// command queued for another host's daemon) the ticket may have moved on to a newer runtime: the action then
// acts on nothing, never on the newer one.

/** The runtime an action was aimed at (the one the operator saw); absent: whichever is open now. */
export interface RuntimePin {
  runtimeId?: number;
}

/** A `conflict` when the ticket's open runtime is no longer the pinned one, else null. */
export function pinMismatch(
  verb: string,
  key: string,
  openId: number,
  pin: RuntimePin,
  nothing: string,
): Result<never> | null {
  if (pin.runtimeId === undefined || pin.runtimeId === openId) return null;
  return fail(
    'conflict',
    `${verb}: runtime ${pin.runtimeId} of ${key} is no longer its open runtime (runtime ${openId} is); ${nothing}`,
  );
}
