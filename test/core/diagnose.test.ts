import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose.js';
import type { DriftClass } from '../../src/core/drift-classes.js';
import type { Action, Finding } from '../../src/core/findings.js';
import type { PaneInfo, TmuxObservation } from '../../src/core/tmux.port.js';
import { TICKET_STATUSES, type RuntimeSession, type TicketStatus } from '../../src/core/types.js';
import type { ProcessObservation } from '../../src/core/process.port.js';
import { NOW, TTL, obs, pane, runtime, snapshot, spawningRow, ticket } from './builders.js';

// The drift matrix: every ticket state x every runtime situation x before/after the TTL. One table says what
// diagnose must decide; the named invariants below are then checked over the whole matrix, not one example.

/** `first`: the death is seen for the first time (row still `running`); `before`/`after`: relative to the TTL. */
type Phase = 'first' | 'before' | 'after';
const PHASES: Phase[] = ['first', 'before', 'after'];

interface World {
  runtimes?: RuntimeSession[];
  panes?: PaneInfo[];
  processes?: Array<[number, ProcessObservation]>;
  tmux?: TmuxObservation;
}

const young = NOW - 1000;
const old = NOW - TTL - 1;
const at = (ph: Phase) => (ph === 'after' ? old : young);

/** A row whose agent is dead: first sighting, or already `exited` for less / more than the TTL. */
function deadRow(ph: Phase, over: Partial<RuntimeSession> = {}): RuntimeSession {
  if (ph === 'first') return runtime({ status: 'running', ...over });
  return runtime({ status: 'exited', deadSince: at(ph), exitStatus: over.exitStatus ?? null, ...over });
}

const SITUATIONS: Record<string, (ph: Phase) => World> = {
  'no row, no session': () => ({}),
  'live, verified': () => ({ runtimes: [runtime()], panes: [pane()], processes: [[100, obs.alive()]] }),
  'spawning, pane up': (ph) => ({
    runtimes: [spawningRow({ createdAt: at(ph) })],
    panes: [pane()],
    processes: [[100, obs.alive()]],
  }),
  'spawning, no session': (ph) => ({ runtimes: [spawningRow({ createdAt: at(ph) })] }),
  'pane dead (137)': (ph) => ({ runtimes: [deadRow(ph)], panes: [pane({ paneDead: true, paneDeadStatus: 137 })] }),
  'session gone': (ph) => ({ runtimes: [deadRow(ph)], processes: [[100, obs.alive()]] }),
  'pid gone': (ph) => ({ runtimes: [deadRow(ph)], panes: [pane()], processes: [[100, obs.absent()]] }),
  zombie: (ph) => ({ runtimes: [deadRow(ph)], panes: [pane()], processes: [[100, obs.zombie()]] }),
  'pid reused': (ph) => ({
    runtimes: [deadRow(ph)],
    panes: [pane()],
    processes: [[100, obs.alive(100, 9999, undefined, 'bash')]],
  }),
  'other boot': (ph) => ({
    runtimes: [deadRow(ph, { bootId: 'boot-0' })],
    panes: [pane()],
    processes: [[100, obs.alive(100, 5000, 'boot-0')]],
  }),
  'session now another store’s': (ph) => ({
    runtimes: [deadRow(ph)],
    panes: [pane({ storeTag: 'store-theirs' })],
    processes: [[100, obs.alive()]],
  }),
  'row on another host': () => ({
    runtimes: [runtime({ host: 'h2' })],
    panes: [pane()],
    processes: [[100, obs.alive()]],
  }),
  'row on another socket': () => ({
    runtimes: [runtime({ tmuxSocket: 'other' })],
    panes: [pane()],
    processes: [[100, obs.alive()]],
  }),
  'tmux unknown': () => ({
    runtimes: [runtime()],
    tmux: { kind: 'unknown', at: NOW, reason: 'server not responding' },
  }),
  '/proc unknown': () => ({ runtimes: [runtime()], panes: [pane()], processes: [[100, obs.unknown()]] }),
  'orphan session (ours)': () => ({ panes: [pane()], processes: [[100, obs.alive()]] }),
  'orphan session (untagged)': () => ({ panes: [pane({ storeTag: '' })], processes: [[100, obs.alive()]] }),
  'orphan session, dead pane': () => ({ panes: [pane({ paneDead: true, paneDeadStatus: 1 })] }),
  'orphan session of another store': () => ({
    panes: [pane({ storeTag: 'store-theirs' })],
    processes: [[100, obs.alive()]],
  }),
};

