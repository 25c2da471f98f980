import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openContext, type McContext } from '../../src/cli/context.js';
import { CommandDesk } from '../../src/core/command-desk.js';
import { CommandWorker } from '../../src/core/command-worker.js';
import { decodeResult, type HostDirectory, type HostState } from '../../src/core/commands.js';
import { processHolder } from '../../src/core/lease-holder.js';
import { MissionControl } from '../../src/core/service.js';
import { pidAlive, useHarness, waitFor, type Harness } from './helpers.js';

// Two simulated hosts on one machine, one store, one private tmux socket: host B's runtimes are B's alone.
// The console on host A asks; B's command worker runs the command through B's own MissionControl (real tmux,
// real /proc), records the result, and the session really goes.

interface World {
  h: Harness;
  ctx: McContext;
  a: MissionControl;
  b: MissionControl;
  deskA: CommandDesk;
  workerB: CommandWorker;
  claimerB: string;
}

function directory(states: Record<string, HostState>): HostDirectory {
  return { stateOf: async (host) => states[host] ?? { kind: 'unknown' } };
}

async function world(states: Record<string, HostState> = { hostB: { kind: 'alive', heartbeatAgeMs: 1000 } }) {
  const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
  const opened = await openContext({ env: h.env, actor: 'auto' });
  if (!opened.ok) throw new Error(`openContext: ${opened.message}`);
  const ctx = opened.value;
  onTestFinished(() => ctx.close());
  const a = new MissionControl({ ...ctx.deps, host: 'hostA', actor: 'console:alice' });
  const b = new MissionControl({ ...ctx.deps, host: 'hostB', actor: 'auto' });
  const deskA = new CommandDesk({
    service: a,
    store: ctx.store,
    hosts: directory(states),
    clock: ctx.deps.clock,
    host: 'hostA',
    actor: 'console:alice',
  });
  const claimerB = await b.processHolder(process.pid);
  const workerB = new CommandWorker({
    service: b,
    store: ctx.store,
    processes: ctx.deps.processes,
    clock: ctx.deps.clock,
    host: 'hostB',
    claimer: claimerB,
    actor: 'auto',
  });
  return { h, ctx, a, b, deskA, workerB, claimerB } satisfies World;
}

/** An operator's desk on host B itself: B's runtimes are its own, acted on at once. */
function deskOnB(w: World): CommandDesk {
  return new CommandDesk({
    service: w.b,
    store: w.ctx.store,
    hosts: directory({}),
    clock: w.ctx.deps.clock,
    host: 'hostB',
    actor: 'operator:bob',
  });
}

/** A ticket picked up on host B: its session runs on the shared socket, its runtime row names hostB. */
async function pickedUpOnB(w: World, title: string): Promise<{ key: string; runtimeId: number }> {
  const t = await w.b.createTicket({ title });
  if (!t.ok) throw new Error(t.message);
  const p = await w.b.pickup(t.value.key);
  if (!p.ok) throw new Error(`pickup on B: ${p.message}`);
  expect(p.value.runtime.host).toBe('hostB');
  expect(await w.h.hasSession(`mc-${t.value.key}`)).toBe(true);
  return { key: t.value.key, runtimeId: p.value.runtime.id };
}

