// A fake agent screen with the demo agent's contract (busy = `esc to interrupt`, ready = `demo> `). It moves
// only when the test says so (finish boot, finish work, sign in), never with the clock, so every run is
// reproducible. Input that arrives while it is not ready (booting, working, or showing the sign-in dialog) is
// lost, as with an interactive agent, and recorded in `intrusions`: mcc must never type into such a screen.
//
// Its traits are the screens mcc must judge right:
// - `layout: 'scrollback'`: the busy line stays in the scrollback above the prompt once boot or work ends, as
//   with agents that print their spinner line and go on below it. Only the quiet rule (the screen still for
//   `quietMs`) tells the stale line from a current one.
// - `signIn`: at start it shows a sign-in menu (a blocked screen) until the operator signs in; Enter on it
//   would pick a login method nobody chose.
// - `stir()`: armed, it starts a chore of its own right after mcc observed it ready (FakeWorld.afterObservation),
//   so the screen a delivery was decided on is gone before the paste; only the re-capture can catch that.
// - `freeze()`: stopped (a cgroup freezer, a hung process): it reads nothing and draws nothing, so its last
//   screen, a ready prompt, stays still; what is typed waits in the terminal and is read in order at `thaw()`.

export type AgentPhase = 'booting' | 'signin' | 'ready' | 'working' | 'exited';
/** NONE: the turn ends without a marker (an agent that just stops and waits for more input). */
export type Outcome = 'REVIEW' | 'DONE' | 'QUESTION' | 'NONE';
export type Layout = 'clean' | 'scrollback';

export interface AgentTraits {
  instantBoot: boolean;
  layout: Layout;
  signIn: boolean;
  /** Armed from the start to stir (see `stir`). */
  stirs: boolean;
}

export const BOOT_LINE = '⠋ booting… (esc to interrupt)';
export const CHORE_LINE = '⠙ compacting conversation… (esc to interrupt)';
export const PROMPT = 'demo> ';
/** The first line of the sign-in dialog; the model's demo profile has it as its `blocked` pattern. */
export const SIGN_IN_LINE = 'Sign in to continue: select a login method';
export const SIGN_IN_BLOCKED = '^Sign in to continue';
// The menu sits over the input box, whose prompt line stays visible under it: only the blocked rule stops a
// reading of this screen as a ready prompt.
const SIGN_IN_MENU = [
  SIGN_IN_LINE,
  '❯ 1. Account with subscription',
  '  2. API key',
  'Enter to confirm · Esc to exit',
  PROMPT,
];

export class FakeAgent {
  phase: AgentPhase;
  private readonly history: string[];
  private status: string;
  private input = '';
  /** What the agent is working on: a submitted prompt, or a chore it started by itself. */
  private work: 'prompt' | 'chore' | null = null;
  private stirArmed: boolean;
  private frozen = false;
  /** Pastes and keys typed while frozen: the terminal holds them until the agent reads again. */
  private typeahead: ({ paste: string } | { key: string })[] = [];
  /** Every submitted text, in order: what the agent was actually given. */
  readonly received: string[] = [];
  /** Pastes and keys that arrived while it was not ready (booting, working, sign-in): each one a defect of mcc. */
  readonly intrusions: string[] = [];
  /** The last thing the agent did: a prompt it took, or the marker it printed. */
  last: { kind: 'prompt' } | { kind: 'idle' } | { kind: 'marker'; marker: Exclude<Outcome, 'NONE'> } | null = null;

  constructor(
    readonly pid: number,
    private readonly changed: () => void,
    readonly traits: AgentTraits = { instantBoot: false, layout: 'clean', signIn: false, stirs: false },
  ) {
    this.stirArmed = traits.stirs;
    this.history = [`demo-agent pid ${pid}`];
    this.phase = traits.signIn ? 'signin' : traits.instantBoot ? 'ready' : 'booting';
    this.status = this.phase === 'ready' ? PROMPT : this.phase === 'booting' ? BOOT_LINE : '';
  }

  /** The screen as capture-pane shows it: history then the open status line (or dialog), trailing blanks removed. */
  screen(): string[] {
    const lines = [...this.history, ...(this.phase === 'signin' ? SIGN_IN_MENU : [this.status])];
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines;
  }

  get pendingInput(): string {
    return this.input;
  }

  /** The busy line ends: in the scrollback layout it stays on screen above what follows. */
  private endBusy(): void {
    if (this.traits.layout === 'scrollback') this.history.push(this.status);
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Texts that were still held (typed while frozen) when it died. */
  readonly diedHolding: string[] = [];

  /**
   * Texts typed while frozen and not read yet, as they would be submitted: typed into the terminal, not yet
   * taken. A draft pasted before the freeze counts once an Enter for it waits in the terminal.
   */
  get held(): string[] {
    const texts: string[] = [];
    let draft = this.input;
    for (const t of this.typeahead) {
      if ('paste' in t) draft += t.paste;
      else if (t.key === 'Escape' || t.key === 'C-c') draft = '';
      else if (t.key === 'Enter') {
        if (draft.trim() !== '') texts.push(draft);
        draft = '';
      }
    }
    // Pasted and not submitted yet: on the terminal all the same.
    if (draft !== this.input && draft.trim() !== '') texts.push(draft);
    return texts;
  }

  freeze(): void {
    if (this.phase !== 'exited') this.frozen = true;
  }

  /** It runs again and reads, in order, everything typed while it was frozen. */
  thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    const typed = this.typeahead;
    this.typeahead = [];
    for (const t of typed) {
      if ('paste' in t) this.paste(t.paste);
      else this.key(t.key);
    }
  }

