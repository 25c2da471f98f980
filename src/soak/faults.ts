// The fault injector: at seeded points it kills an agent, kills the daemon mid-pass and restarts it, kills
// our tmux server, freezes an agent, fills the store's small disk, or races two operators on one ticket.
// Faults come in rounds, each a seeded permutation of every kind, so a short run injects each kind; the
// invariants are checked after every fault.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { holderLabel } from '../core/lease-holder.js';
import type { Invariants } from './invariants.js';
import { FAULT_KINDS, type FaultKind, type Journal } from './journal.js';
import type { Operators } from './operators.js';
import type { Prng } from './prng.js';
import type { World } from './world.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface DaemonRecovery {
  /** From the restart of a kill -9'd daemon to its first pass (ms); null if none came before the end. */
  ms: number | null;
}

export class Injector {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Kinds that could not be injected here, with why. */
  readonly skipped: Partial<Record<FaultKind, string>> = {};
  /** Attempts that found nothing to act on (no live agent at that moment), retried in a later round. */
  readonly idle: Record<string, number> = {};
  private readonly filler: string;

  constructor(
    private readonly world: World,
    private readonly journal: Journal,
    private readonly invariants: Invariants,
    private readonly operators: Operators,
    private readonly rng: Prng,
    private readonly maxRuntimes: number,
  ) {
    this.filler = join(world.diskDir, 'filler');
    if (world.mountError !== null) this.skipped['disk-full'] = world.mountError;
  }

  /** Inject faults until `endAt` or `stop()`; the invariants are sampled after each. */
  async run(endAt: number, stopped: () => boolean): Promise<void> {
    // Let the first tickets start before breaking things.
    await sleep(this.rng.int(2500, 4000));
    while (Date.now() < endAt && !stopped()) {
      for (const kind of this.rng.shuffle(FAULT_KINDS)) {
        if (Date.now() >= endAt || stopped()) return;
        if (this.skipped[kind] !== undefined) continue;
        const at = Date.now();
        const detail = await this.inject(kind);
        if (detail === null) {
          this.idle[kind] = (this.idle[kind] ?? 0) + 1;
        } else {
          this.counts[kind]++;
          this.journal.recordFault(kind, at, detail);
          await this.invariants.sample();
        }
        await sleep(this.rng.int(1200, 3500));
      }
    }
  }

  /** One fault; a description of what was done, or null when there was nothing to act on. */
  private async inject(kind: FaultKind): Promise<string | null> {
    switch (kind) {
      case 'agent-kill':
        return this.killAgent();
      case 'daemon-kill':
        return this.killDaemon();
      case 'tmux-kill':
        return this.killTmux();
      case 'agent-freeze':
        return this.freezeAgent();
      case 'disk-full':
        return this.fillDisk();
      case 'operator-race':
        return this.operators.race();
    }
  }

  /** A live agent that is not frozen, waiting a little for one to exist. */
  private async someAgent(): Promise<number | null> {
    for (let i = 0; i < 20; i++) {
      const pids = this.world
        .agents()
        .filter((a) => a.state !== 'T' && a.state !== 'Z')
        .map((a) => a.pid)
        .sort((a, b) => a - b);
      const pid = this.rng.pick(pids);
      if (pid !== undefined) return pid;
      await sleep(250);
    }
    return null;
  }

