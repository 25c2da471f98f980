import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ageText,
  COMMAND_KINDS,
  decodeAction,
  decodeResult,
  encodeAction,
  judgeClaimer,
  MAX_SEND_CHARS,
  OUTCOME_UNKNOWN,
  recoveryOf,
  rerunnable,
  route,
  type CommandAction,
  type CommandKind,
  type HostState,
} from '../../src/core/commands.js';
import { pollingWake } from '../../src/core/command-wake.port.js';
import { processHolder } from '../../src/core/lease-holder.js';
import type { ProcessObservation } from '../../src/core/process.port.js';

// The pure part of the command queue: where an action runs, what a stored command asks, and what happens to a
// command whose claimer died.

const LOCAL = 'hostA';
const states: HostState[] = [
  { kind: 'alive', heartbeatAgeMs: 3_000 },
  { kind: 'unreachable', heartbeatAgeMs: 5 * 60_000 },
  { kind: 'unknown' },
  { kind: 'forgotten' },
];
const hostState: fc.Arbitrary<HostState> = fc.oneof(
  fc.record({ kind: fc.constant('alive' as const), heartbeatAgeMs: fc.nat() }),
  fc.record({ kind: fc.constant('unreachable' as const), heartbeatAgeMs: fc.nat() }),
  fc.constant({ kind: 'unknown' as const }),
  fc.constant({ kind: 'forgotten' as const }),
);
const hostName = fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/);

describe('route', () => {
  it.each(states)('runs an action on a runtime of this host here, whatever the registry says (%o)', (s) => {
    expect(route(LOCAL, LOCAL, s)).toEqual({ kind: 'local' });
  });

  it('queues for a live host without a warning', () => {
    expect(route('hostB', LOCAL, { kind: 'alive', heartbeatAgeMs: 1000 })).toEqual({
      kind: 'remote',
      host: 'hostB',
      warning: null,
    });
  });

  it('queues for an unreachable host and says so at once, with the heartbeat age', () => {
    const r = route('hostB', LOCAL, { kind: 'unreachable', heartbeatAgeMs: 5 * 60_000 });
    expect(r).toMatchObject({ kind: 'remote', host: 'hostB' });
    expect(r.kind === 'remote' && r.warning).toContain('host hostB is unreachable (last heartbeat 5 min ago)');
  });

  it('queues for a host never seen, saying no heartbeat is on record', () => {
    const r = route('hostB', LOCAL, { kind: 'unknown' });
    expect(r.kind === 'remote' && r.warning).toContain('no heartbeat on record');
  });

  it('refuses a forgotten host (conflict) and a name that is no host name (invalid)', () => {
    expect(route('hostB', LOCAL, { kind: 'forgotten' })).toMatchObject({ kind: 'refused', code: 'conflict' });
    for (const bad of ['', 'two words', 'tab\there', 'esc\u001b[2J', 'x'.repeat(256)])
      expect(route(bad, LOCAL, { kind: 'alive', heartbeatAgeMs: 0 })).toMatchObject({
        kind: 'refused',
        code: 'invalid',
      });
  });

  it('property: local exactly when the target is this host; never remote for a forgotten one', () => {
    fc.assert(
      fc.property(hostName, hostName, hostState, (target, local, s) => {
        const r = route(target, local, s);
        expect(r.kind === 'local').toBe(target === local);
        if (target !== local) {
          expect(r.kind).toBe(s.kind === 'forgotten' ? 'refused' : 'remote');
          if (r.kind === 'remote') {
            expect(r.host).toBe(target);
            expect(r.warning === null).toBe(s.kind === 'alive');
          }
        }
      }),
    );
  });
});

const key = fc.integer({ min: 1, max: 99999 }).map((n) => `MC-${n}`);
const action: fc.Arbitrary<CommandAction> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('retire' as const, 'kill' as const, 'interrupt' as const),
    key,
    runtimeId: fc.integer({ min: 1, max: 2 ** 40 }),
  }),
  fc.record({
    kind: fc.constant('send' as const),
    key,
    text: fc.string({ minLength: 1, maxLength: 200 }).filter((t) => t.trim() !== ''),
  }),
  fc.record({ kind: fc.constantFrom('adopt' as const, 'pickup' as const), key }),
);

describe('encodeAction / decodeAction', () => {
  it('property: what is stored is what is read back', () => {
    fc.assert(
      fc.property(action, fc.nat(), (a, id) => {
        const { kind, ticketKey, args } = encodeAction(a);
        expect(decodeAction({ id, kind, ticketKey, args: JSON.stringify(args) })).toEqual({ ok: true, value: a });
      }),
    );
  });

  it.each<[string, CommandKind, string | null, string, string]>([
    ['no ticket', 'retire', null, '{"runtimeId":1}', 'names no ticket'],
    ['a bad key', 'retire', 'MC-0x', '{"runtimeId":1}', 'names no ticket'],
    ['not JSON', 'retire', 'MC-1', '{', 'not JSON'],
    ['an array', 'adopt', 'MC-1', '[]', 'not a JSON object'],
    ['no runtime id', 'interrupt', 'MC-1', '{}', 'runtimeId is not a runtime id'],
    ['a fractional runtime id', 'kill', 'MC-1', '{"runtimeId":1.5}', 'runtimeId is not a runtime id'],
    ['a blank text', 'send', 'MC-1', '{"text":"  "}', 'text is missing or empty'],
    ['a huge text', 'send', 'MC-1', JSON.stringify({ text: 'x'.repeat(MAX_SEND_CHARS + 1) }), 'longer than'],
  ])('refuses a hand-edited row with %s, naming the command', (_, kind, ticketKey, args, why) => {
    const r = decodeAction({ id: 42, kind, ticketKey, args });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('invalid');
      expect(r.message).toContain(`command 42 (${kind})`);
      expect(r.message).toContain(why);
    }
  });
});

