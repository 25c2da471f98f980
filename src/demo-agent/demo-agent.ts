// `mcc demo-agent`: a tiny stand-in for an agent CLI (Claude Code, Codex...) used by the demo, the smoke
// run and the end-to-end tests. It boots (busy), shows a prompt, takes typed or bracketed-pasted input,
// "works" (busy) and ends with a marker line. Screen contract (the `demo` profile):
//   busy  = /esc to interrupt/        ready = /^demo> ?$/m on the last non-empty line
//   question = /^QUESTION:/m          review = /^REVIEW:/m      done = /^DONE:/m
import { constants } from 'node:os';
import { parseDemoArgs, type DemoArgs, type DemoOutcome } from './args.js';
import { INITIAL_INPUT, feedInput, flushInput, type InputEvent, type InputState } from './input.js';

export { DEMO_DEFAULTS, DEMO_OUTCOMES, parseDemoArgs, type DemoArgs, type DemoOutcome } from './args.js';

export const DEMO_PROMPT = 'demo> ';
export const BUSY_INPUT_IGNORED = '(busy: input ignored)';
export const CRASH_LINE = '[demo] fatal: simulated crash';
export const CRASH_EXIT_CODE = 3;

export function outcomeLine(outcome: Exclude<DemoOutcome, 'crash'>, prompt: number): string {
  switch (outcome) {
    case 'review':
      return `REVIEW: demo work for prompt ${prompt} is ready for review`;
    case 'done':
      return `DONE: demo work for prompt ${prompt} complete`;
    case 'question':
      return `QUESTION: demo needs a human decision for prompt ${prompt}`;
    default:
      return assertNever(outcome);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}

export interface DemoIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream;
}