/** What one cell must produce: no finding at all, or exactly one finding of this shape. */
type Expect =
  | 'nothing'
  | {
      drift: DriftClass | null;
      action: Action['type'];
      move?: TicketStatus | null;
      kill?: string | null;
      exit?: number | null;
    };

const DEAD_SITUATIONS = [
  'pane dead (137)',
  'session gone',
  'pid gone',
  'zombie',
  'pid reused',
  'other boot',
  'session now another store’s',
];
const S = 'mc-MC-1';

function expected(situation: string, status: TicketStatus, ph: Phase): Expect {
  const ip = status === 'in_progress';
  if (DEAD_SITUATIONS.includes(situation)) {
    const exit = situation === 'pane dead (137)' ? 137 : null;
    if (ph === 'first') return { drift: 'DYING', action: 'mark_exited', exit };
    if (ph === 'before') return { drift: 'DYING', action: 'wait' };
    const kill = situation === 'session gone' || situation === 'session now another store’s' ? null : S;
    return { drift: 'STALE', action: 'close', move: ip ? 'todo' : null, kill };
  }
  switch (situation) {
    case 'no row, no session':
      if (!ip) return 'nothing';
      return ph === 'after'
        ? { drift: 'STALE', action: 'requeue_ticket', move: 'todo', kill: null }
        : { drift: 'DYING', action: 'wait' };
    case 'live, verified':
      return liveExpect(status, false);
    case 'spawning, pane up':
      return ph === 'after' ? liveExpect(status, true) : { drift: null, action: 'wait' };
    case 'spawning, no session':
      return ph === 'after'
        ? { drift: 'SPAWN-FAILED', action: 'close', move: ip ? 'todo' : null, kill: null }
        : { drift: null, action: 'wait' };
    case 'row on another host':
    case 'row on another socket':
    case '/proc unknown':
    case 'tmux unknown':
      return { drift: 'UNKNOWN', action: 'none' };
    case 'orphan session (ours)':
    case 'orphan session (untagged)': {
      const ours = situation === 'orphan session (ours)';
      if (status === 'todo' || ip) return { drift: 'ORPHAN', action: 'adopt' };
      if (status === 'done') return ours ? { drift: 'DONE-LIVE', action: 'kill_orphan' } : 'nothing';
      return status === 'blocked' ? { drift: 'NEEDS-OPERATOR', action: 'none' } : 'nothing';
    }
    case 'orphan session, dead pane':
      if (!ip) return { drift: 'STALE', action: 'kill_orphan' };
      return ph === 'after'
        ? { drift: 'STALE', action: 'requeue_ticket', move: 'todo', kill: S }
        : { drift: 'DYING', action: 'wait' };
    case 'orphan session of another store':
      // Never touch their session, but an in_progress ticket without a runtime of ours is still requeued.
      if (!ip) return 'nothing';
      return ph === 'after'
        ? { drift: 'STALE', action: 'requeue_ticket', move: 'todo', kill: null }
        : { drift: 'DYING', action: 'wait' };
    default:
      throw new Error(`no expectation for ${situation}`);
  }
}

function liveExpect(status: TicketStatus, unrecorded: boolean): Expect {
  switch (status) {
    case 'todo':
      return { drift: 'HIDDEN-LIVE', action: 'adopt' };
    case 'in_progress':
      return unrecorded ? { drift: 'DRIFT', action: 'adopt' } : 'nothing';
    case 'in_review':
      return 'nothing';
    case 'done':
      return { drift: 'DONE-LIVE', action: 'close', move: null, kill: S };
    case 'blocked':
      return { drift: 'NEEDS-OPERATOR', action: 'none' };
  }
}

function run(
  situation: string,
  status: TicketStatus,
  ph: Phase,
  over: Partial<ReturnType<typeof ticket>> = {},
): Finding[] {
  const w = SITUATIONS[situation]!(ph);
  const t = ticket({ status, updatedAt: at(ph), ...over });
  return diagnose(
    snapshot({
      tickets: [t],
      runtimes: w.runtimes ?? [],
      panes: w.panes ?? [],
      processes: w.processes ?? [],
      ...(w.tmux ? { tmux: w.tmux } : {}),
    }),
  );
}

function moveOf(a: Action): TicketStatus | null | undefined {
  if (a.type === 'close') return a.ticket?.to ?? null;
  if (a.type === 'requeue_ticket') return a.to;
  return undefined;
}

function killOf(a: Action): string | null | undefined {
  return a.type === 'close' || a.type === 'requeue_ticket' ? a.killSession : undefined;
}

