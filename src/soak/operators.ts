// Scripted operators: they add tickets, approve and request changes, answer questions, send notes, retire,
// block and unblock, prune worktrees and leave uncommitted work in worktrees, all through the `mcc` CLI, and
// on request race two commands on one ticket. Every command is recorded in the journal with its times, so
// the checker can tell an operator's move from the system's. Operator texts carry a `soak-mN` token so the
// agents' prompt log can be counted against the store's messages.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './faults.js';
import type { Invariants } from './invariants.js';
import type { Journal } from './journal.js';
import type { Prng } from './prng.js';
import type { ProfileName, TicketRow, World } from './world.js';

/** What `add` gives a ticket, by weight: mostly review, some done, some question. */
const PROFILE_WEIGHTS: [ProfileName, number][] = [
  ['review', 6],
  ['done', 2],
  ['question', 2],
];
/** Operator exit codes that are answers, not errors: ok, usage (bad state for it), conflict, not found. */
const EXPECTED_EXITS = new Set([0, 2, 3, 4]);

export interface OperatorError {
  command: string;
  exitCode: number | null;
  stderr: string;
  duringDiskFull: boolean;
}

export class Operators {
  added = 0;
  private msgSeq = 0;
  private readonly changed = new Set<string>();
  private readonly dirtied = new Set<string>();
  readonly unexpected: OperatorError[] = [];
  readonly races: string[] = [];

  constructor(
    private readonly world: World,
    private readonly journal: Journal,
    private readonly invariants: Invariants,
    private readonly rng: Prng,
    private readonly targetTickets: number,
  ) {}

  private async cmd(actor: string, kind: string, key: string | null, args: string[], race = false) {
    const op = this.journal.begin(actor, kind, key, race);
    const r = await this.world.mcc(args);
    this.journal.end(op, r.exitCode, r.stderr);
    if (r.exitCode === undefined || !EXPECTED_EXITS.has(r.exitCode)) {
      this.unexpected.push({
        command: `mcc ${args.join(' ')}`,
        exitCode: r.exitCode ?? null,
        stderr: (r.stderr.trim() || r.signal || '').slice(0, 300),
        duringDiskFull: this.journal.diskFullDuring(r.startedAt, r.endedAt),
      });
    }
    return r;
  }

  private text(what: string): string {
    return `soak-m${++this.msgSeq} ${what}`;
  }

  private profile(): ProfileName {
    const total = PROFILE_WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let x = this.rng.next() * total;
    for (const [name, w] of PROFILE_WEIGHTS) if ((x -= w) < 0) return name;
    return 'review';
  }

