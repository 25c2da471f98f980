// World events of the model test: agents dying or turning zombie, pids reused, sessions killed or made by hand,
// a reboot, tmux or /proc going blind, time passing, and the agent's screen moving on.
import type { Outcome } from './fake-agent.js';
import { Cmd, keyOf, type Model } from './model-cmd.js';
import type { Env } from './model-env.js';

export class AgentDies extends Cmd {
  constructor(
    readonly i: number,
    readonly how: 'kill' | 'zombie',
    readonly status: number,
  ) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    const pane = env.world.liveSession(keyOf(env, this.i));
    if (!pane) return;
    if (this.how === 'zombie') env.world.procs.zombify(pane.pid);
    else env.world.tmux.processExited(pane.pid, this.status);
  }
  toString() {
    return `dies(${this.i}, ${this.how}${this.how === 'kill' ? ` ${this.status}` : ''})`;
  }
}

export class PidReused extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    const session = `mc-${keyOf(env, this.i)}`;
    const panes = [...env.world.tmux.panes.values()].filter((p) => p.session === session);
    const last = panes[panes.length - 1];
    if (last) env.world.procs.reuse(last.pid);
  }
  toString() {
    return `pid-reused(${this.i})`;
  }
}

export class HandKill extends Cmd {
  constructor(
    readonly i: number,
    readonly survives: boolean,
  ) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    env.world.tmux.handKill(`mc-${keyOf(env, this.i)}`, this.survives);
  }
  toString() {
    return `hand-kill(${this.i}${this.survives ? ', agent survives' : ''})`;
  }
}

export class HandCreate extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    env.world.tmux.handCreate(`mc-${keyOf(env, this.i)}`);
  }
  toString() {
    return `hand-create(${this.i})`;
  }
}

export class Reboot extends Cmd {
  override check() {
    return true;
  }
  protected async act(_m: Model, env: Env) {
    env.world.tmux.reboot();
    env.daemon = env.process('auto');
  }
  toString() {
    return 'reboot';
  }
}

export class Blindness extends Cmd {
  constructor(readonly mode: 'tmux' | 'proc' | 'recover') {
    super();
  }
  override check() {
    return true;
  }
  protected async act(_m: Model, env: Env) {
    env.world.tmux.failing = this.mode === 'tmux';
    env.world.procs.unknown = this.mode === 'proc';
  }
  toString() {
    return `blind(${this.mode})`;
  }
}

export class TimePasses extends Cmd {
  constructor(readonly ms: number) {
    super();
  }
  override check() {
    return true;
  }
  protected async act(_m: Model, env: Env) {
    env.world.clock.advance(this.ms);
  }
  toString() {
    return `time(+${this.ms}ms)`;
  }
}

export class AgentProgress extends Cmd {
  constructor(
    readonly i: number,
    readonly what: 'boot' | Outcome,
  ) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    const agent = env.world.liveSession(keyOf(env, this.i))?.agent;
    if (!agent) return;
    if (this.what === 'boot') agent.finishBoot();
    else agent.finishWork(this.what);
  }
  toString() {
    return `agent(${this.i}, ${this.what})`;
  }
}

/** The operator attaches and signs in on the agent's sign-in dialog (mcc itself never types into it). */
export class OperatorSignsIn extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    env.world.liveSession(keyOf(env, this.i))?.agent.signIn();
  }
  toString() {
    return `sign-in(${this.i})`;
  }
}

/** The agent will start a chore of its own right after mcc next observes it ready. */
export class AgentStirs extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    env.world.liveSession(keyOf(env, this.i))?.agent.stir();
  }
  toString() {
    return `stir(${this.i})`;
  }
}

/** The agent is frozen (it reads and draws nothing; its ready prompt stays still) or thawed again. */
export class AgentFreezes extends Cmd {
  constructor(
    readonly i: number,
    readonly frozen: boolean,
  ) {
    super();
  }
  protected async act(_m: Model, env: Env) {
    const agent = env.world.liveSession(keyOf(env, this.i))?.agent;
    if (this.frozen) agent?.freeze();
    else agent?.thaw();
  }
  toString() {
    return `${this.frozen ? 'freeze' : 'thaw'}(${this.i})`;
  }
}