describe('a retire asked on host A for a runtime of host B', () => {
  it('is queued on B, not done by A; B’s worker kills the session, closes the row and records done', async () => {
    const w = await world();
    const { key, runtimeId } = await pickedUpOnB(w, 'remote retire');
    const asked = await w.deskA.retire(key);
    if (!asked.ok) throw new Error(asked.message);
    if (asked.value.where !== 'queued') throw new Error('expected queued');
    expect(asked.value.host).toBe('hostB');
    expect(asked.value.warning).toBeNull();
    expect(asked.value.text).toMatch(
      new RegExp(`^retire ${key} queued on hostB \\(command \\d+, expires in 10 min\\)$`),
    );
    expect(JSON.parse(asked.value.command.args)).toEqual({ runtimeId });
    // Host A touched nothing of B's.
    expect(await w.h.hasSession(`mc-${key}`)).toBe(true);
    expect(w.h.openRuntimes(key)).toHaveLength(1);

    const report = await w.workerB.drain();
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    expect(run.result).toEqual({ ok: true, summary: `retired mc-${key}; ${key} -> todo` });
    expect(run.recorded).toBe(true);
    expect(run.command).toMatchObject({ status: 'done', claimedBy: w.claimerB });
    expect(decodeResult(run.command.result)).toEqual(run.result);
    await waitFor(
      'the session of B to be gone',
      () => w.h.hasSession(`mc-${key}`),
      (has) => !has,
    );
    expect(w.h.openRuntimes(key)).toEqual([]);
    expect(w.h.runtimes(key)[0]!.closed_reason).toBe('retired by operator');
    expect(w.h.ticket(key).status).toBe('todo');
    const kinds = w.h.events(key).map((e) => `${e.kind} ${e.actor}`);
    expect(kinds).toContain('command.queued console:alice');
    expect(kinds).toContain('command.done console:alice');
    // Nothing left to run.
    expect((await w.workerB.drain()).runs).toEqual([]);
  });

  it('acts on the runtime it named only: one closed meanwhile is done, the ticket’s new runtime lives on', async () => {
    const w = await world();
    const { key } = await pickedUpOnB(w, 'moved on');
    const asked = await w.deskA.retire(key);
    expect(asked.ok && asked.value.where).toBe('queued');
    // Before B's worker gets to it, B retires the runtime itself and picks the ticket up again.
    expect((await w.b.retire(key)).ok).toBe(true);
    const again = await w.b.pickup(key);
    if (!again.ok) throw new Error(again.message);
    const report = await w.workerB.drain();
    const first = report.runs[0]!.result;
    expect(first.ok && first.summary).toContain('was already closed');
    expect(await w.h.hasSession(`mc-${key}`)).toBe(true);
    expect(w.h.openRuntimes(key).map((r) => r.id)).toEqual([again.value.runtime.id]);
  });

  it('a retire or interrupt pinned to a runtime the ticket has moved on from does nothing, here or queued', async () => {
    const w = await world();
    const { key, runtimeId: first } = await pickedUpOnB(w, 'pinned');
    expect((await w.b.retire(key)).ok).toBe(true);
    const again = await w.b.pickup(key);
    if (!again.ok) throw new Error(again.message);
    const second = again.value.runtime.id;
    const moved = `runtime ${first} of ${key} is no longer its open runtime (runtime ${second} is)`;
    // The service itself (what B's worker calls after its own check): the close would be of the new runtime.
    const retired = await w.b.retire(key, { runtimeId: first });
    expect(retired).toMatchObject({ ok: false, code: 'conflict' });
    expect(!retired.ok && retired.message).toBe(`retire: ${moved}; nothing was killed`);
    const interrupted = await w.b.interrupt(key, { runtimeId: first });
    expect(!interrupted.ok && interrupted.message).toBe(`interrupt: ${moved}; nothing was interrupted`);
    // The desk, for a runtime of this host (a console's confirmed retire) and of another host (queued).
    const deskB = deskOnB(w);
    for (const desk of [deskB, w.deskA]) {
      const res = await desk.retire(key, { runtimeId: first });
      expect(!res.ok && res.message).toBe(`retire: ${moved}; nothing was done or queued`);
    }
    expect(await w.ctx.store.listCommands({ limit: 10 })).toEqual([]);
    expect(await w.h.hasSession(`mc-${key}`)).toBe(true);
    expect(w.h.openRuntimes(key).map((r) => r.id)).toEqual([second]);
    // Pinned to the runtime that is open: it goes.
    const res = await deskB.retire(key, { runtimeId: second });
    expect(res.ok && res.value).toEqual({ where: 'local', value: `retired mc-${key}; ${key} -> todo` });
  });

  it('runs on this host at once when the runtime is this host’s own', async () => {
    const w = await world();
    const { key } = await pickedUpOnB(w, 'local');
    const deskB = deskOnB(w);
    const res = await deskB.retire(key);
    expect(res.ok && res.value).toEqual({ where: 'local', value: `retired mc-${key}; ${key} -> todo` });
    expect(await w.h.hasSession(`mc-${key}`)).toBe(false);
    expect(await w.ctx.store.listCommands({ limit: 10 })).toEqual([]);
  });
});

