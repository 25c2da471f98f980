// The host registry's pure judgements: reachability, host ids (and the legacy hostname alias), the remote
// attach argv, and the reconciler never judging another host's runtime.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConsoleState } from '../../src/core/console-model.js';
import { diagnose } from '../../src/core/diagnose.js';
import {
  HOST_ID_RE,
  hostIdentity,
  hostIdProblem,
  hostReachability,
  hostViews,
  isHostOf,
  remoteAttachArgv,
  unreachableHosts,
} from '../../src/core/hosts.js';
import { HOST, hostRow, hostView, NOW, obs, pane, runtime, snapshot, ticket, WHERE } from './builders.js';

describe('hostReachability', () => {
  it('reachable up to and including the TTL, UNREACHABLE past it, forgotten whatever the heartbeat', () => {
    expect(hostReachability(hostRow({ heartbeatAt: NOW }), NOW, 30)).toEqual({ kind: 'reachable', ageMs: 0 });
    expect(hostReachability(hostRow({ heartbeatAt: NOW - 30_000 }), NOW, 30)).toEqual({
      kind: 'reachable',
      ageMs: 30_000,
    });
    expect(hostReachability(hostRow({ heartbeatAt: NOW - 30_001 }), NOW, 30)).toEqual({
      kind: 'unreachable',
      ageMs: 30_001,
    });
    expect(hostReachability(hostRow({ heartbeatAt: NOW, forgottenAt: NOW - 5 }), NOW, 30)).toEqual({
      kind: 'forgotten',
      at: NOW - 5,
    });
  });

  it('a heartbeat from the future (clock skew between hosts) is age 0, reachable', () => {
    expect(hostReachability(hostRow({ heartbeatAt: NOW + 10_000 }), NOW, 30)).toEqual({ kind: 'reachable', ageMs: 0 });
  });

  it('property: forgotten iff forgottenAt is set; otherwise UNREACHABLE iff age > TTL, with the exact age', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: -1e7, max: 1e9 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null }),
        (now, back, ttl, forgottenAt) => {
          const r = hostReachability(hostRow({ heartbeatAt: now - back, forgottenAt }), now, ttl);
          if (forgottenAt !== null) return r.kind === 'forgotten' && r.at === forgottenAt;
          if (r.kind === 'forgotten') return false;
          const age = Math.max(0, back);
          return r.ageMs === age && (r.kind === 'unreachable') === age > ttl * 1000;
        },
      ),
    );
  });

  it('property: moving time forward never turns an UNREACHABLE host reachable again (only a heartbeat does)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 3600 }),
        (a, d, ttl) => {
          const h = hostRow({ heartbeatAt: 0 });
          const before = hostReachability(h, a, ttl).kind;
          const after = hostReachability(h, a + d, ttl).kind;
          return !(before === 'unreachable' && after === 'reachable');
        },
      ),
    );
  });

  it('hostViews counts open runtimes per host and sorts by id; unreachableHosts names the stale ones', () => {
    const views = hostViews(
      [hostRow({ id: 'zeta', heartbeatAt: NOW - 60_000 }), hostRow({ id: 'alpha' })],
      [runtime({ host: 'zeta' }), runtime({ host: 'zeta', status: 'closed' }), runtime({ host: 'alpha' })],
      NOW,
      30,
    );
    expect(views.map((v) => [v.host.id, v.openRuntimes, v.reach.kind])).toEqual([
      ['alpha', 1, 'reachable'],
      ['zeta', 1, 'unreachable'],
    ]);
    expect([...unreachableHosts(views)]).toEqual([['zeta', 60_000]]);
  });
});

describe('host identity', () => {
  const mid = '3f2a9c1b0d4e4f5a8b7c6d5e4f3a2b1c\n';

  it('defaults to the hostname plus 8 characters of the machine id, answering for the plain hostname too', () => {
    expect(hostIdentity({ override: null, hostname: 'devbox', machineId: mid })).toEqual({
      id: 'devbox-3f2a9c1b',
      aliases: ['devbox'],
    });
  });

  it('is the hostname alone when the machine id is unreadable or not one, with no alias', () => {
    expect(hostIdentity({ override: null, hostname: 'devbox', machineId: null })).toEqual({
      id: 'devbox',
      aliases: [],
    });
    expect(hostIdentity({ override: null, hostname: 'devbox', machineId: 'garbage' })).toEqual({
      id: 'devbox',
      aliases: [],
    });
  });

  it('an override inherits nothing: rows under the plain hostname are not its own', () => {
    expect(hostIdentity({ override: 'box-b', hostname: 'devbox', machineId: mid })).toEqual({
      id: 'box-b',
      aliases: [],
    });
  });

  it('property: the default id is always a valid host id, whatever the hostname', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: null }),
        (name, m) => {
          const id = hostIdentity({ override: null, hostname: name, machineId: m }).id;
          return HOST_ID_RE.test(id) && hostIdProblem(id) === null;
        },
      ),
    );
  });

  it('hostIdProblem names what is wrong, quoting at most 40 characters of a hostile value', () => {
    expect(hostIdProblem('ok.host-1_x')).toBeNull();
    expect(hostIdProblem('a b')).toContain('letters, digits, dot, dash or underscore');
    expect(hostIdProblem('')).not.toBeNull();
    expect(hostIdProblem('x'.repeat(65))).not.toBeNull();
    expect(hostIdProblem('y'.repeat(5000))).toContain('(5000 characters)');
  });

  it('isHostOf: the id or a legacy alias', () => {
    const me = { host: 'devbox-3f2a9c1b', aliases: ['devbox'] };
    expect(isHostOf({ host: 'devbox-3f2a9c1b' }, me)).toBe(true);
    expect(isHostOf({ host: 'devbox' }, me)).toBe(true);
    expect(isHostOf({ host: 'other' }, me)).toBe(false);
    expect(isHostOf({ host: 'devbox' }, { host: 'devbox-3f2a9c1b' })).toBe(false);
  });
});

