// The commands of the model test that drive mcc itself (pickups, passes, operator commands, races), and the
// weighted list of every command the generator draws from.
import fc from 'fast-check';
import { FAILPOINTS, type FailpointName } from '../../src/core/failpoints.js';
import type { Layout, Outcome } from './fake-agent.js';
import { InvariantViolation, settle } from './model-checks.js';
import { Cmd, keyOf, MAX_TICKETS, type Model } from './model-cmd.js';
import { Crash, TTL_MS, type Env } from './model-env.js';
import {
  AgentDies,
  AgentFreezes,
  AgentProgress,
  AgentStirs,
  Blindness,
  HandCreate,
  HandKill,
  OperatorSignsIn,
  PidReused,
  Reboot,
  TimePasses,
} from './model-world.js';

export type { Model } from './model-cmd.js';

const BODIES = ['plain body', 'Steps:\nDONE: only when the tests pass\nREVIEW: ask Luci first', ''];

export class AddTicket extends Cmd {
  constructor(readonly body: number) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.tickets < MAX_TICKETS;
  }
  protected async act(m: Model, env: Env) {
    await env.addTicket(BODIES[this.body]!);
    m.tickets++;
  }
  toString() {
    return `add(body ${this.body})`;
  }
}

/** How the spawned agent behaves (fake-agent.ts). */
interface Spawned {
  instantBoot: boolean;
  layout: Layout;
  signIn: boolean;
  stirs: boolean;
}

/** `console`: pressed in the console, i.e. in the long-lived process that also runs the passes. */
export class Pickup extends Cmd {
  constructor(
    readonly i: number,
    readonly crashAt: FailpointName | null,
    readonly agent: Spawned,
    readonly console: boolean,
  ) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    Object.assign(env.world.tmux, this.agent);
    const res = this.console
      ? await env.onDaemon((mc) => mc.pickup(keyOf(env, this.i)), this.crashAt)
      : await env.inProcess(env.process('operator:test', this.crashAt), (mc) => mc.pickup(keyOf(env, this.i)));
    Object.assign(env.world.tmux, {
      instantBoot: false,
      layout: 'clean',
      signIn: false,
      stirs: false,
    } satisfies Spawned);
    if (!(res instanceof Crash) && !res.ok && !['conflict', 'probe_unknown', 'tmux_failed'].includes(res.code)) {
      throw new InvariantViolation(`pickup failed with ${res.code}: ${res.message}`);
    }
  }
  toString() {
    const how = [
      this.crashAt ? `crash ${this.crashAt}` : '',
      this.agent.instantBoot ? 'instant boot' : '',
      this.agent.layout === 'scrollback' ? 'scrollback' : '',
      this.agent.signIn ? 'sign-in' : '',
      this.agent.stirs ? 'stirs' : '',
      this.console ? 'console' : '',
    ];
    return `pickup(${[this.i, ...how.filter(Boolean)].join(', ')})`;
  }
}

export class Reconcile extends Cmd {
  constructor(readonly crashAt: FailpointName | null) {
    super();
  }
  override check() {
    return true;
  }
  protected async act(_m: Model, env: Env) {
    const blind = env.world.tmux.failing;
    const world = env.world.fingerprint();
    const rows = JSON.stringify(await env.rows());
    const rep = await env.pass(this.crashAt);
    if (!blind) return;
    // Invariant 7: tmux unknown -> exactly one UNKNOWN finding, nothing destroyed, no row changed.
    if (rep && (rep.findings.length !== 1 || rep.findings[0]!.drift !== 'UNKNOWN'))
      throw new InvariantViolation('invariant 7: tmux unknown but findings were not one UNKNOWN');
    if (env.world.fingerprint() !== world) throw new InvariantViolation('invariant 7: a blind pass changed the world');
    if (JSON.stringify(await env.rows()) !== rows)
      throw new InvariantViolation('invariant 7: a blind pass changed rows');
  }
  toString() {
    return `reconcile(${this.crashAt ? `crash ${this.crashAt}` : ''})`;
  }
}

type MoveTo = 'in_review' | 'done' | 'blocked' | 'todo';

export class OperatorMove extends Cmd {
  constructor(
    readonly i: number,
    readonly to: MoveTo,
  ) {
    super();
  }
  protected override operatorKey(env: Env) {
    return keyOf(env, this.i);
  }
  protected async act(_m: Model, env: Env) {
    const key = keyOf(env, this.i);
    const res = await env.inProcess(env.process('operator:test'), (mc) =>
      mc.move(key, this.to, this.to === 'blocked' ? { reason: 'operator hold' } : {}),
    );
    if (this.to === 'blocked' && !(res instanceof Crash) && res.ok) env.operatorBlocked.add(key);
  }
  toString() {
    return `move(${this.i}, ${this.to})`;
  }
}

export class OperatorAdopt extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected override operatorKey(env: Env) {
    return keyOf(env, this.i);
  }
  protected async act(_m: Model, env: Env) {
    await env.inProcess(env.process('operator:test'), (mc) => mc.adopt(keyOf(env, this.i)));
  }
  toString() {
    return `adopt(${this.i})`;
  }
}

