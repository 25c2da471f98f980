import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose.js';
import {
  NOW,
  RETRY_LIMIT,
  TTL,
  actionTypes,
  drifts,
  message,
  obs,
  pane,
  runtime,
  snapshot,
  spawningRow,
  ticket,
} from './builders.js';

// The named invariants that need more than one row or one session: stealing, exact names, the retry limit,
// orphans of tickets this store does not know, and a live pid whose pane is gone.

const old = NOW - TTL - 1;

describe('invariant 5: a ticket held by a verified live runtime is never re-pointed', () => {
  it('in_progress with its verified live runtime and matching worker_pid: no adopt, no drift', () => {
    const fs = diagnose(
      snapshot({ tickets: [ticket()], runtimes: [runtime()], panes: [pane()], processes: [[100, obs.alive()]] }),
    );
    expect(drifts(fs)).toEqual([]);
    expect(actionTypes(fs)).not.toContain('adopt');
  });

  it('a row on another host holds the ticket: a local session of the same name is not adopted', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ status: 'in_progress', updatedAt: old })],
        runtimes: [runtime({ host: 'h2', pid: 555, pidStart: 1 })],
        panes: [pane({ panePid: 200, paneId: '%9' })],
        processes: [
          [200, obs.alive(200, 7)],
          [555, obs.unknown('not on this host')],
        ],
      }),
    );
    expect(actionTypes(fs)).toEqual(['none']);
    expect(fs[0]!.drift).toBe('UNKNOWN');
  });

  it('normalizing worker_pid points the ticket at its own runtime’s verified identity, never at another pid', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ workerPid: 4242 })],
        runtimes: [runtime()],
        panes: [pane()],
        processes: [
          [100, obs.alive()],
          [4242, obs.alive(4242, 1)],
        ],
      }),
    );
    expect(fs).toHaveLength(1);
    expect(fs[0]!.drift).toBe('DRIFT');
    const a = fs[0]!.action;
    expect(a.type).toBe('adopt');
    if (a.type === 'adopt')
      expect([a.runtimeId, a.identity]).toEqual([11, { pid: 100, start: 5000, bootId: 'boot-1' }]);
  });

  it('an open row that cannot be confirmed (/proc unknown) blocks adopting anything for the ticket', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ status: 'todo' })],
        runtimes: [runtime({ status: 'running' })],
        panes: [pane()],
        processes: [[100, obs.unknown()]],
      }),
    );
    expect(actionTypes(fs)).toEqual(['none']);
  });
});

describe('invariant 6: a live pid without its pane is not life', () => {
  it('the recorded pane is gone and the session now runs another process: not live, nothing delivered to it', () => {
    // Someone killed mc-MC-1 (the agent survived SIGHUP) and a new session of the same name runs pid 200.
    const fs = diagnose(
      snapshot({
        tickets: [ticket()],
        runtimes: [runtime({ status: 'idle' })],
        messages: [message({ kind: 'operator', body: 'please rebase', runtimeId: null })],
        panes: [pane({ paneId: '%2', panePid: 200 })],
        processes: [
          [100, obs.alive()],
          [200, obs.alive(200, 6000, undefined, 'bash')],
        ],
        captures: [['%2', ['$ ', 'demo> ']]],
      }),
    );
    expect(actionTypes(fs)).not.toContain('deliver');
    // The recorded agent (pid 100) lives on outside its pane: not life (invariant 6). Its row is closed without
    // killing or signalling anything, and the new session is adopted as a new runtime, not into the old row.
    const replace = fs.find((f) => f.action.type === 'replace');
    expect(replace?.action).toMatchObject({ runtimeId: 11, adopt: { runtimeId: null, identity: { pid: 200 } } });
  });

  it('a session re-created under the same name is not the dead runtime’s: nothing is killed, the newcomer is adopted as a new runtime', () => {
    // The agent of pane %1 is gone; someone made mc-MC-1 again by hand (pane %2, a live pid 200).
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ updatedAt: old })],
        runtimes: [runtime({ status: 'exited', deadSince: old })],
        panes: [pane({ paneId: '%2', panePid: 200, storeTag: '' })],
        processes: [
          [100, obs.absent()],
          [200, obs.alive(200, 6000)],
        ],
      }),
    );
    expect(actionTypes(fs)).not.toContain('close');
    expect(actionTypes(fs)).not.toContain('kill_orphan');
    // The dead row is closed (nothing killed) and the newcomer adopted as a NEW row, in one step.
    const replace = fs.find((f) => f.action.type === 'replace');
    expect(replace?.drift).toBe('ORPHAN');
    expect(replace?.action).toMatchObject({
      runtimeId: 11,
      adopt: { runtimeId: null, paneId: '%2', identity: { pid: 200 } },
    });
  });

  it('a todo ticket whose session pane pid is a zombie is not adopted', () => {
    const fs = diagnose(
      snapshot({ tickets: [ticket({ status: 'todo' })], panes: [pane()], processes: [[100, obs.zombie()]] }),
    );
    expect(actionTypes(fs)).not.toContain('adopt');
  });

  it('an orphan whose pid was not inspected declines (UNKNOWN), it does not adopt', () => {
    const fs = diagnose(snapshot({ tickets: [ticket({ status: 'todo' })], panes: [pane()] }));
    expect(fs.map((f) => [f.drift, f.action.type])).toEqual([['UNKNOWN', 'none']]);
  });
});