describe('remote attach argv', () => {
  const r = { tmuxSocket: 'mcc', tmuxSession: 'mc-MC-7' };

  it('is ssh to the target, a terminal, then tmux on the runtime socket attaching the exact session', () => {
    expect(remoteAttachArgv({ id: 'b', sshTarget: 'me@box-b' }, r)).toEqual({
      ok: true,
      argv: ['ssh', '-t', '--', 'me@box-b', 'tmux', '-L', 'mcc', 'attach', '-t', '=mc-MC-7'],
    });
  });

  it('no ssh target: a clear error naming the host and how to set one', () => {
    const res = remoteAttachArgv({ id: 'box-b', sshTarget: null }, r);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.message).toContain('host box-b');
      expect(res.message).toContain('--ssh-target');
      expect(res.message).toContain('sshTarget');
    }
  });

  it('a hand-edited target that would be an ssh option or hold a space is refused, never run', () => {
    for (const t of ['-oProxyCommand=sh', 'a b', 'x;y'])
      expect(remoteAttachArgv({ id: 'b', sshTarget: t }, r).ok).toBe(false);
  });
});

describe('another host is never judged here', () => {
  // Host A observes; the runtime row is host B's; there is no tmux session for it on A.
  const rowB = runtime({ host: 'host-b' });
  const world = (hosts?: ReturnType<typeof hostView>[]) =>
    snapshot({ tickets: [ticket()], runtimes: [rowB], panes: [], ...(hosts ? { hosts } : {}) });

  for (const [name, hosts] of [
    ['B beats', [hostView({ id: 'host-b' })]],
    ['B is UNREACHABLE', [hostView({ id: 'host-b', heartbeatAt: NOW - 45_000 })]],
    ['B is unknown to the hosts table', []],
    ['no hosts read', undefined],
  ] as const) {
    it(`${name}: nothing is closed, the ticket is not re-queued, the finding says "on host host-b"`, () => {
      const fs = diagnose(world(hosts ? [...hosts] : undefined));
      expect(fs.map((f) => f.action.type)).toEqual(['none']);
      expect(fs[0]!.summary).toContain('on host host-b');
    });
  }

  it('UNREACHABLE: one standing warning whose summary does not move with the heartbeat age', () => {
    const at = (age: number) => diagnose(world([hostView({ id: 'host-b', heartbeatAt: NOW - age })]))[0]!;
    expect(at(45_000)).toMatchObject({ drift: 'UNREACHABLE', severity: 'warning' });
    expect(at(45_000).summary).toBe(at(900_000).summary);
    expect(at(45_000).evidence[0]).toBe('last heartbeat 45s ago');
  });

  it('a reachable host: no badge, no warning (its own daemon judges it)', () => {
    expect(diagnose(world([hostView({ id: 'host-b' })]))[0]).toMatchObject({ drift: null, severity: 'info' });
  });

  it('the grid shows `?` with UNREACHABLE and the heartbeat age; a reachable host shows the stored status', () => {
    const run = (heartbeatAt: number) => {
      const snap = world([hostView({ id: 'host-b', heartbeatAt })]);
      const state = buildConsoleState(
        [{ ticket: ticket(), runtime: rowB, pendingMessages: 0 }],
        snap,
        diagnose(snap),
        { state: 'ok', reason: null, lastOkAt: NOW },
        null,
        NOW + 5000,
      );
      return state.rows[0]!;
    };
    expect(run(NOW - 45_000)).toMatchObject({ runtime: '?', badge: 'UNREACHABLE 50s', host: 'host-b' });
    expect(run(NOW)).toMatchObject({ runtime: 'idle', badge: null, host: 'host-b' });
  });

  it('a legacy row under the plain hostname is this host’s own when the id was defaulted', () => {
    const legacy = runtime({ host: 'devbox' });
    const live = {
      runtimes: [legacy],
      panes: [pane()],
      processes: [[100, obs.alive()]] as [number, ReturnType<typeof obs.alive>][],
    };
    const withAlias = snapshot({ ...live, tickets: [ticket()], where: { ...WHERE, host: HOST, aliases: ['devbox'] } });
    expect(diagnose(withAlias).filter((f) => f.drift !== null)).toEqual([]);
    const without = snapshot({ ...live, tickets: [ticket()] });
    expect(diagnose(without).map((f) => f.drift)).toEqual(['UNKNOWN']);
  });
});