describe('diagnose: ticket state x runtime situation x TTL', () => {
  for (const situation of Object.keys(SITUATIONS)) {
    describe(situation, () => {
      for (const status of TICKET_STATUSES) {
        for (const ph of PHASES) {
          const exp = expected(situation, status, ph);
          const label = exp === 'nothing' ? 'nothing' : `${exp.drift ?? 'routine'} -> ${exp.action}`;
          it(`${status}, ${ph}: ${label}`, () => {
            const fs = run(situation, status, ph);
            if (exp === 'nothing') {
              expect(fs).toEqual([]);
              return;
            }
            expect(fs).toHaveLength(1);
            const f = fs[0]!;
            expect({ drift: f.drift, action: f.action.type }).toEqual({ drift: exp.drift, action: exp.action });
            expect(f.summary.length).toBeGreaterThan(0);
            if (exp.move !== undefined) expect(moveOf(f.action)).toBe(exp.move);
            if (exp.kill !== undefined) expect(killOf(f.action)).toBe(exp.kill);
            if (exp.exit !== undefined && f.action.type === 'mark_exited') expect(f.action.exitStatus).toBe(exp.exit);
          });
        }
      }
    });
  }
});

/** Every cell of the matrix, for the invariants that must hold across all of it. */
function everyCell(): Array<{ situation: string; status: TicketStatus; ph: Phase; findings: Finding[] }> {
  const cells = [];
  for (const situation of Object.keys(SITUATIONS)) {
    for (const status of TICKET_STATUSES)
      for (const ph of PHASES) cells.push({ situation, status, ph, findings: run(situation, status, ph) });
  }
  return cells;
}

describe('named invariants over the whole matrix', () => {
  it('1: a todo ticket is never left behind a live runtime: every live situation adopts it', () => {
    for (const [situation, ph] of [
      ['live, verified', 'first'],
      ['spawning, pane up', 'after'],
      ['orphan session (ours)', 'first'],
      ['orphan session (untagged)', 'first'],
    ] as const) {
      const fs = run(situation, 'todo', ph);
      expect(
        fs.map((f) => f.action.type),
        situation,
      ).toEqual(['adopt']);
      const a = fs[0]!.action;
      if (a.type === 'adopt') expect(a.identity).toEqual({ pid: 100, start: 5000, bootId: 'boot-1' });
    }
  });

  it('4: in_review and done are never moved by any finding (done + live -> close without a ticket move)', () => {
    for (const c of everyCell().filter((x) => x.status === 'in_review' || x.status === 'done')) {
      for (const f of c.findings) {
        expect(['adopt', 'requeue_ticket', 'marker', 'deliver'], `${c.situation} ${c.status} ${c.ph}`).not.toContain(
          f.action.type,
        );
        if (f.action.type === 'close') expect(f.action.ticket).toBeNull();
      }
    }
  });

  it('6: a reused pid, a zombie, a gone pid, another boot: never adopted, never routine work, first seen -> only marked exited', () => {
    for (const c of everyCell().filter((x) =>
      ['pid reused', 'zombie', 'pid gone', 'other boot'].includes(x.situation),
    )) {
      for (const f of c.findings) {
        expect(['adopt', 'deliver', 'resume_delivery', 'marker', 'observe']).not.toContain(f.action.type);
        if (c.ph !== 'after') expect(f.action.type).not.toBe('close');
      }
    }
  });

  it('7: an unknown observation never acts: tmux unknown is exactly one UNKNOWN finding and nothing else', () => {
    for (const c of everyCell().filter((x) => x.situation === 'tmux unknown')) {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({
        ticketKey: null,
        drift: 'UNKNOWN',
        severity: 'warning',
        action: { type: 'none' },
      });
    }
    for (const c of everyCell().filter((x) =>
      ['/proc unknown', 'row on another host', 'row on another socket'].includes(x.situation),
    )) {
      expect(c.findings.map((f) => f.action.type)).toEqual(['none']);
    }
  });

  it('8: a spawning row is left alone before its TTL and closed after it', () => {
    for (const status of TICKET_STATUSES) {
      for (const situation of ['spawning, pane up', 'spawning, no session']) {
        expect(run(situation, status, 'before').map((f) => f.action.type)).toEqual(['wait']);
        expect(run(situation, status, 'before')[0]!.drift).toBeNull();
      }
      expect(run('spawning, no session', status, 'after').map((f) => f.action.type)).toEqual(['close']);
    }
  });

  it('only in_progress tickets are ever requeued; todo never gets a close that moves it', () => {
    for (const c of everyCell()) {
      for (const f of c.findings) {
        const to = moveOf(f.action);
        if (to !== undefined && to !== null) expect(c.status).toBe('in_progress');
      }
    }
  });
});