  private async killAgent(): Promise<string | null> {
    const pid = await this.someAgent();
    if (pid === null) return null;
    // What the victim is, and whether the tmux server outlives it: a run once saw every session vanish right
    // after an agent kill; these facts go into the fault log so such a run can be explained.
    const panes = await this.world.panes();
    const session = panes ? ([...panes].find(([, p]) => p.pid === pid)?.[0] ?? 'no pane of ours') : 'tmux unreadable';
    const ppid = parentOf(pid);
    const before = panes?.size ?? 0;
    this.journal.killedAgents.set(pid, Date.now());
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return null;
    }
    await sleep(500);
    const after = await this.world.sessions();
    const server =
      after !== null && before > 1 && after.length === 0 ? '; THE TMUX SERVER AND EVERY SESSION WENT WITH IT' : '';
    return `kill -9 agent pid ${pid} (${session}, parent ${ppid ?? '?'})${server}`;
  }

  /**
   * Freezes an agent for a while. tmux continues a stopped pane process at once (its SIGCHLD handler sends
   * SIGCONT), so SIGSTOP alone freezes nothing: the agent goes into a cgroup (v1) freezer of this run, which
   * tmux cannot undo, and is thawed and moved back after. Without a freezer it falls back to SIGSTOP/SIGCONT
   * and says so in the fault log.
   */
  private async freezeAgent(): Promise<string | null> {
    const pid = await this.someAgent();
    if (pid === null) return null;
    // Sometimes longer than readyTimeoutSeconds: a message waiting on it must raise its NOT-READY warning.
    const holdMs = this.rng.int(1000, 7000);
    const cgroup = freezerOf(this.world.socket);
    const how = cgroup ? 'froze' : 'SIGSTOP (no cgroup freezer: tmux continues it at once)';
    try {
      if (cgroup) {
        writeFileSync(join(cgroup, 'tasks'), String(pid));
        writeFileSync(join(cgroup, 'freezer.state'), 'FROZEN');
      } else process.kill(pid, 'SIGSTOP');
    } catch {
      return null;
    }
    this.journal.frozen.add(pid);
    await sleep(holdMs);
    const state = procStateOf(pid);
    try {
      if (cgroup) {
        writeFileSync(join(cgroup, 'freezer.state'), 'THAWED');
        writeFileSync(join(FREEZER_ROOT, 'tasks'), String(pid));
      } else process.kill(pid, 'SIGCONT');
    } catch {
      // it was killed meanwhile (never by us while frozen)
    }
    this.journal.frozen.delete(pid);
    return `${how} agent pid ${pid} for ${holdMs} ms (state before the thaw: ${state ?? 'gone'}), then thawed`;
  }

  /** Waits for a pass to begin (the lease renewed), kills the daemon a moment into it, restarts it. */
  private async killDaemon(): Promise<string | null> {
    const before = this.world.snapshot()?.lease?.expires_at;
    for (let i = 0; i < 60; i++) {
      const now = this.world.snapshot()?.lease?.expires_at;
      if (now !== undefined && now !== before) break;
      await sleep(25);
    }
    const delay = this.rng.int(0, 250);
    await sleep(delay);
    const oldPid = this.world.daemonPid;
    const killedAt = Date.now();
    await this.world.killDaemon();
    const pid = this.world.startDaemon(this.maxRuntimes);
    const rec = { killedAt, restartedAt: Date.now(), firstPassAt: null as number | null };
    this.journal.daemonRestarts.push(rec);
    // Its first pass is the lease row naming it; wait for it (bounded), so recovery is measured cleanly.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const holder = this.world.snapshot()?.lease?.holder;
      if (holder !== undefined && holderLabel(holder) === this.world.holderOf(pid)) {
        rec.firstPassAt = Date.now();
        this.journal.healingSince = Math.max(this.journal.healingSince, rec.firstPassAt);
        break;
      }
      await sleep(50);
    }
    const took =
      rec.firstPassAt === null
        ? 'no first pass within 60 s'
        : `first pass after ${rec.firstPassAt - rec.restartedAt} ms`;
    return `kill -9 daemon pid ${oldPid ?? '?'} ${delay} ms into a pass; restarted as pid ${pid}, ${took}`;
  }

  private async killTmux(): Promise<string | null> {
    const at = Date.now();
    const agents = this.world.agents();
    for (const a of agents) this.journal.killedAgents.set(a.pid, at);
    await this.world.tmux(['kill-server']);
    return `tmux -L ${this.world.socket} kill-server (${agents.length} agents)`;
  }

  /** Fills the store's tmpfs to the last byte for a while, then frees it. */
  private async fillDisk(): Promise<string | null> {
    const holdMs = this.rng.int(2000, 5000);
    const window: { from: number; to: number | null } = { from: Date.now(), to: null };
    this.journal.diskFull.push(window);
    let written = 0;
    const fd = openSync(this.filler, 'w');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (;;) {
        const st = statfsSync(this.world.diskDir);
        const free = st.bavail * st.bsize;
        if (free <= 0) break;
        try {
          written += writeSync(fd, chunk, 0, Math.min(chunk.length, free));
        } catch {
          break; // ENOSPC: full
        }
      }
    } finally {
      closeSync(fd);
    }
    await sleep(holdMs);
    rmSync(this.filler, { force: true });
    window.to = Date.now();
    this.journal.healingSince = Math.max(this.journal.healingSince, window.to);
    return `store disk filled (${Math.round(written / 1024)} KiB filler) for ${holdMs} ms, then freed`;
  }
}

/** The parent pid from /proc/PID/stat (split after the last ")"), or null when it cannot be read. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

const FREEZER_ROOT = '/sys/fs/cgroup/freezer';

/** This run's cgroup v1 freezer (made on first use), or null where none can be made. */
function freezerOf(socket: string): string | null {
  const dir = join(FREEZER_ROOT, socket);
  try {
    if (!existsSync(dir)) mkdirSync(dir);
    return existsSync(join(dir, 'freezer.state')) ? dir : null;
  } catch {
    return null;
  }
}

/** Remove this run's freezer cgroup (thawing and moving out anything left in it). */
export function removeFreezer(socket: string): void {
  const dir = join(FREEZER_ROOT, socket);
  if (!existsSync(dir)) return;
  try {
    writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    for (const pid of readFileSync(join(dir, 'tasks'), 'utf8').split('\n').filter(Boolean))
      writeFileSync(join(FREEZER_ROOT, 'tasks'), pid);
    rmdirSync(dir);
  } catch {
    // best effort: a cgroup that is still busy is reported by the next run's mkdir, never left frozen
  }
}

/** /proc/PID/stat state (after the last ")"), or null when the process is gone. */
function procStateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}
