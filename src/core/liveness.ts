import { isHostOf } from './hosts.js';
import { exitStatusOf, sameProcess, type ProcessObservation } from './process.port.js';
import type { PaneInfo, TmuxObservation } from './tmux.port.js';
import type { ProcessIdentity, RuntimeSession } from './types.js';

// "Live" means: the session exists, its pane is not dead, and the recorded agent identity (pid + start
// time + boot id) matches a running, non-zombie process. A pane alone is not life; a pid alone is not life.

export type Liveness =
  | { kind: 'live'; pane: PaneInfo; identity: ProcessIdentity }
  /** A pane is up but no identity was recorded yet (a `spawning` row): its first process is the candidate. */
  | { kind: 'unrecorded'; pane: PaneInfo; identity: ProcessIdentity }
  | { kind: 'dead'; why: string; exitStatus: number | null; pane: PaneInfo | null }
  | { kind: 'unknown'; why: string };

export interface Where {
  host: string;
  /** Legacy names of this host: rows written under them before hosts had ids are this host's too. */
  aliases?: readonly string[];
  socket: string;
  storeId: string;
  bootId: string | null;
}

/** The panes of one observation indexed by exact session name (first pane of the first window first). */
export function panesBySession(tmux: TmuxObservation): Map<string, PaneInfo[]> {
  const map = new Map<string, PaneInfo[]>();
  if (tmux.kind !== 'ok') return map;
  for (const p of tmux.panes) {
    const list = map.get(p.session);
    if (list) list.push(p);
    else map.set(p.session, [p]);
  }
  for (const list of map.values()) list.sort((a, b) => a.windowIndex - b.windowIndex || a.paneIndex - b.paneIndex);
  return map;
}

/** A session is ours when it carries our store's tag; an untagged one (made by hand) is ours to adopt. */
export function isOursOrUntagged(pane: PaneInfo, where: Where): boolean {
  return pane.storeTag === '' || pane.storeTag === where.storeId;
}

/**
 * The pane that belongs to a runtime row: exactly the recorded pane. Only a row that never recorded one
 * (`spawning`) looks at the session's first pane. A session re-created under the same name is not ours.
 */
export function paneOf(row: RuntimeSession, panes: Map<string, PaneInfo[]>): PaneInfo | null {
  const list = panes.get(row.tmuxSession);
  if (!list || list.length === 0) return null;
  if (row.paneId === null) return list[0] ?? null;
  return list.find((p) => p.paneId === row.paneId) ?? null;
}

function identityOfPane(
  pane: PaneInfo,
  processes: ReadonlyMap<number, ProcessObservation>,
): { identity: ProcessIdentity } | { dead: string } | { unknown: string } {
  const obs = processes.get(pane.panePid);
  if (!obs) return { unknown: `pid ${pane.panePid} was not inspected` };
  if (obs.kind === 'unknown') return { unknown: `pid ${pane.panePid}: ${obs.reason}` };
  if (obs.kind === 'dead')
    return { dead: `pane pid ${pane.panePid} is ${obs.reason === 'zombie' ? 'a zombie' : 'gone'}` };
  return { identity: obs.identity };
}

/** A dead pane's verdict with the best exit status known: tmux's status or signal, else the zombie's. */
function deadPane(pane: PaneInfo, obs: ProcessObservation | undefined): Liveness {
  if (pane.paneDeadSignal) {
    return {
      kind: 'dead',
      why: `agent killed by signal ${pane.paneDeadSignal}`,
      exitStatus: 128 + pane.paneDeadSignal,
      pane,
    };
  }
  let st = pane.paneDeadStatus;
  if (st === null && obs?.kind === 'dead' && obs.waitStatus !== undefined) st = exitStatusOf(obs.waitStatus);
  return { kind: 'dead', why: `agent exited${st === null ? '' : ` with status ${st}`}`, exitStatus: st, pane };
}

/** Judge whether a runtime row's agent is alive, from one tmux observation and the process identities. */
export function livenessOf(
  row: RuntimeSession,
  tmux: TmuxObservation,
  panes: Map<string, PaneInfo[]>,
  processes: ReadonlyMap<number, ProcessObservation>,
  where: Where,
): Liveness {
  if (!isHostOf(row, where) || row.tmuxSocket !== where.socket) {
    return {
      kind: 'unknown',
      why: `runtime ${row.id} lives on host ${row.host} socket ${row.tmuxSocket}, not observable here`,
    };
  }
  if (tmux.kind !== 'ok') return { kind: 'unknown', why: `tmux observation unknown: ${tmux.reason}` };
  const pane = paneOf(row, panes);
  if (!pane) {
    const why = panes.has(row.tmuxSession)
      ? `pane ${row.paneId} of ${row.tmuxSession} is gone (the session was re-created)`
      : `session ${row.tmuxSession} is gone`;
    return { kind: 'dead', why, exitStatus: null, pane: null };
  }
  if (row.pid !== null && pane.panePid !== row.pid) {
    // The agent was the pane's first process; another pid there is another program: never judge, paste
    // into or kill it on this row's behalf.
    return {
      kind: 'dead',
      why: `pane ${pane.paneId} now runs pid ${pane.panePid}, not the recorded agent pid ${row.pid}`,
      exitStatus: null,
      pane: null,
    };
  }
  if (!isOursOrUntagged(pane, where)) {
    return {
      kind: 'dead',
      why: `session ${row.tmuxSession} now belongs to another store`,
      exitStatus: null,
      pane: null,
    };
  }
  if (pane.paneDead) return deadPane(pane, row.pid === null ? undefined : processes.get(row.pid));
  if (row.pid === null || row.pidStart === null || row.bootId === null) {
    // A row that never recorded its agent and was already judged exited saw its session's first pane die: a
    // live pane there now is a session made again under the name (by hand, or by another pickup), not this
    // row's agent coming back. Judge the row dead without claiming that pane, so it is closed and the live
    // session is judged on its own.
    if (row.status === 'exited') {
      return {
        kind: 'dead',
        why: `session ${row.tmuxSession} was made again after runtime ${row.id} exited`,
        exitStatus: row.exitStatus,
        pane: null,
      };
    }
    const id = identityOfPane(pane, processes);
    if ('identity' in id) return { kind: 'unrecorded', pane, identity: id.identity };
    if ('dead' in id) return { kind: 'dead', why: id.dead, exitStatus: null, pane };
    return { kind: 'unknown', why: id.unknown };
  }
  if (where.bootId !== null && row.bootId !== where.bootId) {
    return { kind: 'dead', why: `recorded pid ${row.pid} belongs to an earlier boot`, exitStatus: null, pane };
  }
  const obs = processes.get(row.pid);
  if (!obs) return { kind: 'unknown', why: `pid ${row.pid} was not inspected` };
  switch (obs.kind) {
    case 'unknown':
      return { kind: 'unknown', why: `pid ${row.pid}: ${obs.reason}` };
    case 'dead':
      return {
        kind: 'dead',
        why: `agent pid ${row.pid} is ${obs.reason === 'zombie' ? 'a zombie' : 'gone'}`,
        exitStatus: null,
        pane,
      };
    case 'alive':
      if (!sameProcess(obs, { pid: row.pid, start: row.pidStart, bootId: row.bootId })) {
        return {
          kind: 'dead',
          why: `pid ${row.pid} was reused by another process (${obs.comm})`,
          exitStatus: null,
          pane,
        };
      }
      return { kind: 'live', pane, identity: obs.identity };
    default: {
      const never: never = obs;
      throw new Error(`unhandled observation ${JSON.stringify(never)}`);
    }
  }
}
