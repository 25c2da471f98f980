// Two hosts' auto pickups racing over one queue of 200 todo tickets on ONE store (a real SQLite file, and a
// real PostgreSQL server): every ticket ends with exactly one runtime, on exactly one host, and a ticket with a
// host label only on a host carrying it. Each host is a MissionControl with its own store connection and its
// own simulated machine (FakeTmux and FakeProcesses: 200 real agents would be far too heavy for the suite);
// the store, its transactions and its claim (claimNextTodo, FOR UPDATE SKIP LOCKED on PostgreSQL) are real.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MissionControl } from '../../src/core/service.js';
import type { StorePort } from '../../src/core/store.port.js';
import { openPgStore } from '../../src/store/ticket-store.pg.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { usePostgres } from '../helpers/postgres.js';
import { testConfig } from './builders.js';
import { FakeWorld } from './fake-world.js';

const TICKETS = 200;
/** Every tenth ticket needs a host labelled `gpu`; only host B carries it. */
const LABELLED = (i: number) => i % 10 === 0;
const START = Date.parse('2026-11-25T01:30:00.000Z');

interface SimHost {
  id: string;
  mc: MissionControl;
  world: FakeWorld;
  labels: string[];
}

function simHost(id: string, store: StorePort, labels: string[]): SimHost {
  const world = new FakeWorld(START);
  world.tmux.instantBoot = true;
  const mc = new MissionControl({
    store,
    tmux: world.tmux,
    processes: world.procs,
    clock: world.clock,
    config: testConfig(),
    host: id,
    actor: `auto:${id}`,
  });
  return { id, mc, world, labels };
}

/** One host's daemon pickup loop, without a cap: until nothing is left for it. */
async function pickupLoop(h: SimHost): Promise<{ started: string[]; conflicts: number }> {
  const started: string[] = [];
  let conflicts = 0;
  for (let step = 0; step < 4 * TICKETS; step++) {
    const next = await h.mc.pickupNext({ labels: h.labels });
    if (!next.ok) {
      // Serialization failures past the store's retries come back as conflicts: the next step tries again.
      if (next.code === 'conflict') {
        conflicts++;
        continue;
      }
      throw new Error(`${h.id}: pickupNext ${next.code}: ${next.message}`);
    }
    expect(next.value.declined, `${h.id} declined`).toEqual([]);
    if (next.value.outcome === null) return { started, conflicts };
    started.push(next.value.outcome.ticket.key);
  }
  throw new Error(`${h.id}: the pickup loop did not end`);
}

async function race(storeA: StorePort, storeB: StorePort): Promise<void> {
  const a = simHost('hostA', storeA, []);
  const b = simHost('hostB', storeB, ['gpu']);
  const labelled = new Set<string>();
  for (let i = 0; i < TICKETS; i++) {
    const t = await a.mc.createTicket({ title: `ticket ${i}`, ...(LABELLED(i) ? { hostLabel: 'gpu' } : {}) });
    if (!t.ok) throw new Error(t.message);
    if (LABELLED(i)) labelled.add(t.value.key);
  }
  const [ra, rb] = await Promise.all([pickupLoop(a), pickupLoop(b)]);
  process.stdout.write(
    `pickup race: hostA started ${ra.started.length} (${ra.conflicts} conflicts), hostB ${rb.started.length} (${rb.conflicts})\n`,
  );

  const tickets = await storeA.listTickets();
  expect(tickets).toHaveLength(TICKETS);
  expect(tickets.filter((t) => t.status !== 'in_progress').map((t) => `${t.key} ${t.status}`)).toEqual([]);
  const runtimes = (await storeA.loadActive([])).runtimes;
  const perTicket = new Map<string, string[]>();
  for (const r of runtimes) perTicket.set(r.ticketKey, [...(perTicket.get(r.ticketKey) ?? []), r.host]);
  const notOne = [...perTicket].filter(([, hosts]) => hosts.length !== 1);
  expect(notOne).toEqual([]);
  expect(perTicket.size).toBe(TICKETS);
  // Each ticket's one session lives on the host its runtime row names, and on no other.
  for (const t of tickets) {
    const host = perTicket.get(t.key)?.[0];
    const onA = a.world.liveSession(t.key) !== undefined;
    const onB = b.world.liveSession(t.key) !== undefined;
    expect([t.key, onA, onB]).toEqual([t.key, host === 'hostA', host === 'hostB']);
  }
  expect(ra.started.length + rb.started.length).toBe(TICKETS);
  expect(new Set([...ra.started, ...rb.started]).size).toBe(TICKETS);
  // Both hosts took part; only B (labelled gpu) ran the gpu tickets.
  expect(ra.started.length).toBeGreaterThan(0);
  expect(rb.started.length).toBeGreaterThan(0);
  expect([...labelled].filter((k) => perTicket.get(k)?.[0] !== 'hostB')).toEqual([]);
}

describe('two hosts racing --pickup over 200 tickets', () => {
  it('SQLite (two connections to one file): every ticket exactly one runtime', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcc-race-'));
    const a = openSqliteStore(join(dir, 'mcc.db'));
    const b = openSqliteStore(join(dir, 'mcc.db'));
    try {
      await race(a, b);
    } finally {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  describe('PostgreSQL', () => {
    const cluster = usePostgres();

    it('two pools (one per host): every ticket exactly one runtime, claims SKIP LOCKED', async () => {
      const url = await cluster.server.createDatabase();
      const a = await openPgStore(url);
      const b = await openPgStore(url);
      try {
        await race(a, b);
      } finally {
        await Promise.all([a.closed(), b.closed()]);
      }
    }, 180_000);
  });
});
