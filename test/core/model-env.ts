// The system under test for the model-based test: the real MissionControl service and a real store (SQLite by
// default; `Env.open()` takes the adapter this run tests, PostgreSQL with MCC_TEST_STORE=pg), with tmux, /proc
// and the clock replaced by the fake world. Every CLI invocation (pickup, move, retire) is a
// fresh "process"; the daemon is one long-lived process. A failpoint crash kills its process: it throws, and
// every later port call of that process throws too, so nothing more of it reaches the world or the store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailpointName, Failpoints } from '../../src/core/failpoints.js';
import { MissionControl, promptOf } from '../../src/core/service.js';
import type { McEvent, Message, RuntimeSession, Ticket } from '../../src/core/types.js';
import type { OpStore } from '../../src/store/op-store.js';
import { openSqliteStore } from '../../src/store/ticket-store.sqlite.js';
import { closeStore, freshSpec, openStoreAt } from '../helpers/test-store.js';
import { testConfig } from './builders.js';
import { SIGN_IN_BLOCKED } from './fake-agent.js';
import { FakeWorld } from './fake-world.js';

export const TTL_S = 10;
export const TTL_MS = TTL_S * 1000;
export const RETRY_LIMIT = 2;
export const HOST = 'h1';
/** The demo profile's readyTimeoutSeconds in the model: short, so NOT-READY is reached within a run. */
export const READY_TIMEOUT_MS = 3 * TTL_MS;
const START = Date.parse('2026-11-25T08:00:00.000Z');

/** A simulated crash of the process at a named failpoint. */
export class Crash extends Error {
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
  }
}

interface ProcState {
  dead: boolean;
  /** The failpoint that kills this process when reached. */
  armed: FailpointName | null;
}

/** Wrap a port so that once its process crashed, any further call throws instead of acting. */
function guarded<T extends object>(target: T, st: ProcState): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (st.dead) throw new Crash('a call after the crash');
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

export interface Proc {
  mc: MissionControl;
  state: ProcState;
}

export interface Rows {
  tickets: Ticket[];
  runtimes: RuntimeSession[];
  messages: Message[];
}

export class Env {
  readonly world = new FakeWorld(START);
  readonly config = testConfig({
    ttlSeconds: TTL_S,
    retryLimit: RETRY_LIMIT,
    profiles: { demo: { blocked: SIGN_IN_BLOCKED, readyTimeoutSeconds: READY_TIMEOUT_MS / 1000 } },
  });
  readonly store: OpStore;
  readonly keys: string[] = [];
  /** Prompt text per ticket key, to recognise it in what the agents received. */
  readonly prompts = new Map<string, string>();
  /** Tickets an operator blocked by hand: blocked without reaching the retry limit. */
  readonly operatorBlocked = new Set<string>();
  /** Sessions spawned per ticket before the operator last reset its attempts. */
  readonly spawnBase = new Map<string, number>();
  daemon: Proc;
  /** The log of commands run so far, for failure messages. */
  readonly log: string[] = [];
  private readonly dir: string | null;
  private readonly release: (() => Promise<void>) | null;
  private released: Promise<void> = Promise.resolve();

  /** A world over a fresh SQLite store, or over `opened` (a store and how to remove it once closed). */
  constructor(opened?: { store: OpStore; remove: () => Promise<void> }) {
    if (opened === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'mcc-model-'));
      this.store = openSqliteStore(join(this.dir, 'mcc.db'));
      this.release = null;
    } else {
      this.dir = null;
      this.store = opened.store;
      this.release = opened.remove;
    }
    this.daemon = this.process('auto');
  }

  /** A world over a fresh store of the adapter this run tests (test/helpers/test-store.ts); `close()` it. */
  static async open(): Promise<Env> {
    const place = await freshSpec();
    try {
      return new Env({ store: await openStoreAt(place.spec), remove: () => place.remove() });
    } catch (e) {
      await place.remove();
      throw e;
    }
  }

  /** A fresh process of mcc; `crashAt` arms one failpoint that kills it. */
  process(actor: string, crashAt: FailpointName | null = null): Proc {
    const state: ProcState = { dead: false, armed: crashAt };
    const failpoints: Failpoints = {
      hit: (name) => {
        if (name !== state.armed || state.dead) return;
        state.dead = true;
        throw new Crash(name);
      },
    };
    const mc = new MissionControl({
      store: guarded(this.store, state),
      tmux: guarded(this.world.tmux, state),
      processes: guarded(this.world.procs, state),
      clock: this.world.clock,
      config: this.config,
      host: HOST,
      actor,
      failpoints,
    });
    // An agent armed to stir starts printing right after a snapshot, before any decision on it is carried out.
    const snapshot = mc.snapshot.bind(mc);
    mc.snapshot = async () => {
      const snap = await snapshot();
      this.world.afterObservation();
      return snap;
    };
    return { mc, state };
  }

  /** Run `fn` in a process; a simulated crash is swallowed (the process is gone), anything else is a bug. */
  async inProcess<T>(p: Proc, fn: (mc: MissionControl) => Promise<T>): Promise<T | Crash> {
    try {
      return await fn(p.mc);
    } catch (e) {
      if (e instanceof Crash && p.state.dead) return e;
      throw e;
    }
  }

  /** Run `fn` in the long-lived daemon/console process; if it crashes there, it is restarted, as a supervisor would. */
  async onDaemon<T>(fn: (mc: MissionControl) => Promise<T>, crashAt: FailpointName | null = null): Promise<T | Crash> {
    this.daemon.state.armed = crashAt;
    const res = await this.inProcess(this.daemon, fn);
    this.daemon.state.armed = null;
    if (this.daemon.state.dead) this.daemon = this.process('auto');
    return res;
  }

  /** One daemon pass, optionally crashing at a failpoint; null when it crashed. */
  async pass(crashAt: FailpointName | null = null) {
    const res = await this.onDaemon((mc) => mc.reconcile('auto'), crashAt);
    return res instanceof Crash ? null : res;
  }

  async addTicket(body: string): Promise<string> {
    const t = await this.store.createTicket({
      title: `task ${this.keys.length + 1}`,
      body,
      profile: 'demo',
      now: this.world.clock.now(),
      actor: 'operator:test',
    });
    this.keys.push(t.key);
    this.prompts.set(t.key, promptOf(t));
    return t.key;
  }

  async rows(): Promise<Rows> {
    const out: Rows = { tickets: [], runtimes: [], messages: [] };
    for (const key of this.keys) {
      const d = await this.store.ticketDetail(key, { eventLimit: 0 });
      if (!d) throw new Error(`ticket ${key} vanished`);
      out.tickets.push(d.ticket);
      out.runtimes.push(...d.runtimes);
      out.messages.push(...d.messages);
    }
    return out;
  }

  /** Warning and error events, oldest first. */
  async warnings(): Promise<McEvent[]> {
    const events = await this.store.listEvents({ limit: 100_000 });
    return events.filter((e) => e.status !== 'ok').reverse();
  }

  dispose(): void {
    const release = this.release;
    this.released = closeStore(this.store).then(() => release?.());
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
  }

  /** dispose(), waiting until the store is closed and its place removed (a PostgreSQL database is dropped). */
  async close(): Promise<void> {
    this.dispose();
    await this.released;
  }
}
