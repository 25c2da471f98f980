// A fake agent screen with the demo agent's contract (busy = `esc to interrupt`, ready = `demo> `). It moves
// only when the test says so (finish boot, finish work), never with the clock, so every run is reproducible.
// Input that arrives while it is busy is discarded, as an interactive agent does: text pasted at the wrong
// moment is lost, which is exactly what the delivery invariants must catch.

export type AgentPhase = 'booting' | 'ready' | 'working' | 'exited';
/** NONE: the turn ends without a marker (an agent that just stops and waits for more input). */
export type Outcome = 'REVIEW' | 'DONE' | 'QUESTION' | 'NONE';

export const BOOT_LINE = '⠋ booting… (esc to interrupt)';
export const PROMPT = 'demo> ';

export class FakeAgent {
  phase: AgentPhase;
  private readonly history: string[];
  private status: string;
  private input = '';
  /** Every submitted text, in order: what the agent was actually given. */
  readonly received: string[] = [];
  /** Pastes and keys that arrived while busy and were thrown away. */
  readonly discarded: string[] = [];
  /** The last thing the agent did: a prompt it took, or the marker it printed. */
  last: { kind: 'prompt' } | { kind: 'idle' } | { kind: 'marker'; marker: Exclude<Outcome, 'NONE'> } | null = null;

  constructor(
    readonly pid: number,
    private readonly changed: () => void,
    instantBoot = false,
  ) {
    this.history = [`demo-agent pid ${pid}`];
    this.phase = instantBoot ? 'ready' : 'booting';
    this.status = instantBoot ? PROMPT : BOOT_LINE;
  }

  /** The screen as capture-pane shows it: history then the open status line, trailing blanks removed. */
  screen(): string[] {
    const lines = [...this.history, this.status];
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines;
  }

  get pendingInput(): string {
    return this.input;
  }

  finishBoot(): boolean {
    if (this.phase !== 'booting') return false;
    this.phase = 'ready';
    this.status = PROMPT;
    this.changed();
    return true;
  }

  finishWork(outcome: Outcome): boolean {
    if (this.phase !== 'working') return false;
    const n = this.received.length;
    const line =
      outcome === 'NONE'
        ? `[demo] finished prompt ${n}`
        : outcome === 'REVIEW'
          ? `REVIEW: demo work for prompt ${n} is ready for review`
          : outcome === 'DONE'
            ? `DONE: demo work for prompt ${n} complete`
            : `QUESTION: demo needs a human decision for prompt ${n}`;
    this.history.push(line);
    this.phase = 'ready';
    this.status = PROMPT;
    this.last = outcome === 'NONE' ? { kind: 'idle' } : { kind: 'marker', marker: outcome };
    this.changed();
    return true;
  }

  paste(text: string): void {
    if (this.phase === 'exited') return;
    if (this.phase !== 'ready') {
      this.discarded.push(text);
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
    if (this.phase !== 'ready') {
      if (this.phase === 'working' && (k === 'Escape' || k === 'C-c')) {
        this.history.push('[demo] interrupted');
        this.phase = 'ready';
        this.status = PROMPT;
      } else {
        this.discarded.push(`key:${k}`);
      }
      this.changed();
      return;
    }
    if (k === 'Escape' || k === 'C-c') this.input = '';
    if (k === 'Enter' && this.input.trim() !== '') this.submit();
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
    this.status = `⠋ working on prompt ${this.received.length}… (esc to interrupt)`;
  }

  die(): void {
    this.phase = 'exited';
  }
}