describe('a command for a host that is not there', () => {
  it('says at once that the host is unreachable, stays queued, and expires unclaimed', async () => {
    const w = await world({ hostC: { kind: 'unreachable', heartbeatAgeMs: 7 * 60_000 } });
    const t = await w.a.createTicket({ title: 'for C' });
    if (!t.ok) throw new Error(t.message);
    const asked = await w.deskA.pickup(t.value.key, { host: 'hostC' });
    if (!asked.ok || asked.value.where !== 'queued') throw new Error('expected queued');
    expect(asked.value.warning).toContain('host hostC is unreachable (last heartbeat 7 min ago)');
    const ev = w.h.events(t.value.key).find((e) => e.kind === 'command.queued');
    expect(ev?.status).toBe('warning');
    // B's worker never takes C's command, but expires it once it is due (C may be the host that is down).
    expect((await w.workerB.drain()).runs).toEqual([]);
    const due = asked.value.command.expiresAt;
    const late = new CommandWorker({
      service: w.b,
      store: w.ctx.store,
      processes: w.ctx.deps.processes,
      clock: { now: () => due },
      host: 'hostB',
      claimer: w.claimerB,
      actor: 'auto',
    });
    const report = await late.drain();
    expect(report.expired.map((c) => c.id)).toEqual([asked.value.command.id]);
    expect(w.h.ticket(t.value.key).status).toBe('todo');
    expect(w.h.events(t.value.key).map((e) => e.kind)).toContain('command.expired');
  });

  it('is refused for a forgotten host, writing nothing', async () => {
    const w = await world({ hostC: { kind: 'forgotten' } });
    const t = await w.a.createTicket({ title: 'fenced' });
    if (!t.ok) throw new Error(t.message);
    const asked = await w.deskA.adopt(t.value.key, { host: 'hostC' });
    expect(asked.ok).toBe(false);
    if (!asked.ok) expect(asked.code).toBe('conflict');
    expect(await w.ctx.store.listCommands({ limit: 10 })).toEqual([]);
  });
});

/** A process identity of this host that is gone: a child observed alive, then killed. */
async function deadClaimer(w: World): Promise<string> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid!;
  const obs = (await w.ctx.deps.processes.inspect([pid])).get(pid);
  if (obs?.kind !== 'alive') throw new Error(`could not observe pid ${pid}`);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  await waitFor(
    `pid ${pid} to be gone`,
    () => pidAlive(pid),
    (alive) => !alive,
  );
  return processHolder({ host: 'hostB', ...obs.identity });
}

describe('a command whose claimer died while running it', () => {
  it('an interrupt fails as outcome unknown; a retire is run again by the live worker', async () => {
    const w = await world();
    const { key } = await pickedUpOnB(w, 'orphans');
    const dead = await deadClaimer(w);
    const interrupt = await w.deskA.interrupt(key);
    const retire = await w.deskA.retire(key);
    if (!interrupt.ok || interrupt.value.where !== 'queued' || !retire.ok || retire.value.where !== 'queued')
      throw new Error('expected both queued');
    // The dead daemon had claimed both before it died.
    for (let i = 0; i < 2; i++) {
      const c = await w.ctx.store.claimCommand({ host: 'hostB', claimer: dead, now: Date.now() });
      expect(c.ok && c.value?.claimedBy).toBe(dead);
    }
    const report = await w.workerB.drain();
    const byId = new Map(report.runs.map((r) => [r.command.id, r]));
    const lost = byId.get(interrupt.value.command.id)!;
    expect(lost.command.status).toBe('failed');
    expect(lost.result).toMatchObject({ ok: false, code: 'outcome_unknown' });
    expect(!lost.result.ok && lost.result.message).toMatch(
      /^outcome unknown: the daemon died while running it \(hostB:\d+: pid \d+ is gone\)/,
    );
    const rerun = byId.get(retire.value.command.id)!;
    expect(rerun).toMatchObject({ rerun: true, recorded: true, result: { ok: true } });
    expect(rerun.command).toMatchObject({ status: 'done', claimedBy: w.claimerB });
    expect(await w.h.hasSession(`mc-${key}`)).toBe(false);
    expect(w.h.events(key).map((e) => e.kind)).toEqual(expect.arrayContaining(['command.recovered', 'command.failed']));
  });

  it('leaves a command whose claimer is alive alone', async () => {
    const w = await world();
    const { key } = await pickedUpOnB(w, 'busy elsewhere');
    const asked = await w.deskA.interrupt(key);
    if (!asked.ok || asked.value.where !== 'queued') throw new Error('expected queued');
    // Another live process of this host (this test process, under another start time it cannot fake) holds it.
    const alive = processHolder({ host: 'hostB', ...(await identityOf(w, process.pid)) });
    const claimed = await w.ctx.store.claimCommand({ host: 'hostB', claimer: alive, now: Date.now() });
    expect(claimed.ok && claimed.value?.id).toBe(asked.value.command.id);
    const other = new CommandWorker({
      service: w.b,
      store: w.ctx.store,
      processes: w.ctx.deps.processes,
      clock: w.ctx.deps.clock,
      host: 'hostB',
      claimer: 'hostB:1 start=1 boot=another-worker',
      actor: 'auto',
    });
    expect((await other.drain()).runs).toEqual([]);
    expect((await w.ctx.store.getCommand(asked.value.command.id))?.status).toBe('running');
  });
});