  finishBoot(): boolean {
    if (this.phase !== 'booting' || this.frozen) return false;
    this.endBusy();
    this.phase = 'ready';
    this.status = PROMPT;
    this.changed();
    return true;
  }

  /** The operator attached and signed in: the dialog closes and the agent boots (at once if instantBoot). */
  signIn(): boolean {
    if (this.phase !== 'signin' || this.frozen) return false;
    this.history.push('✓ signed in');
    this.phase = this.traits.instantBoot ? 'ready' : 'booting';
    this.status = this.phase === 'ready' ? PROMPT : BOOT_LINE;
    this.changed();
    return true;
  }

  /** Start a chore of its own right after the next observation that sees it ready with an empty input line. */
  stir(): void {
    if (this.phase !== 'exited') this.stirArmed = true;
  }

  /** The urge passes: an armed stir never fires. */
  calm(): void {
    this.stirArmed = false;
  }

  /** mcc has just observed the world (and may be deciding on what it saw). */
  observed(): void {
    if (!this.stirArmed || this.frozen || this.phase !== 'ready' || this.input !== '') return;
    this.stirArmed = false;
    this.phase = 'working';
    this.work = 'chore';
    this.status = CHORE_LINE;
    this.changed();
  }

  finishWork(outcome: Outcome): boolean {
    if (this.phase !== 'working' || this.frozen) return false;
    this.endBusy();
    if (this.work === 'chore') {
      this.history.push('[demo] conversation compacted');
    } else {
      const n = this.received.length;
      this.history.push(
        outcome === 'NONE'
          ? `[demo] finished prompt ${n}`
          : outcome === 'REVIEW'
            ? `REVIEW: demo work for prompt ${n} is ready for review`
            : outcome === 'DONE'
              ? `DONE: demo work for prompt ${n} complete`
              : `QUESTION: demo needs a human decision for prompt ${n}`,
      );
      this.last = outcome === 'NONE' ? { kind: 'idle' } : { kind: 'marker', marker: outcome };
    }
    this.phase = 'ready';
    this.work = null;
    this.status = PROMPT;
    this.changed();
    return true;
  }

  private intruded(what: string): void {
    this.intrusions.push(`${this.phase}: ${what}`);
  }

  paste(text: string): void {
    if (this.phase === 'exited') return;
    if (this.frozen) {
      this.typeahead.push({ paste: text });
      return;
    }
    if (this.phase !== 'ready') {
      this.intruded(`paste ${JSON.stringify(text.slice(0, 40))}`);
      this.history.push('(busy: input ignored)');
    } else {
      this.input += text;
      this.status = PROMPT + this.input.replace(/\n/g, '⏎');
    }
    this.changed();
  }

  keys(keys: readonly string[]): void {
    for (const k of keys) this.key(k);
  }

  private key(k: string): void {
    if (this.phase === 'exited') return;
    if (this.frozen) {
      this.typeahead.push({ key: k });
      return;
    }
    if (this.phase !== 'ready') {
      this.intruded(`key ${k}`);
      if (this.phase === 'working' && (k === 'Escape' || k === 'C-c')) {
        this.endBusy();
        this.history.push('[demo] interrupted');
        this.phase = 'ready';
        this.work = null;
        this.status = PROMPT;
      } else if (this.phase === 'signin' && k === 'Enter') {
        // The highlighted login method was chosen by whoever pressed Enter: exactly what must never happen.
        this.history.push('(a login method was chosen by a keystroke)');
      }
      this.changed();
      return;
    }
    if (k === 'Escape' || k === 'C-c') this.input = '';
    if (k === 'Enter' && this.input.trim() !== '') this.submit();
    else this.status = PROMPT + this.input.replace(/\n/g, '⏎');
    this.changed();
  }

  private submit(): void {
    const text = this.input;
    this.input = '';
    this.received.push(text);
    this.last = { kind: 'prompt' };
    this.history.push(`[demo] prompt ${this.received.length} received`);
    // The echo is verbatim, lines at line start: the adversarial case for marker detection.
    for (const l of text.split('\n')) this.history.push(l);
    this.phase = 'working';
    this.work = 'prompt';
    this.status = `⠋ working on prompt ${this.received.length}… (esc to interrupt)`;
  }

  die(): void {
    // Text held in the terminal of an agent that dies frozen dies with it: it was typed and submitted (`sent`,
    // all mcc can know of a screen that looked ready) but never read.
    this.diedHolding.push(...this.held);
    this.frozen = false;
    this.typeahead = [];
    this.phase = 'exited';
  }
}
