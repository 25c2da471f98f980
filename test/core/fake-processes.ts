// The simulated clock and process table behind ProcessPort: start times, zombies, pid reuse, a boot id, and a
// switch that makes /proc unreadable.
import type { Clock } from '../../src/core/clock.port.js';
import type { ProcessObservation, ProcessPort } from '../../src/core/process.port.js';

export class FakeClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Proc {
  start: number;
  zombie: boolean;
  comm: string;
}

export class FakeProcesses implements ProcessPort {
  readonly table = new Map<number, Proc>();
  boot = 'boot-A';
  /** /proc cannot be read: every pid is unknown, the boot id too. */
  unknown = false;
  private nextPid = 1000;
  private ticks = 100;

  spawn(comm: string): number {
    const pid = this.nextPid++;
    this.table.set(pid, { start: this.ticks++, zombie: false, comm });
    return pid;
  }

  exit(pid: number): void {
    this.table.delete(pid);
  }

  zombify(pid: number): void {
    const p = this.table.get(pid);
    if (p) p.zombie = true;
  }

  /** Give a free pid to a new, unrelated process with a different start time. */
  reuse(pid: number): boolean {
    if (this.table.has(pid)) return false;
    this.table.set(pid, { start: this.ticks++, zombie: false, comm: 'bash' });
    return true;
  }

  /** A reboot: every process gone, a new boot id, and pids counted from the start again (so they get reused). */
  reboot(): void {
    this.table.clear();
    this.boot = `${this.boot}'`;
    this.nextPid = 1000;
  }

  isZombie(pid: number): boolean {
    return this.table.get(pid)?.zombie === true;
  }

  /** Running and not a zombie: the only thing that counts as alive. */
  alive(pid: number, start?: number | null): boolean {
    const p = this.table.get(pid);
    return p !== undefined && !p.zombie && (start === undefined || start === p.start);
  }

  async bootId(): Promise<string | null> {
    return this.unknown ? null : this.boot;
  }

  async inspect(pids: readonly number[]): Promise<Map<number, ProcessObservation>> {
    const out = new Map<number, ProcessObservation>();
    for (const pid of pids) {
      const p = this.table.get(pid);
      if (this.unknown) out.set(pid, { kind: 'unknown', reason: 'cannot read /proc' });
      else if (!p) out.set(pid, { kind: 'dead', reason: 'absent' });
      else if (p.zombie) out.set(pid, { kind: 'dead', reason: 'zombie' });
      else
        out.set(pid, { kind: 'alive', identity: { pid, start: p.start, bootId: this.boot }, state: 'S', comm: p.comm });
    }
    return out;
  }
}