/** Runs the demo agent until Ctrl-D, end of input (when not a terminal), a signal or a simulated crash. */
export async function runDemoAgent(
  argv: string[],
  io: DemoIo = { stdin: process.stdin, stdout: process.stdout },
): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    (io.stderr ?? process.stderr).write(`mcc demo-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  return new Promise<number>((resolve) => new DemoSession(args, io, resolve).start());
}

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const CLEAR_LINE = '\r\x1b[2K';
const ESC_FLUSH_MS = 40; // a lone ESC left unfinished this long was the Escape key
const SIGNALS = ['SIGHUP', 'SIGTERM'] as const;

type Phase =
  | { kind: 'booting' }
  | { kind: 'ready' }
  | { kind: 'working'; prompt: number; timer: NodeJS.Timeout }
  | { kind: 'exited' };

/** Control characters must not reach the terminal from an echo. */
const printable = (s: string): string => s.replace(/\t/g, '  ').replace(/[\x00-\x1f\x7f]/g, '?');

class DemoSession {
  private phase: Phase = { kind: 'booting' };
  private input: InputState = INITIAL_INPUT;
  private buffer = '';
  private prompts = 0;
  private outcomeUsed = false;
  /** The open last line (busy line or prompt), redrawn in place when stdout is a terminal. */
  private status = '';
  private spinner: NodeJS.Timeout | undefined;
  private bootTimer: NodeJS.Timeout | undefined;
  private escTimer: NodeJS.Timeout | undefined;
  /** Without a terminal, input that arrives while busy waits instead of being discarded. */
  private readonly queued: InputEvent[] = [];
  private eof = false;
  private readonly tty: boolean;
  private readonly interactive: boolean;

  constructor(
    private readonly args: DemoArgs,
    private readonly io: DemoIo,
    private readonly resolve: (code: number) => void,
  ) {
    this.tty = io.stdout.isTTY === true;
    this.interactive = io.stdin.isTTY === true;
  }

  start(): void {
    const { stdin, stdout } = this.io;
    if (this.interactive) stdin.setRawMode?.(true);
    stdin.setEncoding('utf8');
    stdin.on('data', this.onData);
    stdin.on('end', this.onEnd);
    stdin.on('error', this.onEnd);
    stdout.on('error', () => {}); // the terminal may vanish (SIGHUP): never crash on a write
    for (const sig of SIGNALS) process.on(sig, this.onSignal);
    if (this.interactive && this.tty) this.write('\x1b[?2004h');
    this.line(`demo-agent (mcc demo) pid ${process.pid}`);
    this.busy('booting…');
    this.bootTimer = setTimeout(() => this.ready(), this.args.bootMs);
  }

  private write(s: string): void {
    this.io.stdout.write(s);
  }

  private setStatus(text: string): void {
    this.status = text;
    this.write(this.tty ? CLEAR_LINE + text : `${text}\n`);
  }

  /** Prints a full line above the status line. */
  private line(text: string): void {
    this.write(this.tty ? `${CLEAR_LINE}${text}\n${this.status}` : `${text}\n`);
  }

  private busy(label: string): void {
    let frame = 0;
    const render = (): void => this.setStatus(`${SPINNER[frame % SPINNER.length]} ${label} (esc to interrupt)`);
    render();
    if (this.tty) this.spinner = setInterval(() => (frame++, render()), 100);
  }

  private stopBusy(): void {
    clearInterval(this.spinner);
    if (this.tty && this.status !== '') this.write(CLEAR_LINE);
    this.status = '';
  }

  private ready(): void {
    this.stopBusy();
    this.phase = { kind: 'ready' };
    this.buffer = '';
    this.setStatus(DEMO_PROMPT);
    // edit() may submit a line and move the phase on: re-read it each time.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    while (this.phase.kind === 'ready' && this.queued.length > 0) this.edit(this.queued.shift()!);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.eof && this.phase.kind === 'ready') this.finish(0);
  }

  private renderInput(): void {
    if (!this.tty) return;
    const view = printable(this.buffer.replace(/\n/g, '⏎'));
    const room = Math.max(10, (this.io.stdout.columns ?? 80) - DEMO_PROMPT.length - 1);
    const chars = Array.from(view);
    this.setStatus(DEMO_PROMPT + (chars.length > room ? `…${chars.slice(1 - room).join('')}` : view));
  }

  private readonly onData = (chunk: string | Buffer): void => {
    clearTimeout(this.escTimer);
    const busyAtStart = this.phase.kind === 'booting' || this.phase.kind === 'working';
    const step = feedInput(this.input, chunk.toString());
    this.input = step.state;
    const { ignored, interrupted } = this.dispatch(step.events);
    if (this.interactive && (ignored || (busyAtStart && !interrupted))) this.line(BUSY_INPUT_IGNORED);
    if (step.state.pending !== '') {
      this.escTimer = setTimeout(() => {
        const flushed = flushInput(this.input);
        this.input = flushed.state;
        this.dispatch(flushed.events);
      }, ESC_FLUSH_MS);
    }
  };

  /** Routes events by phase; reports whether any input was discarded as busy, or interrupted the work. */
  private dispatch(events: InputEvent[]): { ignored: boolean; interrupted: boolean } {
    let ignored = false;
    let interrupted = false;
    for (const event of events) {
      const phase = this.phase;
      switch (phase.kind) {
        case 'ready':
          this.edit(event);
          break;
        case 'booting':
        case 'working':
          if (!this.interactive) this.queued.push(event);
          else if (phase.kind === 'working' && (event.type === 'escape' || event.type === 'ctrl-c')) {
            this.interrupt(phase);
            interrupted = true;
          } else ignored = true;
          break;
        case 'exited':
          break;
        default:
          assertNever(phase);
      }
    }
    return { ignored, interrupted };
  }

  private edit(event: InputEvent): void {
    switch (event.type) {
      case 'text':
      case 'paste':
        this.buffer += event.text;
        return this.renderInput();
      case 'backspace':
        this.buffer = Array.from(this.buffer).slice(0, -1).join('');
        return this.renderInput();
      case 'escape':
      case 'ctrl-c':
        this.buffer = '';
        return this.renderInput();
      case 'ctrl-d':
        if (this.buffer === '') this.finish(0);
        return;
      case 'submit':
        return this.submit();
      default:
        return assertNever(event);
    }
  }

  private submit(): void {
    const text = this.buffer.replace(/\n+$/, '');
    this.buffer = '';
    if (text.trim() === '') return this.renderInput();
    const prompt = ++this.prompts;
    this.stopBusy(); // clears the prompt line: the `│ ` echo below is the only copy of the text on screen
    const lines = text.split('\n');
    this.line(`[demo] prompt ${prompt} received (${lines.length} lines, ${Array.from(text).length} chars)`);
    for (const l of lines) this.line(`│ ${printable(l)}`);
    this.phase = { kind: 'working', prompt, timer: setTimeout(() => this.workDone(prompt), this.args.workMs) };
    this.busy(`working on prompt ${prompt}…`);
  }

  private workDone(prompt: number): void {
    this.stopBusy();
    const outcome = this.outcomeUsed ? 'review' : this.args.outcome;
    this.outcomeUsed = true;
    if (outcome === 'crash') {
      this.line(CRASH_LINE);
      return this.finish(CRASH_EXIT_CODE);
    }
    this.line(outcomeLine(outcome, prompt));
    this.ready();
  }

  private interrupt(phase: Extract<Phase, { kind: 'working' }>): void {
    clearTimeout(phase.timer);
    this.stopBusy();
    this.line(`[demo] interrupted prompt ${phase.prompt}`);
    this.ready();
  }

  private readonly onEnd = (): void => {
    if (this.eof) return;
    this.eof = true;
    if (this.interactive) return this.finish(0); // the terminal is gone
    // Without a terminal each line is a prompt, and so is a last line without a newline.
    this.dispatch([...flushInput(this.input).events, { type: 'submit' }]);
    if (this.phase.kind === 'ready' && this.queued.length === 0) this.finish(0);
  };

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.finish(128 + constants.signals[signal]);
  };

  private finish(code: number): void {
    const phase = this.phase;
    if (phase.kind === 'exited') return;
    if (phase.kind === 'working') clearTimeout(phase.timer);
    this.phase = { kind: 'exited' };
    clearTimeout(this.bootTimer);
    clearTimeout(this.escTimer);
    clearInterval(this.spinner);
    const { stdin } = this.io;
    if (this.tty && this.status !== '') this.write('\n');
    if (this.interactive && this.tty) this.write('\x1b[?2004l');
    try {
      if (this.interactive) stdin.setRawMode?.(false);
    } catch {
      // the terminal is already gone
    }
    stdin.off('data', this.onData);
    stdin.off('end', this.onEnd);
    stdin.off('error', this.onEnd);
    stdin.pause();
    for (const sig of SIGNALS) process.off(sig, this.onSignal);
    this.resolve(code);
  }
}
