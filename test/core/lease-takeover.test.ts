// A lease whose holder is a dead process of this host and boot is taken over at once; any other holder
// (alive, another host, another boot, unobservable, no identity) is waited out until its lease expires.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_LEASE } from '../../src/core/console-controller.js';
import { holderLabel, judgeHolder, parseHolder, processHolder } from '../../src/core/lease-holder.js';
import type { MissionControl } from '../../src/core/service.js';
import { Env, HOST } from './model-env.js';

const TTL = 10_000;

describe('holder strings', () => {
  it('round-trip a process identity and show only host:PID', () => {
    const h = processHolder({ host: 'box-1.example', pid: 4242, start: 987654, bootId: 'a1b2-c3' });
    expect(h).toBe('box-1.example:4242 start=987654 boot=a1b2-c3');
    expect(parseHolder(h)).toEqual({ host: 'box-1.example', pid: 4242, start: 987654, bootId: 'a1b2-c3' });
    expect(holderLabel(h)).toBe('box-1.example:4242');
  });

  it('carry no identity for older or foreign holders, which are shown as they are', () => {
    for (const h of ['worker-9.example:4242', 'auto:1a2b3c4d', 'operator:root:1a2b3c4d', 'h:0 start=1 boot=b', ''])
      expect([parseHolder(h), holderLabel(h)]).toEqual([null, h]);
    // A host or boot id with whitespace could forge the fields, so it gets no identity at all.
    expect(processHolder({ host: 'a b', pid: 1, start: 2, bootId: 'x' })).toBe('a b:1');
    expect(processHolder({ host: 'a', pid: 1, start: 2, bootId: 'x y' })).toBe('a:1');
  });
});

describe('judgeHolder', () => {
  const holder = processHolder({ host: 'h1', pid: 7, start: 100, bootId: 'B' });
  const here = { host: 'h1', bootId: 'B' };
  const alive = (start: number, bootId = 'B') =>
    ({ kind: 'alive', identity: { pid: 7, start, bootId }, state: 'S', comm: 'node' }) as const;

  it.each([
    ['absent', { kind: 'dead', reason: 'absent' } as const, 'gone', 'pid 7 is gone'],
    ['a zombie', { kind: 'dead', reason: 'zombie' } as const, 'gone', 'pid 7 is a zombie'],
    ['reused', alive(101), 'gone', 'pid 7 is now another process (node)'],
    ['alive', alive(100), 'wait', 'pid 7 is alive'],
    ['unknown', { kind: 'unknown', reason: 'EACCES' } as const, 'wait', 'pid 7 cannot be observed: EACCES'],
    ['not observed', undefined, 'wait', 'pid 7 was not observed'],
  ])('same host and boot, pid %s', (_name, obs, kind, why) => {
    expect(judgeHolder(holder, here, obs)).toEqual({ kind, why });
  });

  it('waits for another host, another boot, an unreadable boot id, or no identity, whatever /proc says', () => {
    const dead = { kind: 'dead', reason: 'absent' } as const;
    expect(judgeHolder(holder, { host: 'h2', bootId: 'B' }, dead).kind).toBe('wait');
    expect(judgeHolder(holder, { host: 'h1', bootId: 'B2' }, dead).kind).toBe('wait');
    expect(judgeHolder(holder, { host: 'h1', bootId: null }, dead).kind).toBe('wait');
    expect(judgeHolder('h1:7', here, dead).kind).toBe('wait');
  });
});