describe('the exit status recorded for a dead agent', () => {
  const first = (panes: ReturnType<typeof pane>[], processes: Array<[number, ReturnType<typeof obs.zombie>]> = []) =>
    diagnose(snapshot({ tickets: [ticket()], runtimes: [runtime({ status: 'running' })], panes, processes }))[0]!;

  it('a signal that killed the pane’s process is reported as 128 + signal', () => {
    const f = first([pane({ paneDead: true, paneDeadStatus: null, paneDeadSignal: 9 })]);
    expect(f.action).toMatchObject({ type: 'mark_exited', exitStatus: 137 });
    expect(f.evidence.join(' ')).toContain('signal 9');
  });

  it('a dead pane without a status takes the zombie’s wait status when the kernel shows it', () => {
    const f = first(
      [pane({ paneDead: true, paneDeadStatus: null })],
      [[100, { kind: 'dead', reason: 'zombie', waitStatus: 3 << 8 }]],
    );
    expect(f.action).toMatchObject({ type: 'mark_exited', exitStatus: 3 });
  });

  it('the status survives to the close after the TTL', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ updatedAt: old })],
        runtimes: [runtime({ status: 'exited', exitStatus: 137, deadSince: old })],
        panes: [pane({ paneDead: true, paneDeadStatus: 137 })],
      }),
    );
    expect(fs[0]!.action).toMatchObject({ type: 'close', exitStatus: 137, killSession: 'mc-MC-1' });
  });
});

describe('invariant 9: sessions are matched by exact name only', () => {
  it('mc-MC-12 is not MC-1’s session, and MC-1’s ticket is handled as having none', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ key: 'MC-1', status: 'in_progress', updatedAt: old })],
        panes: [pane({ session: 'mc-MC-12', paneId: '%12', panePid: 1200 })],
        processes: [[1200, obs.alive(1200, 1)]],
      }),
    );
    const mine = fs.filter((f) => f.ticketKey === 'MC-1');
    expect(mine.map((f) => [f.drift, f.action.type])).toEqual([['STALE', 'requeue_ticket']]);
    const a = mine[0]!.action;
    if (a.type === 'requeue_ticket') expect(a.killSession).toBeNull();
    // MC-12 is not a ticket of this store: shown to the operator, never touched.
    expect(fs.filter((f) => f.ticketKey === 'MC-12').map((f) => [f.drift, f.action.type])).toEqual([
      ['NEEDS-OPERATOR', 'none'],
    ]);
  });

  it.each(['mc-MC-1-old', 'mc-MC-01', 'xmc-MC-1', 'mc-mc-1', 'mc-MC-1 ', 'MC-1'])(
    '%j is nobody’s session: ignored entirely',
    (name) => {
      const fs = diagnose(
        snapshot({
          tickets: [ticket({ status: 'todo' })],
          panes: [pane({ session: name })],
          processes: [[100, obs.alive()]],
        }),
      );
      expect(fs).toEqual([]);
    },
  );

  it('a runtime row of MC-1 never takes the pane of mc-MC-12', () => {
    const fs = diagnose(
      snapshot({
        tickets: [ticket({ status: 'todo' }), ticket({ key: 'MC-12', status: 'todo', workerPid: null })],
        runtimes: [spawningRow({ createdAt: old })],
        panes: [pane({ session: 'mc-MC-12', paneId: '%12', panePid: 1200 })],
        processes: [[1200, obs.alive(1200, 1)]],
      }),
    );
    const mc1 = fs.filter((f) => f.ticketKey === 'MC-1');
    expect(mc1.map((f) => f.drift)).toEqual(['SPAWN-FAILED']);
    const mc12 = fs.filter((f) => f.ticketKey === 'MC-12');
    expect(mc12.map((f) => [f.drift, f.action.type])).toEqual([['ORPHAN', 'adopt']]);
  });
});