describe('decodeResult', () => {
  it('reads both result shapes, null while there is none, and an unreadable one as a failure', () => {
    expect(decodeResult(null)).toBeNull();
    expect(decodeResult('{"ok":true,"summary":"retired"}')).toEqual({ ok: true, summary: 'retired' });
    expect(decodeResult('{"ok":false,"code":"conflict","message":"m"}')).toEqual({
      ok: false,
      code: 'conflict',
      message: 'm',
    });
    expect(decodeResult('done by hand')).toEqual({
      ok: false,
      code: 'invalid',
      message: 'unreadable result: done by hand',
    });
  });
});

describe('a command whose claimer died', () => {
  it('is run again only when running it twice is safe', () => {
    expect(COMMAND_KINDS.filter(rerunnable)).toEqual(['retire', 'kill', 'adopt', 'pickup']);
    for (const kind of COMMAND_KINDS) {
      const r = recoveryOf({ kind }, 'host:12: pid 12 is gone');
      if (rerunnable(kind)) expect(r).toEqual({ kind: 'rerun' });
      else {
        expect(r.kind).toBe('fail');
        if (r.kind === 'fail' && !r.result.ok) {
          expect(r.result.code).toBe('outcome_unknown');
          expect(r.result.message).toContain(OUTCOME_UNKNOWN);
          expect(r.result.message).toContain('pid 12 is gone');
        }
      }
    }
  });

  const here = { host: 'hostB', bootId: 'boot-1' };
  const claimer = processHolder({ host: 'hostB', pid: 4242, start: 100, bootId: 'boot-1' });
  const alive = (start: number): ProcessObservation => ({
    kind: 'alive',
    identity: { pid: 4242, start, bootId: 'boot-1' },
    state: 'S',
    comm: 'node',
  });

  it.each<[string, string, { host: string; bootId: string | null }, ProcessObservation | undefined, 'gone' | 'wait']>([
    ['its pid is gone', claimer, here, { kind: 'dead', reason: 'absent' }, 'gone'],
    ['its pid is another process', claimer, here, alive(999), 'gone'],
    ['the host rebooted', claimer, { host: 'hostB', bootId: 'boot-2' }, undefined, 'gone'],
    ['it is alive', claimer, here, alive(100), 'wait'],
    ['it cannot be observed', claimer, here, { kind: 'unknown', reason: 'EACCES' }, 'wait'],
    ['this boot id is unknown', claimer, { host: 'hostB', bootId: null }, undefined, 'wait'],
    ['it runs on another host', claimer, { host: 'hostC', bootId: 'boot-1' }, undefined, 'wait'],
    ['it carries no identity', 'hostB:4242', here, { kind: 'dead', reason: 'absent' }, 'wait'],
  ])('judges the claimer when %s', (_, who, where, obs, verdict) => {
    expect(judgeClaimer(who, where, obs).kind).toBe(verdict);
  });
});

describe('ageText', () => {
  it.each([
    [0, '0s'],
    [119_999, '119s'],
    [120_000, '2 min'],
    [10 * 60_000, '10 min'],
    [3 * 3_600_000, '3 h'],
    [3 * 86_400_000, '3 d'],
    [-5, '0s'],
  ])('%i ms reads %s', (msAgo, text) => {
    expect(ageText(msAgo)).toBe(text);
  });
});

describe('pollingWake', () => {
  function fakeTimers() {
    const pending = new Map<number, () => void>();
    let next = 1;
    return {
      pending,
      timers: {
        setTimeout: (fn: () => void) => {
          pending.set(next, fn);
          return next++;
        },
        clearTimeout: (h: unknown) => void pending.delete(h as number),
      },
      fire: () => [...pending.values()].forEach((fn) => fn()),
    };
  }

  it('waits out its timeout, ends at once on abort, and leaves no timer behind', async () => {
    const t = fakeTimers();
    const wake = pollingWake(t.timers);
    const ctl = new AbortController();
    const waiting = wake.wait(ctl.signal, 1000);
    expect(t.pending.size).toBe(1);
    t.fire();
    expect(await waiting).toBe('timeout');
    t.pending.clear();
    const aborted = wake.wait(ctl.signal, 1000);
    ctl.abort();
    expect(await aborted).toBe('aborted');
    expect(t.pending.size).toBe(0);
    expect(await wake.wait(ctl.signal, 1000)).toBe('aborted');
    await wake.close();
  });
});
