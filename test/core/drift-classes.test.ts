// The drift table (src/core/drift-classes.ts, rendered into the README) against what diagnose emits: one
// world per class, so a class diagnose stops emitting, or a new one without a row, fails here.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose.js';
import type { DriftClass } from '../../src/core/drift-classes.js';
import { DRIFT_CLASSES } from '../../src/core/drift-classes.js';
import { leftWorktreeFindings } from '../../src/core/workspace.js';
import {
  DEMO,
  hostView,
  NOW,
  SCREEN,
  TTL,
  message,
  obs,
  pane,
  runtime,
  snapshot,
  spawningRow,
  ticket,
  type SnapInput,
} from './builders.js';

const live = { runtimes: [runtime()], panes: [pane()], processes: [[100, obs.alive()]] } satisfies SnapInput;
const deadPane = (deadSince: number): SnapInput => ({
  runtimes: [runtime({ status: 'exited', deadSince })],
  panes: [pane({ paneDead: true, paneDeadStatus: 137 })],
});

/** WORKTREE-LEFT is judged from the workspace rows, after diagnose (src/core/workspace.ts). */
type WorkspaceClass = 'WORKTREE-LEFT';

/** The WORKTREE-LEFT world: MC-1's worktree on disk, MC-1 todo with no runtime. */
function worktreeLeft(): string[] {
  const ws = {
    id: 1,
    repo: '/r',
    path: '/r.mcc-worktrees/MC-1',
    mode: 'worktree' as const,
    slot: null,
    branch: 'mc/MC-1',
    base: 'main',
    ticketKey: 'MC-1',
    createdAt: NOW,
    updatedAt: NOW,
  };
  return leftWorktreeFindings([ws], new Map([['MC-1', 'todo']]), new Set(), () => true).flatMap((f) => f.drift ?? []);
}

/** One world per class, named by the class the README says it shows. */
const WORLDS: Record<Exclude<DriftClass, WorkspaceClass>, SnapInput> = {
  'HIDDEN-LIVE': { ...live, tickets: [ticket({ status: 'todo', workerPid: null })] },
  // Live and claimed by the ticket, but the row never got its pid recorded: the rows disagree.
  DRIFT: {
    tickets: [ticket()],
    runtimes: [spawningRow({ createdAt: NOW - TTL - 1 })],
    panes: [pane()],
    processes: [[100, obs.alive()]],
  },
  ORPHAN: { tickets: [ticket({ status: 'todo', workerPid: null })], panes: [pane()], processes: [[100, obs.alive()]] },
  DYING: { ...deadPane(NOW - 1000), tickets: [ticket()] },
  STALE: { ...deadPane(NOW - TTL - 1), tickets: [ticket()] },
  'SPAWN-FAILED': { tickets: [ticket()], runtimes: [spawningRow({ createdAt: NOW - TTL - 1 })] },
  'DONE-LIVE': { ...live, tickets: [ticket({ status: 'done' })] },
  'NEEDS-OPERATOR': { ...live, tickets: [ticket({ status: 'blocked' })] },
  'NOT-READY': {
    ...live,
    runtimes: [runtime({ createdAt: NOW - DEMO.readyTimeoutMs - 1 })],
    tickets: [ticket()],
    messages: [message({ createdAt: NOW - DEMO.readyTimeoutMs - 1 })],
    captures: [['%1', SCREEN.working]],
  },
  OVERDUE: {
    ...live,
    runtimes: [runtime({ createdAt: NOW - 61_000 })],
    tickets: [ticket({ checkInSeconds: 60 })],
    captures: [['%1', SCREEN.working]],
  },
  // MC-1's runtime lives on host-b, whose daemon last beat 45 s ago (host TTL 30 s).
  UNREACHABLE: {
    tickets: [ticket()],
    runtimes: [runtime({ host: 'host-b' })],
    hosts: [hostView({ id: 'host-b', heartbeatAt: NOW - 45_000 })],
  },
  UNKNOWN: {
    tickets: [ticket()],
    runtimes: [runtime()],
    tmux: { kind: 'unknown', at: NOW, reason: 'server not responding' },
  },
};

describe('drift classes', () => {
  it('each world makes diagnose emit exactly the class it is named for', () => {
    for (const [cls, world] of Object.entries(WORLDS)) {
      const drifts = diagnose(snapshot(world)).flatMap((f) => (f.drift ? [f.drift] : []));
      expect(drifts, cls).toEqual([cls]);
    }
    expect(worktreeLeft()).toEqual(['WORKTREE-LEFT']);
  });

  it('the table has one row per class diagnose emits, and nothing else', () => {
    const emitted = [
      ...Object.values(WORLDS).flatMap((w) => diagnose(snapshot(w)).flatMap((f) => f.drift ?? [])),
      ...worktreeLeft(),
    ];
    const badges = DRIFT_CLASSES.map((d) => d.badge);
    expect(new Set(badges).size, 'a badge appears twice').toBe(badges.length);
    expect([...new Set(emitted)].sort()).toEqual([...badges].sort());
  });

  it('every row says what was observed and what is done', () => {
    for (const d of DRIFT_CLASSES) {
      expect(d.observed.length, d.badge).toBeGreaterThan(10);
      expect(d.action.length, d.badge).toBeGreaterThan(5);
    }
  });
});
