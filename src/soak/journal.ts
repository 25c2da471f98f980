// What the soak's own actors did, with times: the operators' commands, the faults and their windows. The
// invariant checker reads it to tell the system's moves from the operators' and the injector's.

export const FAULT_KINDS = [
  'agent-kill',
  'daemon-kill',
  'tmux-kill',
  'agent-freeze',
  'disk-full',
  'operator-race',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface OpRecord {
  actor: string;
  /** The mcc command (`approve`, `send`, ...). */
  kind: string;
  key: string | null;
  startedAt: number;
  /** null while it runs. */
  endedAt: number | null;
  exitCode: number | null;
  /** One side of a two-operator race. */
  race: boolean;
  stderr: string;
}

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  endedAt: number;
  detail: string;
}

export class Journal {
  readonly ops: OpRecord[] = [];
  readonly faults: FaultRecord[] = [];
  /** pid -> when the injector killed it (kill -9 of one agent, or every agent of a killed tmux server). */
  readonly killedAgents = new Map<number, number>();
  /** Agents currently stopped by the injector. */
  readonly frozen = new Set<number>();
  /** Windows in which the store's disk was full: nothing can heal then. */
  readonly diskFull: { from: number; to: number | null }[] = [];
  /** Daemon restarts after kill -9: when it was started again and when its first pass began. */
  readonly daemonRestarts: { killedAt: number; restartedAt: number; firstPassAt: number | null }[] = [];
  /**
   * Since when the system could be expected to heal: the last moment a daemon began its first pass after a
   * restart, or the disk came back. A drift's deadline runs from here or from the drift, whichever is later.
   */
  healingSince = 0;

  begin(actor: string, kind: string, key: string | null, race = false): OpRecord {
    const op: OpRecord = { actor, kind, key, startedAt: Date.now(), endedAt: null, exitCode: null, race, stderr: '' };
    this.ops.push(op);
    return op;
  }

  end(op: OpRecord, exitCode: number | undefined, stderr: string): void {
    op.endedAt = Date.now();
    op.exitCode = exitCode ?? null;
    op.stderr = stderr.trim().slice(0, 300);
  }

  /** Operator commands on `key` of these kinds that ran (at least partly) between `from` and `to`. */
  opsDuring(key: string, from: number, to: number, kinds: readonly string[]): OpRecord[] {
    return this.ops.filter(
      (o) => o.key === key && kinds.includes(o.kind) && o.startedAt <= to && (o.endedAt ?? Infinity) >= from,
    );
  }

  /** Whether the disk was full at any time in [from, to]. */
  diskFullDuring(from: number, to: number): boolean {
    return this.diskFull.some((w) => w.from <= to && (w.to ?? Infinity) >= from);
  }

  /** Whether the daemon was down (killed, successor not yet passing) at any time in [from, to]. */
  daemonDownDuring(from: number, to: number): boolean {
    return this.daemonRestarts.some((r) => r.killedAt <= to && (r.firstPassAt ?? Infinity) >= from);
  }

  recordFault(kind: FaultKind, at: number, detail: string): void {
    this.faults.push({ kind, at, endedAt: Date.now(), detail });
  }
}
