import { describe, expect, it } from 'vitest';
import { buildConsoleState, type ObservationState } from '../../src/core/console-model.js';
import { diagnose } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/findings.js';
import type { TicketOverview } from '../../src/core/store.port.js';
import type { RuntimeSession, Ticket } from '../../src/core/types.js';
import { NOW, TTL, obs, pane, runtime, snapshot, ticket } from './builders.js';

const OK: ObservationState = { state: 'ok', reason: null, lastOkAt: NOW };
const UNKNOWN: ObservationState = { state: 'unknown', reason: 'tmux: server not responding', lastOkAt: NOW - 5000 };

function row(t: Partial<Ticket>, r: Partial<RuntimeSession> | null = null, pending = 0): TicketOverview {
  const tk = ticket({ workerPid: null, ...t });
  return { ticket: tk, runtime: r === null ? null : runtime({ ticketKey: tk.key, ...r }), pendingMessages: pending };
}

function driftFinding(key: string, f: Partial<Finding>): Finding {
  return {
    ticketKey: key,
    runtimeId: null,
    drift: 'STALE',
    severity: 'warning',
    summary: 's',
    evidence: [],
    action: { type: 'none' },
    ...f,
  };
}

describe('buildConsoleState', () => {
  it('sorts by attention: drift and human input first, then blocked, in_progress, todo, in_review, done', () => {
    const overview = [
      row({ key: 'MC-1', status: 'done' }),
      row({ key: 'MC-2', status: 'todo' }),
      row({ key: 'MC-3', status: 'in_progress' }),
      row({ key: 'MC-4', status: 'in_progress' }),
      row({ key: 'MC-5', status: 'todo', humanInputRequired: true }),
      row({ key: 'MC-6', status: 'blocked' }),
      row({ key: 'MC-7', status: 'in_review' }),
      row({ key: 'MC-10', status: 'todo' }),
    ];
    const findings = [driftFinding('MC-4', { drift: 'STALE' }), { ...driftFinding('MC-3', {}), drift: null }];
    const s = buildConsoleState(overview, null, findings, OK, null, NOW);
    expect(s.rows.map((r) => r.key)).toEqual(['MC-4', 'MC-5', 'MC-6', 'MC-3', 'MC-2', 'MC-10', 'MC-7', 'MC-1']);
    expect(s.rows.find((r) => r.key === 'MC-3')!.badge).toBeNull(); // routine work is not a badge
    expect(s.counts).toEqual({ todo: 3, in_progress: 2, in_review: 1, done: 1, blocked: 1 });
    expect(s.driftCount).toBe(1);
  });

  it('badges stand without colour: the drift class, and DYING with the seconds left', () => {
    const overview = [row({ key: 'MC-1' }), row({ key: 'MC-2' }), row({ key: 'MC-3', status: 'todo' })];
    const findings = [
      driftFinding('MC-1', { drift: 'DYING', action: { type: 'wait', until: NOW + 11_200 } }),
      driftFinding('MC-2', {
        drift: 'DYING',
        action: { type: 'mark_exited', runtimeId: 1, runtimeVersion: 1, exitStatus: null },
      }),
      driftFinding('MC-3', { drift: 'HIDDEN-LIVE' }),
    ];
    const snap = snapshot();
    const s = buildConsoleState(overview, snap, findings, OK, null, NOW);
    const badge = (k: string) => s.rows.find((r) => r.key === k)!.badge;
    expect(badge('MC-1')).toBe('DYING 12s');
    expect(badge('MC-2')).toBe(`DYING ${TTL / 1000}s`);
    expect(badge('MC-3')).toBe('HIDDEN-LIVE');
  });

  it('a DYING wait already past shows 0s, never a negative count', () => {
    const s = buildConsoleState(
      [row({})],
      null,
      [driftFinding('MC-1', { drift: 'DYING', action: { type: 'wait', until: NOW - 5000 } })],
      OK,
      null,
      NOW,
    );
    expect(s.rows[0]!.badge).toBe('DYING 0s');
  });

  it('shows ? when the observation is unknown, never a guessed status', () => {
    const overview = [row({ key: 'MC-1' }, { status: 'running' })];
    const snap = snapshot({
      tickets: [overview[0]!.ticket],
      runtimes: [overview[0]!.runtime!],
      panes: [pane()],
      processes: [[100, obs.alive()]],
    });
    const unknown = buildConsoleState(overview, snap, [], UNKNOWN, null, NOW);
    expect(unknown.rows[0]).toMatchObject({ runtime: '?', live: false });
    expect(unknown.liveRuntimes).toBe(0);
    expect(buildConsoleState(overview, null, [], OK, null, NOW).rows[0]!.runtime).toBe('?');
    const seen = buildConsoleState(overview, snap, [], OK, null, NOW);
    expect(seen.rows[0]).toMatchObject({ runtime: 'running', live: true, pid: 100 });
    expect(seen.liveRuntimes).toBe(1);
    expect(seen.openRuntimes).toBe(1);
  });

  it('a runtime whose pid cannot be checked shows ? even when tmux answered', () => {
    const overview = [row({ key: 'MC-1' }, { status: 'running' })];
    const snap = snapshot({
      tickets: [overview[0]!.ticket],
      runtimes: [overview[0]!.runtime!],
      panes: [pane()],
      processes: [[100, obs.unknown()]],
    });
    expect(buildConsoleState(overview, snap, [], OK, null, NOW).rows[0]).toMatchObject({ runtime: '?', live: false });
  });

  it('a dead runtime shows its stored status, not live; a closed one shows none and no pid', () => {
    const overview = [
      row({ key: 'MC-1' }, { status: 'exited' }),
      row({ key: 'MC-2' }, { status: 'closed', ticketKey: 'MC-2' }),
    ];
    const snap = snapshot({ runtimes: [overview[0]!.runtime!], panes: [] });
    const s = buildConsoleState(overview, snap, [], OK, null, NOW);
    expect(s.rows.map((r) => [r.key, r.runtime, r.live, r.pid])).toEqual([
      ['MC-1', 'exited', false, 100],
      ['MC-2', 'none', false, null],
    ]);
    expect(s.openRuntimes).toBe(1);
  });

  it('orphans of tickets this store does not know count as drift in the header', () => {
    const snap = snapshot({ panes: [pane({ session: 'mc-MC-99' })], processes: [[100, obs.alive()]] });
    const s = buildConsoleState([row({ key: 'MC-1', status: 'todo' })], snap, diagnose(snap), OK, null, NOW);
    expect(s.driftCount).toBe(1);
    expect(s.rows.map((r) => r.badge)).toEqual([null]);
  });
});
