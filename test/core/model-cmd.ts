// The base of the model test's commands. The model is only the number of tickets; the truth is the fake world
// and the real store, and the invariants are checked against them after every command (model-checks.ts).
import type fc from 'fast-check';
import { before, checkAlways } from './model-checks.js';
import type { Env } from './model-env.js';

export interface Model {
  tickets: number;
}

export const MAX_TICKETS = 3;

export abstract class Cmd implements fc.AsyncCommand<Model, Env> {
  /** Two processes interleaved: a write can be true when made and stale when the other one lands. */
  protected readonly racy: boolean = false;

  check(m: Readonly<Model>): boolean {
    return m.tickets > 0;
  }

  async run(m: Model, env: Env): Promise<void> {
    env.log.push(this.toString());
    const prev = await before(env);
    await this.act(m, env);
    await checkAlways(env, prev, this.operatorKey(env), this.racy);
  }

  /** The ticket an operator command acts on: the operator may move it where the system never would. */
  protected operatorKey(_env: Env): string | null {
    return null;
  }

  protected abstract act(m: Model, env: Env): Promise<void>;
  abstract toString(): string;
}

/** Ticket index -> key, modulo the tickets that exist. */
export const keyOf = (env: Env, i: number) => env.keys[i % env.keys.length]!;
