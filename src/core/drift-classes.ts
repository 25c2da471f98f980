// The drift classes as data: the badge the console shows, what was observed, what the reconciler does. The
// README's drift table is generated from this list (npm run docs) and diagnose's DriftClass is its badges.

export const DRIFT_CLASSES = [
  {
    badge: 'HIDDEN-LIVE',
    observed: 'ticket `todo`, live runtime (the seed)',
    action: 'adopt: ticket `in_progress`, worker_pid = live pid, runtime `running`',
  },
  {
    badge: 'DRIFT',
    observed: 'ticket `in_progress`, live runtime, rows disagree',
    action: 'normalize the rows to the live runtime',
  },
  {
    badge: 'ORPHAN',
    observed:
      "a live `mc-` session with no runtime row, or a session re-created under a runtime's name (its recorded pane or pid is gone)",
    action:
      "adopt it as a new runtime (ticket `todo`/`in_progress`); a re-created session's old row is closed in the same step, nothing killed",
  },
  {
    badge: 'DYING',
    /** The grid shows this badge with the seconds left until the TTL. */
    shown: 'DYING 12s',
    observed: 'runtime dead, younger than the TTL',
    action: 'wait; the runtime is marked `exited`',
  },
  {
    badge: 'STALE',
    observed: 'runtime dead for ≥ TTL, or `in_progress` with no runtime',
    action:
      'close it (kill a leftover pane, keep its last lines as evidence); ticket `todo`, or `blocked` at the retry limit',
  },
  {
    badge: 'SPAWN-FAILED',
    observed: '`spawning` row older than the TTL, no session',
    action: 'close it; ticket `todo`/`blocked`',
  },
  {
    badge: 'DONE-LIVE',
    observed: 'ticket `done`, runtime live',
    action: 'retire the runtime; the ticket is not touched',
  },
  {
    badge: 'NEEDS-OPERATOR',
    observed:
      'ticket `blocked` with a live runtime; a session whose ticket this store does not know; a ticket whose profile is gone from the config; a delivery a crash cut after the paste whose draft is not on screen',
    action: 'nothing automatic (nothing typed); one warning',
  },
  {
    badge: 'NOT-READY',
    observed: "a message pending longer than its profile's `readyTimeoutSeconds` while the runtime lives",
    action:
      'nothing typed; one warning event (root cause, screen tail, matched pattern; attach/interrupt/retire), until it is delivered',
  },
  {
    badge: 'WORKTREE-LEFT',
    observed:
      "a ticket's worktree on disk with no open runtime while the ticket is todo, in_progress or blocked (a pickup that crashed before its agent started)",
    action: 'nothing deleted; one warning; the next pickup of the ticket works in it again',
  },
  {
    badge: 'OVERDUE',
    observed:
      "ticket `in_progress` past its expected check-in (`mcc add --check-in`, the profile's `checkIn`) with no marker",
    action: 'nothing typed; one warning event per check-in, the badge sorts the row to the top until a marker',
  },
  {
    badge: 'UNREACHABLE',
    /** The grid shows this badge with the age of the host's last heartbeat. */
    shown: 'UNREACHABLE 45s',
    observed: "a runtime of another host whose daemon's heartbeat is older than `hostTtlSeconds`",
    action:
      'nothing closed, re-queued or spawned elsewhere (unverifiable is never dead); the runtime shows `?`; one warning; `mcc host forget HOST` fences the host',
  },
  {
    badge: 'UNKNOWN',
    observed:
      'tmux or `/proc` could not be read, or a runtime lives on another socket, or on a host the hosts table does not know',
    action: 'nothing destructive; one warning, not one per pass',
  },
] as const;

export type DriftClass = (typeof DRIFT_CLASSES)[number]['badge'];