describe('MissionControl.acquireLease over a held lease', () => {
  let env: Env;
  let mc: MissionControl;
  beforeEach(() => {
    env = new Env();
    mc = env.process('auto').mc;
  });
  afterEach(() => env.dispose());

  /** A daemon process of this fake machine holding the lease; returns its pid and holder string. */
  async function heldBy(host = HOST): Promise<{ pid: number; holder: string }> {
    const pid = env.world.procs.spawn('mcc');
    const p = env.world.procs.table.get(pid)!;
    const holder = processHolder({ host, pid, start: p.start, bootId: env.world.procs.boot });
    const r = await env.store.acquireLease({ name: DAEMON_LEASE, holder, ttlMs: TTL, now: env.world.clock.now() });
    expect(r.ok).toBe(true);
    return { pid, holder };
  }

  async function successor(): Promise<string> {
    return mc.processHolder(env.world.procs.spawn('mcc'));
  }

  async function leaseEvents() {
    return (await env.store.listEvents({ limit: 50 })).filter((e) => e.kind === 'lease');
  }

  it('its own holder string names this process with start time and boot id', async () => {
    const pid = env.world.procs.spawn('mcc');
    expect(await mc.processHolder(pid)).toBe(
      `${HOST}:${pid} start=${env.world.procs.table.get(pid)!.start} boot=boot-A`,
    );
    env.world.procs.unknown = true;
    expect(await mc.processHolder(pid)).toBe(`${HOST}:${pid}`);
  });

  it('takes over at once from a dead holder of this host and boot, and logs whose lease it took', async () => {
    const dead = await heldBy();
    env.world.procs.exit(dead.pid);
    const me = await successor();
    const r = await mc.acquireLease(DAEMON_LEASE, me, TTL);
    if (!r.ok) throw new Error(r.message);
    expect(r.value).toMatchObject({
      holder: me,
      expiresAt: env.world.clock.now() + TTL,
      takenOver: { from: `${HOST}:${dead.pid}`, why: `pid ${dead.pid} is gone` },
    });
    expect(await mc.readLease(DAEMON_LEASE)).toMatchObject({ holder: me });
    expect(await leaseEvents()).toEqual([
      expect.objectContaining({
        actor: 'auto',
        status: 'warning',
        summary: `took over lease ${DAEMON_LEASE} from ${HOST}:${dead.pid}: pid ${dead.pid} is gone`,
      }),
    ]);
    // Renewing our own lease is no takeover.
    const again = await mc.acquireLease(DAEMON_LEASE, me, TTL);
    expect(again.ok && again.value.takenOver).toBeUndefined();
    expect(await leaseEvents()).toHaveLength(1);
  });

  it('takes over from a zombie holder', async () => {
    const dead = await heldBy();
    env.world.procs.zombify(dead.pid);
    const r = await mc.acquireLease(DAEMON_LEASE, await successor(), TTL);
    expect(r.ok && r.value.takenOver?.why).toBe(`pid ${dead.pid} is a zombie`);
  });

  it('takes over when the pid now belongs to another process (a different start time)', async () => {
    const dead = await heldBy();
    env.world.procs.exit(dead.pid);
    expect(env.world.procs.reuse(dead.pid)).toBe(true);
    const r = await mc.acquireLease(DAEMON_LEASE, await successor(), TTL);
    expect(r.ok && r.value.takenOver?.why).toBe(`pid ${dead.pid} is now another process (bash)`);
  });

  /** The successor is refused with a conflict naming host:PID, and the lease stays the holder's. */
  async function waits(held: { pid: number; holder: string }, why: string, host = HOST): Promise<void> {
    const r = await mc.acquireLease(DAEMON_LEASE, await successor(), TTL);
    if (r.ok) throw new Error(`took the lease of ${held.holder}`);
    expect(r.code).toBe('conflict');
    expect(r.holder).toBe(`${host}:${held.pid}`);
    expect(r.message).toContain(`held by ${host}:${held.pid} until`);
    expect(r.message).toContain(why);
    expect(r.message).not.toContain('boot=');
    expect(await mc.readLease(DAEMON_LEASE)).toMatchObject({ holder: held.holder });
    expect(await leaseEvents()).toEqual([]);
  }

  it('waits while the holder is alive', async () => {
    const held = await heldBy();
    await waits(held, `pid ${held.pid} is alive`);
  });

  it('waits for a holder on another host even if that pid is absent here', async () => {
    const held = await heldBy('h2');
    env.world.procs.exit(held.pid);
    await waits(held, 'the holder runs on another host (h2)', 'h2');
  });

  it('waits for a holder recorded in another boot, then takes the lease when it expires', async () => {
    const held = await heldBy();
    env.world.procs.exit(held.pid);
    env.world.procs.boot = 'boot-B';
    await waits(held, 'the holder was recorded in another boot');
    env.world.clock.advance(TTL + 1);
    const r = await mc.acquireLease(DAEMON_LEASE, await successor(), TTL);
    expect(r.ok && r.value.takenOver).toBeUndefined();
  });

  it('waits while /proc cannot be read: unknown is never dead', async () => {
    const held = await heldBy();
    env.world.procs.exit(held.pid);
    env.world.procs.unknown = true;
    await waits(held, 'this boot id cannot be read');
  });

  it('waits while the pid cannot be observed although the boot id can', async () => {
    const held = await heldBy();
    env.world.procs.exit(held.pid);
    const inspect = env.world.procs.inspect.bind(env.world.procs);
    env.world.procs.inspect = async (pids) => {
      const m = await inspect(pids);
      for (const p of pids) m.set(p, { kind: 'unknown', reason: 'EACCES' });
      return m;
    };
    await waits(held, `pid ${held.pid} cannot be observed: EACCES`);
  });

  it('waits for a holder without a process identity (an older daemon)', async () => {
    await env.store.acquireLease({ name: DAEMON_LEASE, holder: `${HOST}:1`, ttlMs: TTL, now: env.world.clock.now() });
    const r = await mc.acquireLease(DAEMON_LEASE, await successor(), TTL);
    expect(!r.ok && [r.code, r.holder, r.message]).toEqual([
      'conflict',
      `${HOST}:1`,
      expect.stringMatching(new RegExp(`^lease ${DAEMON_LEASE} is held by ${HOST}:1 until \\S+$`)),
    ]);
  });
});

describe('the console header', () => {
  it('names the daemon as host:PID, not its full holder string', async () => {
    const { identityLine } = await import('../../src/ui/header.js');
    const holder = processHolder({ host: 'box', pid: 42, start: 9, bootId: 'B' });
    const state = { at: 0, lease: { name: DAEMON_LEASE, holder, expiresAt: 1 } } as Parameters<typeof identityLine>[0];
    const text = identityLine(state, { dbPath: '/s/mcc.db', socket: 'mc', readonly: false });
    expect(text).toContain('daemon box:42  store');
  });
});