describe('orphans whose ticket this store does not know', () => {
  it('ours or untagged: NEEDS-OPERATOR, never killed, never adopted', () => {
    for (const storeTag of ['store-ours', '']) {
      const fs = diagnose(
        snapshot({ tickets: [], panes: [pane({ session: 'mc-MC-99', storeTag })], processes: [[100, obs.alive()]] }),
      );
      expect(fs.map((f) => [f.ticketKey, f.drift, f.action.type])).toEqual([['MC-99', 'NEEDS-OPERATOR', 'none']]);
    }
  });

  it('tagged by another store: not even reported, it is not ours', () => {
    const fs = diagnose(
      snapshot({
        tickets: [],
        panes: [pane({ session: 'mc-MC-99', storeTag: 'store-theirs' })],
        processes: [[100, obs.alive()]],
      }),
    );
    expect(fs).toEqual([]);
  });
});

describe('invariant 10: at the retry limit the ticket is blocked, with a reason', () => {
  const cases = [
    {
      name: 'dead runtime after TTL',
      rows: [runtime({ status: 'exited', deadSince: old })],
      panes: [pane({ paneDead: true, paneDeadStatus: 1 })],
    },
    { name: 'spawn failed', rows: [spawningRow({ createdAt: old })], panes: [] },
    { name: 'in_progress with no runtime', rows: [], panes: [] },
  ];
  for (const c of cases) {
    for (const attempts of [RETRY_LIMIT - 1, RETRY_LIMIT, RETRY_LIMIT + 2]) {
      const blocked = attempts >= RETRY_LIMIT;
      it(`${c.name}, attempts ${attempts}/${RETRY_LIMIT} -> ${blocked ? 'blocked' : 'todo'}`, () => {
        const fs = diagnose(
          snapshot({ tickets: [ticket({ attempts, updatedAt: old })], runtimes: c.rows, panes: c.panes }),
        );
        expect(fs).toHaveLength(1);
        const a = fs[0]!.action;
        const move = a.type === 'close' ? a.ticket : a.type === 'requeue_ticket' ? a : null;
        expect(move?.to).toBe(blocked ? 'blocked' : 'todo');
        if (blocked)
          expect(move?.blockedReason).toMatch(new RegExp(`retry limit reached \\(${attempts}/${RETRY_LIMIT}\\)`));
        else expect(move?.blockedReason).toBeNull();
      });
    }
  }
});

describe('ordering and purity', () => {
  it('findings come in ticket-number order, and the same snapshot gives the same findings', () => {
    const tickets = ['MC-10', 'MC-2', 'MC-1'].map((key) =>
      ticket({ key, status: 'in_progress', updatedAt: old, workerPid: null }),
    );
    const snap = snapshot({ tickets });
    const fs = diagnose(snap);
    expect(fs.map((f) => f.ticketKey)).toEqual(['MC-1', 'MC-2', 'MC-10']);
    expect(diagnose(snap)).toEqual(fs);
  });
});