export class OperatorRetire extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected override operatorKey(env: Env) {
    return keyOf(env, this.i);
  }
  protected async act(_m: Model, env: Env) {
    await env.inProcess(env.process('operator:test'), (mc) => mc.retire(keyOf(env, this.i)));
  }
  toString() {
    return `retire(${this.i})`;
  }
}

let sendSeq = 0;
export class OperatorSend extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    await env.inProcess(env.process('operator:test'), (mc) =>
      mc.send(keyOf(env, this.i), `please also handle case ${++sendSeq}`),
    );
  }
  toString() {
    return `send(${this.i})`;
  }
}

type Racer = 'pickup' | 'send' | 'retire' | 'reconcile' | 'adopt';

/** A daemon pass racing an operator command (or a second `mcc reconcile`): only the store's CAS orders them. */
export class Race extends Cmd {
  protected override readonly racy = true;
  constructor(
    readonly i: number,
    readonly other: Racer,
  ) {
    super();
  }
  protected override operatorKey(env: Env) {
    return this.other === 'retire' ? keyOf(env, this.i) : null;
  }
  protected async act(_m: Model, env: Env) {
    const key = keyOf(env, this.i);
    const op = env.process(this.other === 'reconcile' ? 'cli' : 'operator:test');
    await Promise.all([
      env.pass(),
      env.inProcess(op, async (mc) => {
        if (this.other === 'pickup') return mc.pickup(key);
        if (this.other === 'send') return mc.send(key, `racing note ${++sendSeq}`);
        if (this.other === 'retire') return mc.retire(key);
        if (this.other === 'adopt') return mc.adopt(key);
        return mc.reconcile('auto');
      }),
    ]);
  }
  toString() {
    return `race(pass || ${this.other} ${this.i})`;
  }
}

export class Settle extends Cmd {
  override check() {
    return true;
  }
  protected async act(_m: Model, env: Env) {
    await settle(env);
  }
  toString() {
    return 'settle';
  }
}

const idx = fc.nat({ max: MAX_TICKETS - 1 });
const pickupCrash = fc.oneof(fc.constant(null), fc.constantFrom(...FAILPOINTS));
const deliverCrash = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<FailpointName>('deliver.before_paste', 'deliver.after_paste', 'deliver.after_submit'),
  },
);

const spawned: fc.Arbitrary<Spawned> = fc.record({
  instantBoot: fc.boolean(),
  layout: fc.constantFrom<Layout>('clean', 'scrollback'),
  signIn: fc.constantFrom(false, false, true),
  stirs: fc.constantFrom(false, false, true),
});

const progress = fc.constantFrom<'boot' | Outcome>('boot', 'boot', 'REVIEW', 'DONE', 'QUESTION', 'NONE');

/** All commands; repeated entries weight the draw towards the ones that move the world. */
export const commands = [
  fc.nat({ max: BODIES.length - 1 }).map((b) => new AddTicket(b)),
  ...Array.from({ length: 3 }, () =>
    fc.tuple(idx, pickupCrash, spawned, fc.boolean()).map(([i, c, a, k]) => new Pickup(i, c, a, k)),
  ),
  ...Array.from({ length: 4 }, () => deliverCrash.map((c) => new Reconcile(c))),
  ...Array.from({ length: 3 }, () => fc.tuple(idx, progress).map(([i, w]) => new AgentProgress(i, w))),
  fc
    .tuple(idx, fc.constantFrom<'kill' | 'zombie'>('kill', 'kill', 'zombie'), fc.constantFrom(1, 137))
    .map(([i, h, s]) => new AgentDies(i, h, s)),
  idx.map((i) => new PidReused(i)),
  fc.tuple(idx, fc.boolean()).map(([i, s]) => new HandKill(i, s)),
  idx.map((i) => new HandCreate(i)),
  fc
    .tuple(idx, fc.constantFrom<MoveTo>('in_review', 'done', 'blocked', 'todo'))
    .map(([i, to]) => new OperatorMove(i, to)),
  idx.map((i) => new OperatorAdopt(i)),
  idx.map((i) => new OperatorRetire(i)),
  ...Array.from({ length: 2 }, () => idx.map((i) => new OperatorSend(i))),
  fc.constantFrom<'tmux' | 'proc' | 'recover'>('tmux', 'proc', 'recover', 'recover').map((m) => new Blindness(m)),
  ...Array.from({ length: 2 }, () => fc.integer({ min: 0, max: 2 * TTL_MS }).map((ms) => new TimePasses(ms))),
  idx.map((i) => new OperatorSignsIn(i)),
  idx.map((i) => new AgentStirs(i)),
  fc.tuple(idx, fc.boolean()).map(([i, f]) => new AgentFreezes(i, f)),
  fc.constant(new Settle()),
  fc.constant(new Reboot()),
  ...Array.from({ length: 2 }, () =>
    fc
      .tuple(idx, fc.constantFrom<Racer>('pickup', 'send', 'retire', 'reconcile', 'adopt'))
      .map(([i, o]) => new Race(i, o)),
  ),
];
