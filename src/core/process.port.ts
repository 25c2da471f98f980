import type { ProcessIdentity } from './types.js';

/**
 * What is known of one pid. A zombie is dead; a pid whose start time differs from the recorded one is a
 * different process (reuse); "could not read" is unknown, never dead.
 */
export type ProcessObservation =
  | { kind: 'alive'; identity: ProcessIdentity; state: string; comm: string }
  /** `waitStatus`: a zombie's wait(2) status when the kernel shows it (exit code << 8 | signal). */
  | { kind: 'dead'; reason: 'absent' | 'zombie'; waitStatus?: number }
  | { kind: 'unknown'; reason: string };

export interface ProcessPort {
  /** The current boot id, or null when it cannot be read. */
  bootId(): Promise<string | null>;
  /** Observe many pids in one go (one `ps` call where /proc is absent). */
  inspect(pids: readonly number[]): Promise<Map<number, ProcessObservation>>;
}

/** Exit status from a wait(2) status: the exit code, or 128 + signal as shells report it. */
export function exitStatusOf(waitStatus: number): number {
  const signal = waitStatus & 0x7f;
  return signal === 0 ? (waitStatus >> 8) & 0xff : 128 + signal;
}

/** True when an observation is the very process recorded: same pid, start time and boot. */
export function sameProcess(obs: ProcessObservation | undefined, recorded: ProcessIdentity): boolean {
  return (
    obs !== undefined &&
    obs.kind === 'alive' &&
    obs.identity.pid === recorded.pid &&
    obs.identity.start === recorded.start &&
    obs.identity.bootId === recorded.bootId
  );
}