  /** Operator actions until `endAt`; `stopped` ends early. */
  async run(actor: string, endAt: number, stopped: () => boolean): Promise<void> {
    while (Date.now() < endAt && !stopped()) {
      await sleep(this.rng.int(300, 1100));
      const snap = this.world.snapshot();
      const tickets = snap?.tickets ?? [];
      const by = (s: string) => tickets.filter((t) => t.status === s);
      const todo = by('todo');
      const choices: (() => Promise<unknown>)[] = [];
      const addOne = async () => {
        const n = ++this.added;
        await this.cmd(actor, 'add', null, [
          'add',
          `soak ticket ${n}`,
          '--body',
          `Soak work item ${n}. Nothing to change.`,
          '--profile',
          this.profile(),
        ]);
      };
      if (this.added < this.targetTickets && todo.length < 6) choices.push(addOne, addOne, addOne);
      const review = by('in_review');
      const working = by('in_progress');
      const withRuntime = new Set(
        (snap?.runtimes ?? []).filter((r) => r.status !== 'closed' && r.workdir).map((r) => r.ticket_key),
      );
      const pick = (list: TicketRow[]) => this.rng.pick(list)?.key;
      if (review.length > 0) {
        choices.push(async () => {
          const key = pick(review)!;
          await this.cmd(actor, 'approve', key, ['approve', key]);
        });
        const unchanged = review.filter((t) => !this.changed.has(t.key));
        if (unchanged.length > 0)
          choices.push(async () => {
            const key = pick(unchanged)!;
            this.changed.add(key);
            await this.cmd(actor, 'changes', key, ['changes', key, this.text('please tighten the wording')]);
          });
      }
      const asking = working.filter((t) => t.human_input_required === 1);
      if (asking.length > 0)
        choices.push(async () => {
          const key = pick(asking)!;
          await this.cmd(actor, 'send', key, ['send', key, this.text('answer: go ahead')]);
        });
      const live = [...working, ...review].filter((t) => withRuntime.has(t.key));
      if (live.length > 0)
        choices.push(async () => {
          const key = pick(live)!;
          await this.cmd(actor, 'send', key, ['send', key, this.text('a note from the operator')]);
        });
      if (working.length > 0 && this.rng.chance(0.25))
        choices.push(async () => {
          const key = pick(working)!;
          await this.cmd(actor, 'retire', key, ['retire', key]);
        });
      if (working.length > 0 && this.rng.chance(0.1))
        choices.push(async () => {
          const key = pick(working)!;
          await this.cmd(actor, 'block', key, ['block', key, 'soak: operator holds it']);
        });
      const blocked = by('blocked');
      if (blocked.length > 0)
        choices.push(async () => {
          const key = pick(blocked)!;
          await this.cmd(actor, 'move', key, ['move', key, 'todo']);
        });
      if (todo.length > 0 && this.rng.chance(0.3))
        choices.push(async () => {
          const key = pick(todo)!;
          await this.cmd(actor, 'pickup', key, ['pickup', key]);
        });
      if (this.rng.chance(0.08)) choices.push(() => this.cmd(actor, 'worktrees', null, ['worktrees', 'prune']));
      const dirtyable = (snap?.runtimes ?? []).filter(
        (r) => r.status !== 'closed' && r.workdir && !this.dirtied.has(r.ticket_key),
      );
      if (dirtyable.length > 0 && this.rng.chance(0.3))
        choices.push(async () => {
          // The agent's uncommitted work: the worktree must now be kept whatever happens.
          const r = this.rng.pick(dirtyable)!;
          if (!r.workdir || !existsSync(r.workdir)) return;
          const path = join(r.workdir, `soak-work-${r.ticket_key}.txt`);
          writeFileSync(path, 'uncommitted work\n');
          this.dirtied.add(r.ticket_key);
          this.invariants.dirtyFiles.push({ key: r.ticket_key, path });
        });
      const action = this.rng.pick(choices);
      if (action) await action();
    }
  }

  /** Two operators at once on one ticket; a description, or null when no ticket fits any race now. */
  async race(): Promise<string | null> {
    const snap = this.world.snapshot();
    const tickets = snap?.tickets ?? [];
    const by = (s: string) => tickets.filter((t) => t.status === s);
    interface Race {
      name: string;
      from: TicketRow[];
      a: (k: string) => string[];
      b: (k: string) => string[];
    }
    const all: Race[] = [
      { name: 'pickup vs retire', from: by('todo'), a: (k) => ['pickup', k], b: (k) => ['retire', k] },
      { name: 'pickup vs pickup', from: by('todo'), a: (k) => ['pickup', k], b: (k) => ['pickup', k] },
      { name: 'retire vs retire', from: by('in_progress'), a: (k) => ['retire', k], b: (k) => ['retire', k] },
      {
        name: 'send vs retire',
        from: by('in_progress'),
        a: (k) => ['send', k, this.text('raced note')],
        b: (k) => ['retire', k],
      },
      {
        name: 'send vs approve',
        from: by('in_review'),
        a: (k) => ['send', k, this.text('raced note')],
        b: (k) => ['approve', k],
      },
      {
        name: 'approve vs changes',
        from: by('in_review'),
        a: (k) => ['approve', k],
        b: (k) => ['changes', k, this.text('raced changes')],
      },
    ];
    const s = this.rng.pick(all.filter((x) => x.from.length > 0));
    if (!s) return null;
    const key = this.rng.pick(s.from)!.key;
    const a = s.a(key);
    const b = s.b(key);
    const [ra, rb] = await Promise.all([
      this.cmd('race-a', a[0]!, key, a, true),
      this.cmd('race-b', b[0]!, key, b, true),
    ]);
    const text = `${s.name} on ${key}: ${a[0]} exit ${ra.exitCode ?? ra.signal}, ${b[0]} exit ${rb.exitCode ?? rb.signal}`;
    this.races.push(text);
    return text;
  }
}