async function identityOf(w: World, pid: number) {
  const obs = (await w.ctx.deps.processes.inspect([pid])).get(pid);
  if (obs?.kind !== 'alive') throw new Error(`pid ${pid} not observed`);
  return obs.identity;
}

describe('mcc commands', () => {
  it('lists the queue newest first with results, as text and JSON, filtered by host and ticket', async () => {
    const w = await world({
      hostB: { kind: 'alive', heartbeatAgeMs: 1000 },
      hostC: { kind: 'unreachable', heartbeatAgeMs: 60_000 },
    });
    const { key } = await pickedUpOnB(w, 'listed');
    const retire = await w.deskA.retire(key);
    if (!retire.ok || retire.value.where !== 'queued') throw new Error('expected queued');
    await w.workerB.drain();
    const other = await w.a.createTicket({ title: 'for C' });
    if (!other.ok) throw new Error(other.message);
    const waiting = await w.deskA.pickup(other.value.key, { host: 'hostC' });
    if (!waiting.ok || waiting.value.where !== 'queued') throw new Error('expected queued');

    const text = (await w.h.must(['commands'])).stdout.split('\n');
    expect(text[0]).toMatch(/^ID +STATUS +KIND +TICKET +HOST +AGE +ACTOR +RESULT$/);
    expect(text[1]).toMatch(
      new RegExp(
        `^${waiting.value.command.id} +queued +pickup +${other.value.key} +hostC .*waiting for hostC, expires in`,
      ),
    );
    expect(text[2]).toMatch(new RegExp(`^${retire.value.command.id} +done +retire +${key} +hostB .*retired mc-${key}`));

    const json = JSON.parse((await w.h.must(['commands', '--json', '--host', 'hostB'])).stdout) as unknown[];
    expect(json).toEqual([
      expect.objectContaining({
        id: retire.value.command.id,
        host: 'hostB',
        kind: 'retire',
        ticket: key,
        status: 'done',
        args: JSON.parse(retire.value.command.args) as unknown,
        result: { ok: true, summary: `retired mc-${key}; ${key} -> todo` },
        actor: 'console:alice',
        claimedBy: w.claimerB,
      }),
    ]);
    const byTicket = JSON.parse(
      (await w.h.must(['commands', '--json', '--ticket', other.value.key])).stdout,
    ) as unknown[];
    expect(byTicket).toHaveLength(1);
  });

  it('refuses a bad --ticket, --host or --limit with exit 2, before opening the store', async () => {
    const h = useHarness();
    for (const args of [
      ['--ticket', 'nope'],
      ['--host', ' '],
      ['--limit', '0'],
      ['--limit', '1.5'],
    ]) {
      const r = await h.mcc(['commands', ...args]);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^mcc: /);
    }
    expect(existsSync(h.dbPath)).toBe(false);
  });
});
