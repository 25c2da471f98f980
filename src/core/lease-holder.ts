import type { ProcessObservation } from './process.port.js';
import type { ProcessIdentity } from './types.js';

// Who holds a lease. A process holder names itself beyond pid reuse: `host:PID start=S boot=B` (start is
// /proc/PID/stat field 22, B the kernel's boot id), so a successor on the same host and boot can prove the
// holder is gone and take the lease at once instead of waiting out its expiry. People see only `host:PID`.
// Holders without an identity (`actor:token`, daemons of older versions) always wait for expiry.

/** A lease holder that is one process on one host. */
export interface HolderIdentity extends ProcessIdentity {
  host: string;
}

const HOLDER_RE = /^(\S+):([1-9][0-9]*) start=([0-9]+) boot=(\S+)$/;

/** The holder string of one process; a host name with whitespace cannot be parsed back, so it gets `host:PID` only. */
export function processHolder(id: HolderIdentity): string {
  const plain = `${id.host}:${id.pid}`;
  if (/\s/.test(id.host) || /\s/.test(id.bootId) || id.bootId === '') return plain;
  return `${plain} start=${id.start} boot=${id.bootId}`;
}

/** The process identity a holder string carries; null for a holder that carries none. */
export function parseHolder(holder: string): HolderIdentity | null {
  const m = HOLDER_RE.exec(holder);
  if (m === null) return null;
  const pid = Number(m[2]);
  const start = Number(m[3]);
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(start)) return null;
  return { host: m[1] as string, pid, start, bootId: m[4] as string };
}

/** How a holder is named to people: `host:PID` for a process holder, the string itself otherwise. */
export function holderLabel(holder: string): string {
  const id = parseHolder(holder);
  return id === null ? holder : `${id.host}:${id.pid}`;
}

/** Whether a conflicting holder may be replaced now (`gone`, with how we know), or must be waited out. */
export type HolderVerdict = { kind: 'gone'; why: string } | { kind: 'wait'; why: string };

/**
 * Judge the holder of an unexpired lease. Only a process holder on this host, recorded in this boot, whose
 * pid is observed absent, a zombie, or another process (a different start time) is gone. Anything not seen
 * for certain (unreadable /proc, unknown boot id) waits: a live holder must never lose its lease.
 */
export function judgeHolder(
  holder: string,
  here: { host: string; bootId: string | null },
  obs: ProcessObservation | undefined,
): HolderVerdict {
  const id = parseHolder(holder);
  if (id === null) return { kind: 'wait', why: 'the holder carries no process identity' };
  if (id.host !== here.host) return { kind: 'wait', why: `the holder runs on another host (${id.host})` };
  if (here.bootId === null) return { kind: 'wait', why: 'this boot id cannot be read' };
  if (id.bootId !== here.bootId) return { kind: 'wait', why: 'the holder was recorded in another boot' };
  if (obs === undefined) return { kind: 'wait', why: `pid ${id.pid} was not observed` };
  switch (obs.kind) {
    case 'unknown':
      return { kind: 'wait', why: `pid ${id.pid} cannot be observed: ${obs.reason}` };
    case 'dead':
      return { kind: 'gone', why: obs.reason === 'zombie' ? `pid ${id.pid} is a zombie` : `pid ${id.pid} is gone` };
    case 'alive':
      if (obs.identity.start !== id.start || obs.identity.bootId !== id.bootId)
        return { kind: 'gone', why: `pid ${id.pid} is now another process (${obs.comm})` };
      return { kind: 'wait', why: `pid ${id.pid} is alive` };
    default: {
      const never: never = obs;
      throw new Error(`unhandled observation ${String(never)}`);
    }
  }
}
