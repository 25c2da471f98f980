import type { RuntimeSession } from './types.js';

// Several hosts, one store: the host registry's words and its pure judgements. A host is reachable while its
// daemon's heartbeat is younger than `hostTtlSeconds`; an UNREACHABLE host's runtimes are unverifiable, never
// dead (nobody closes them, re-queues their tickets or spawns them elsewhere); a forgotten host was fenced by
// `mcc host forget`, and its epoch tells its daemon, should it come back, to retire what it left behind.

/** What a host id may be: also what `--host` / MCC_HOST accept. */
export const HOST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** What a host label may be (`mcc --auto --label`, `mcc add --host-label`). */
export const HOST_LABEL_RE = /^[A-Za-z0-9._-]{1,64}$/;
export const HOST_LABEL_RULE = '1 to 64 letters, digits, dot, dash or underscore';

/** An ssh destination given to `ssh` as one argument: never an option, never whitespace. */
export const SSH_TARGET_RE = /^[A-Za-z0-9_.@%+:[\]][A-Za-z0-9_.@%+:[\]-]{0,254}$/;

/** The reason a runtime row of a forgotten host was closed with. */
export const HOST_LOST = 'host_lost';

/** One row of the `hosts` table. */
export interface Host {
  id: string;
  bootId: string | null;
  version: string;
  tmuxSocket: string;
  heartbeatAt: number;
  labels: string[];
  /** What `ssh` is given to reach the host (`user@box`, an ssh_config alias); null: attach works only there. */
  sshTarget: string | null;
  /** Fencing: moves on at each forget; a daemon that registered with an older one is refused. */
  epoch: number;
  forgottenAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type Reachability =
  { kind: 'reachable'; ageMs: number } | { kind: 'unreachable'; ageMs: number } | { kind: 'forgotten'; at: number };

/** How a host stands at `now`: forgotten, else reachable while its heartbeat is at most `hostTtlSeconds` old. */
export function hostReachability(
  host: Pick<Host, 'heartbeatAt' | 'forgottenAt'>,
  now: number,
  hostTtlSeconds: number,
): Reachability {
  if (host.forgottenAt !== null) return { kind: 'forgotten', at: host.forgottenAt };
  const ageMs = Math.max(0, now - host.heartbeatAt);
  return ageMs > hostTtlSeconds * 1000 ? { kind: 'unreachable', ageMs } : { kind: 'reachable', ageMs };
}

/** Why `id` is not a host id, or null when it is one. */
export function hostIdProblem(id: string): string | null {
  if (HOST_ID_RE.test(id)) return null;
  const shown = id.length > 40 ? `${id.slice(0, 40)}... (${id.length} characters)` : id;
  return `host "${shown}": 1 to 64 letters, digits, dot, dash or underscore`;
}

/**
 * Which host this process is, and the older names it answers for: rows written before hosts had ids carry the
 * plain hostname, and they are this machine's only when the id was defaulted (an explicit `--host` names
 * another identity, which inherits nothing).
 */
export interface HostIdentity {
  id: string;
  /** Legacy names of this host (the plain hostname), never including `id`. */
  aliases: readonly string[];
}

/** The host identity: `override` (validated by the caller), else `hostname-<machine-id prefix>`, else the hostname. */
export function hostIdentity(opts: {
  override: string | null;
  hostname: string;
  machineId: string | null;
}): HostIdentity {
  if (opts.override !== null) return { id: opts.override, aliases: [] };
  const name = sanitizeHostname(opts.hostname);
  const mid = (opts.machineId ?? '').trim().toLowerCase();
  const short = /^[0-9a-f]{8,}$/.test(mid) ? mid.slice(0, 8) : null;
  const id = short === null ? name : `${name.slice(0, 64 - 9)}-${short}`;
  return { id, aliases: id === opts.hostname ? [] : [opts.hostname] };
}

/** A hostname as a host id: characters outside the id alphabet become `-`, cut to 64, `host` when empty. */
function sanitizeHostname(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return cleaned === '' ? 'host' : cleaned;
}

/** Whether a runtime row was written by this host (under its id or one of its legacy names). */
export function isHostOf(
  row: Pick<RuntimeSession, 'host'>,
  me: HostIdentity | { host: string; aliases?: readonly string[] },
): boolean {
  const id = 'id' in me ? me.id : me.host;
  return row.host === id || (me.aliases ?? []).includes(row.host);
}

/**
 * The argv that attaches this terminal to a session of another host: `ssh TARGET -t tmux -L SOCKET attach -t
 * =SESSION`, as separate arguments (never one shell string); a fault naming the host when it has no ssh target.
 */
export function remoteAttachArgv(
  host: Pick<Host, 'id' | 'sshTarget'>,
  runtime: Pick<RuntimeSession, 'tmuxSocket' | 'tmuxSession'>,
): { ok: true; argv: string[] } | { ok: false; message: string } {
  if (host.sshTarget !== null && !SSH_TARGET_RE.test(host.sshTarget))
    return { ok: false, message: `attach: host ${host.id} has an unusable ssh target; set it again with --ssh-target` };
  if (host.sshTarget === null)
    return {
      ok: false,
      message:
        `attach: ${runtime.tmuxSession} runs on host ${host.id}, which has no ssh target; start its daemon with ` +
        `--ssh-target USER@HOST (or set "sshTarget" in its config) so other hosts can attach`,
    };
  // `--` keeps a target that starts with `-` from being read as an ssh option.
  return {
    ok: true,
    argv: [
      'ssh',
      '-t',
      '--',
      host.sshTarget,
      'tmux',
      '-L',
      runtime.tmuxSocket,
      'attach',
      '-t',
      `=${runtime.tmuxSession}`,
    ],
  };
}

/** One host as `mcc hosts` and the console show it. */
export interface HostView {
  host: Host;
  reach: Reachability;
  /** Open runtime rows of the host (all of them: another host's liveness is not observable here). */
  openRuntimes: number;
}

/** The hosts with their reachability and open runtimes, known hosts first by id. */
export function hostViews(
  hosts: readonly Host[],
  runtimes: readonly Pick<RuntimeSession, 'host' | 'status'>[],
  now: number,
  hostTtlSeconds: number,
): HostView[] {
  const open = new Map<string, number>();
  for (const r of runtimes) if (r.status !== 'closed') open.set(r.host, (open.get(r.host) ?? 0) + 1);
  return [...hosts]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((host) => ({
      host,
      reach: hostReachability(host, now, hostTtlSeconds),
      openRuntimes: open.get(host.id) ?? 0,
    }));
}

/** The hosts whose daemon stopped beating: their runtimes show `?` with this age. */
export function unreachableHosts(views: readonly HostView[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of views) if (v.reach.kind === 'unreachable') out.set(v.host.id, v.reach.ageMs);
  return out;
}
