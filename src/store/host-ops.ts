import { HOST_LOST, type Host } from '../core/hosts.js';
import type { ForgetHostInput, ForgetHostOutcome, HeartbeatHostInput } from '../core/store.port.js';
import type { RuntimeSession } from '../core/types.js';
import { insertEvent } from './op-common.js';
import { iso, ms, toRuntime, type RuntimeRow } from './rows.js';
import { closeRuntime } from './ticket-ops.js';
import { all, get, refuse, run, type Op } from './sql-op.js';

// The host registry's store operations, written once as sql-op generators (src/store/sql-op.ts): the SQLite
// adapter drives them inside one immediate transaction, a server database inside one serializable one.

/** A hosts row as the database returns it. */
export interface HostRow {
  id: string;
  boot_id: string | null;
  mcc_version: string;
  tmux_socket: string;
  heartbeat_at: string;
  labels: string;
  ssh_target: string | null;
  epoch: number;
  forgotten_at: string | null;
  created_at: string;
  updated_at: string;
}

function labelsOf(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A hand-edited row must not take the host list down: its labels are shown as none.
    return [];
  }
  return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : [];
}

/** Map a hosts row to core. */
export function toHost(r: HostRow): Host {
  return {
    id: r.id,
    bootId: r.boot_id,
    version: r.mcc_version,
    tmuxSocket: r.tmux_socket,
    heartbeatAt: ms(r.heartbeat_at),
    labels: labelsOf(r.labels),
    sshTarget: r.ssh_target,
    epoch: Number(r.epoch),
    forgottenAt: r.forgotten_at === null ? null : ms(r.forgotten_at),
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
  };
}

/** Register or renew a host's heartbeat; refused as `conflict` when the host was fenced at a newer epoch. */
export function* heartbeatHost(i: HeartbeatHostInput): Op<Host> {
  const now = iso(i.now);
  const found = yield* get<HostRow>('SELECT * FROM hosts WHERE id = ?', [i.id]);
  if (found !== undefined && Number(found.epoch) > i.epoch)
    refuse(
      'conflict',
      `fenced: host ${i.id} was forgotten (epoch ${found.epoch}, this daemon registered with ${i.epoch}); ` +
        'retire its host_lost runtimes, then register again',
    );
  if (found !== undefined && Number(found.epoch) < i.epoch)
    refuse('invalid', `host ${i.id}: epoch ${i.epoch} is newer than the stored ${found.epoch}`);
  const params = {
    id: i.id,
    boot_id: i.bootId,
    version: i.version,
    socket: i.tmuxSocket,
    now,
    labels: JSON.stringify(i.labels ?? []),
    ssh_target: i.sshTarget ?? null,
    epoch: i.epoch,
  };
  let row: HostRow | undefined;
  if (found === undefined) {
    row = yield* get<HostRow>(
      `INSERT INTO hosts (id, boot_id, mcc_version, tmux_socket, heartbeat_at, labels, ssh_target, epoch,
         forgotten_at, created_at, updated_at)
       VALUES (@id, @boot_id, @version, @socket, @now, @labels, @ssh_target, @epoch, NULL, @now, @now)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      params,
    );
    if (row === undefined) refuse('conflict', `host ${i.id} registered concurrently; try again`);
  } else {
    const sets = [
      'boot_id = @boot_id',
      'mcc_version = @version',
      'tmux_socket = @socket',
      'heartbeat_at = @now',
      'forgotten_at = NULL',
      'updated_at = @now',
      i.labels === undefined ? null : 'labels = @labels',
      i.sshTarget === undefined ? null : 'ssh_target = @ssh_target',
    ].filter((s): s is string => s !== null);
    row = yield* get<HostRow>(
      `UPDATE hosts SET ${sets.join(', ')} WHERE id = @id AND epoch = @epoch RETURNING *`,
      params,
    );
    if (row === undefined) refuse('conflict', `host ${i.id}: its epoch moved during the heartbeat; try again`);
  }
  if (i.adoptLegacyHost !== undefined && i.adoptLegacyHost !== i.id) {
    yield* run(
      "UPDATE runtime_sessions SET host = @id, version = version + 1 WHERE host = @legacy AND status <> 'closed'",
      { id: i.id, legacy: i.adoptLegacyHost },
    );
  }
  return toHost(row);
}

/** Every host row by id. */
export function* listHosts(): Op<Host[]> {
  return (yield* all<HostRow>('SELECT * FROM hosts ORDER BY id')).map(toHost);
}

/** Runtime rows of a host closed `host_lost`, newest first. */
export function* hostLostRuntimes(i: { host: string; limit: number }): Op<RuntimeSession[]> {
  const rows = yield* all<RuntimeRow>(
    'SELECT * FROM runtime_sessions WHERE host = ? AND closed_reason = ? ORDER BY id DESC LIMIT ?',
    [i.host, HOST_LOST, Math.max(1, Math.floor(i.limit))],
  );
  return rows.map(toRuntime);
}

/**
 * Fence a host: epoch + 1 and forgotten_at, then each open runtime of it closed `host_lost` through
 * closeRuntime (its undelivered messages back in the queue, its in_progress/blocked ticket back to todo, one
 * event each), then one host event. A forgotten host is forgotten again (the epoch moves on once more).
 */
export function* forgetHost(i: ForgetHostInput): Op<ForgetHostOutcome> {
  const now = iso(i.now);
  const bumped = yield* get<HostRow>(
    'UPDATE hosts SET epoch = epoch + 1, forgotten_at = @now, updated_at = @now WHERE id = @id RETURNING *',
    { id: i.id, now },
  );
  if (bumped === undefined) {
    const known = (yield* all<{ id: string }>('SELECT id FROM hosts ORDER BY id')).map((h) => h.id);
    refuse('not_found', `no host ${i.id}; known hosts: ${known.length === 0 ? '(none)' : known.join(', ')}`);
  }
  const open = yield* all<RuntimeRow & { t_status: string; t_version: number }>(
    `SELECT r.*, t.status AS t_status, t.version AS t_version
       FROM runtime_sessions r JOIN tickets t ON t.key = r.ticket_key
      WHERE r.host = ? AND r.status <> 'closed' ORDER BY r.id`,
    [i.id],
  );
  const closed: ForgetHostOutcome['closed'] = [];
  for (const r of open) {
    const requeue = r.t_status === 'in_progress' || r.t_status === 'blocked';
    closed.push(
      yield* closeRuntime({
        runtimeId: r.id,
        runtimeVersion: r.version,
        reason: HOST_LOST,
        exitStatus: null,
        now: i.now,
        ...(requeue
          ? { ticket: { key: r.ticket_key, version: Number(r.t_version), to: 'todo', blockedReason: null } }
          : {}),
        event: {
          ticketKey: r.ticket_key,
          runtimeId: r.id,
          actor: i.actor,
          kind: 'runtime.host_lost',
          status: 'warning',
          summary:
            `host ${i.id} forgotten: runtime ${r.id} (${r.tmux_session}) closed host_lost` +
            (requeue ? `; ${r.ticket_key} ${r.t_status} -> todo` : ''),
          rootCause: `the operator forgot host ${i.id}; its runtimes cannot be verified from here`,
          safeRetry: `if host ${i.id} comes back, its daemon retires this session instead of resuming it`,
        },
      }),
    );
  }
  yield* insertEvent({ ...i.event, actor: i.event.actor || i.actor }, i.now);
  return { host: toHost(bumped), closed };
}
