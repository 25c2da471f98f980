// `mcc demo-agent`: a tiny stand-in for an agent CLI (Claude Code, Codex...) used by the demo, the smoke
// run and the end-to-end tests. It boots (busy), shows a prompt, takes typed or bracketed-pasted input,
// "works" (busy) and ends with a marker line. Screen contract of the default `plain` layout (the `demo` profile):
//   busy  = /esc to interrupt/        ready = /^demo> ?$/m on the last non-empty line
//   question = /^QUESTION:/m          review = /^REVIEW:/m      done = /^DONE:/m
// Other layouts reproduce real agents' screens (see args.ts and layouts.ts): `scrollback` leaves its busy lines
// above the prompt, `box` draws an input box with a footer under it and an animated spinner above it while
// busy; `--signin` starts behind a sign-in menu that only Ctrl-O leaves. `--input-log` records every input
// chunk that arrives while the agent is not ready, `--prompt-log` every prompt it accepts.
import { constants } from 'node:os';
import { parseDemoArgs, type DemoArgs, type DemoOutcome } from './args.js';
import { INITIAL_INPUT, feedInput, flushInput, type InputEvent, type InputState } from './input.js';
import {
  DEMO_PROMPT,
  SPINNER,
  assertNever,
  boxLines,
  boxSpinnerLine,
  footerLines,
  inputView,
  printable,
  signinMenu,
} from './layouts.js';
import { LiveRegion } from './live-region.js';
import { DemoLogs, type InputEffect, type NotReadyPhase } from './logs.js';

export {
  DEMO_DEFAULTS,
  DEMO_FOOTERS,
  DEMO_LAYOUTS,
  DEMO_OUTCOMES,
  parseDemoArgs,
  type DemoArgs,
  type DemoFooter,
  type DemoLayout,
  type DemoOutcome,
} from './args.js';
export { DEMO_LAYOUT_PATTERNS, DEMO_PROMPT, DEMO_SIGNIN_PATTERN, SIGNIN_CONTINUE_KEY } from './layouts.js';

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
  let logs: DemoLogs;
  try {
    args = parseDemoArgs(argv);
    logs = DemoLogs.open(args);
  } catch (err) {
    (io.stderr ?? process.stderr).write(`mcc demo-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  return new Promise<number>((resolve) => new DemoSession(args, logs, io, resolve).start());
}

const ESC_FLUSH_MS = 40; // a lone ESC left unfinished this long was the Escape key
const FRAME_MS = 100;
const SIGNALS = ['SIGHUP', 'SIGTERM'] as const;

type Phase =
  | { kind: 'signin' }
  | { kind: 'booting' }
  | { kind: 'ready' }
  | { kind: 'working'; prompt: number; timer: NodeJS.Timeout }
  | { kind: 'exited' };

/** What one batch of input events did, for the `(busy: input ignored)` notice and the input log. */
interface Dispatched {
  ignored: boolean;
  interrupted: boolean;
  queued: boolean;
  continued: boolean;
  /** The first not-ready phase an event landed in. */
  notReady: NotReadyPhase | null;
}

class DemoSession {
  private phase: Phase = { kind: 'booting' };
  private input: InputState = INITIAL_INPUT;
  private buffer = '';
  private prompts = 0;
  private outcomeUsed = false;
  private readonly region: LiveRegion;
  /** The busy label while a spinner runs (booting, working), else null. */
  private busyLabel: string | null = null;
  private busySince = 0;
  private frame = 0;
  private spinner: NodeJS.Timeout | undefined;
  private bootTimer: NodeJS.Timeout | undefined;
  private escTimer: NodeJS.Timeout | undefined;
  /** Without a terminal, input that arrives while busy waits instead of being discarded. */
  private readonly queued: InputEvent[] = [];
  /** Output held while one input chunk is handled, so its log entry is written before the screen changes. */
  private held: string | null = null;
  private eof = false;
  private readonly tty: boolean;
  private readonly interactive: boolean;

  constructor(
    private readonly args: DemoArgs,
    private readonly logs: DemoLogs,
    private readonly io: DemoIo,
    private readonly resolve: (code: number) => void,
  ) {
    this.tty = io.stdout.isTTY === true;
    this.interactive = io.stdin.isTTY === true;
    this.region = new LiveRegion(
      (s) => this.write(s),
      this.tty,
      () => io.stdout.columns ?? 80,
    );
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
    if (!this.args.signin) return this.boot();
    this.phase = { kind: 'signin' };
    this.region.draw(signinMenu());
  }

  private boot(): void {
    this.phase = { kind: 'booting' };
    this.region.print(`demo-agent (mcc demo) pid ${process.pid}`);
    // The scrollback layout's boot line is printed once and stays above the prompt, like some agents' banners.
    if (this.args.layout === 'scrollback') this.region.print(`${SPINNER[0]} booting… (esc to interrupt)`);
    else this.busy(this.args.layout === 'box' ? 'Booting…' : 'booting…');
    this.bootTimer = setTimeout(() => this.ready(), this.args.bootMs);
  }

  private write(s: string): void {
    if (this.held !== null) this.held += s;
    else this.io.stdout.write(s);
  }

  private busy(label: string): void {
    this.busyLabel = label;
    this.busySince = Date.now();
    this.frame = 0;
    this.show();
    if (this.tty) this.spinner = setInterval(() => (this.frame++, this.show()), FRAME_MS);
  }

  private stopBusy(): void {
    clearInterval(this.spinner);
    this.busyLabel = null;
    // The box stays as it is until the next phase draws it: an idle box must never show while still busy.
    if (this.args.layout !== 'box') this.region.clear();
  }

  /** Draws the live region for the current state. */
  private show(): void {
    if (this.args.layout === 'box') return this.showBox();
    if (this.busyLabel !== null)
      return this.region.draw([`${SPINNER[this.frame % SPINNER.length]} ${this.busyLabel} (esc to interrupt)`]);
    const room = Math.max(10, (this.io.stdout.columns ?? 80) - DEMO_PROMPT.length - 1);
    this.region.draw([DEMO_PROMPT + inputView(this.buffer, room)]);
  }

  private showBox(): void {
    const box = boxLines(this.io.stdout.columns ?? 80, this.busyLabel === null ? this.buffer : '');
    const above =
      this.busyLabel === null
        ? ['']
        : ['', boxSpinnerLine(this.frame, this.busyLabel, Date.now() - this.busySince), ''];
    this.region.draw([...above, ...box.lines, ...footerLines(this.args.footer)], {
      line: above.length + 1,
      col: box.cursorCol,
    });
  }

  private ready(): void {
    this.stopBusy();
    this.phase = { kind: 'ready' };
    this.buffer = '';
    this.show();
    // edit() may submit a line and move the phase on: re-read it each time.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    while (this.phase.kind === 'ready' && this.queued.length > 0) this.edit(this.queued.shift()!);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.eof && this.phase.kind === 'ready') this.finish(0);
  }

  private renderInput(): void {
    if (this.tty) this.show();
  }

  private readonly onData = (chunk: string | Buffer): void => {
    clearTimeout(this.escTimer);
    const bytes = chunk.toString();
    const atStart = this.phase.kind;
    const busyAtStart = atStart === 'booting' || atStart === 'working';
    const step = feedInput(this.input, bytes);
    this.input = step.state;
    this.held = '';
    const done = this.dispatch(step.events);
    if (this.interactive && (done.ignored || (busyAtStart && !done.interrupted))) this.region.print(BUSY_INPUT_IGNORED);
    const phase = atStart === 'signin' || busyAtStart ? atStart : done.notReady;
    if (phase !== null) this.logs.input({ phase, effect: effectOf(done), bytes });
    const out = this.held;
    this.held = null;
    if (out !== '') this.write(out);
    if (step.state.pending !== '') {
      this.escTimer = setTimeout(() => {
        const flushed = flushInput(this.input);
        this.input = flushed.state;
        this.dispatch(flushed.events);
      }, ESC_FLUSH_MS);
    }
  };

  /** Routes events by phase and reports what became of them. */
  private dispatch(events: InputEvent[]): Dispatched {
    const done: Dispatched = { ignored: false, interrupted: false, queued: false, continued: false, notReady: null };
    for (const event of events) {
      const phase = this.phase;
      if (phase.kind === 'signin' || phase.kind === 'booting' || phase.kind === 'working') done.notReady ??= phase.kind;
      switch (phase.kind) {
        case 'ready':
          this.edit(event);
          break;
        case 'signin':
          if (event.type === 'ctrl-o') {
            done.continued = true;
            this.region.clear();
            this.boot();
          }
          break;
        case 'booting':
        case 'working':
          if (!this.interactive) {
            this.queued.push(event);
            done.queued = true;
          } else if (phase.kind === 'working' && (event.type === 'escape' || event.type === 'ctrl-c')) {
            this.interrupt(phase);
            done.interrupted = true;
          } else done.ignored = true;
          break;
        case 'exited':
          break;
        default:
          assertNever(phase);
      }
    }
    return done;
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
      case 'ctrl-o':
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
    const lines = text.split('\n');
    const chars = Array.from(text).length;
    this.logs.prompt({ prompt, lines: lines.length, chars, text });
    const box = this.args.layout === 'box';
    // Plain: the prompt line is cleared, so the `│ ` echo below is the only copy of the text on screen.
    // Box: the input box empties and the spinner shows before the echo scrolls in above them.
    if (!box) this.region.clear();
    this.phase = { kind: 'working', prompt, timer: setTimeout(() => this.workDone(prompt), this.args.workMs) };
    if (box) this.busy('Working…');
    this.region.print(`[demo] prompt ${prompt} received (${lines.length} lines, ${chars} chars)`);
    for (const l of lines) this.region.print(`│ ${printable(l)}`);
    if (!box) this.busy(`working on prompt ${prompt}…`);
  }

  private workDone(prompt: number): void {
    const seconds = ((Date.now() - this.busySince) / 1000).toFixed(1);
    this.stopBusy();
    const outcome = this.outcomeUsed ? 'review' : this.args.outcome;
    this.outcomeUsed = true;
    if (outcome === 'crash') {
      this.region.clear();
      this.region.print(CRASH_LINE);
      return this.finish(CRASH_EXIT_CODE);
    }
    this.region.print(outcomeLine(outcome, prompt));
    // Left in scrollback right above the prompt, as agents that print their spinner's last frame do.
    if (this.args.layout === 'scrollback')
      this.region.print(`✻ Worked on prompt ${prompt} for ${seconds}s (esc to interrupt)`);
    this.ready();
  }

  private interrupt(phase: Extract<Phase, { kind: 'working' }>): void {
    clearTimeout(phase.timer);
    this.stopBusy();
    this.region.print(`[demo] interrupted prompt ${phase.prompt}`);
    this.ready();
  }

  private readonly onEnd = (): void => {
    if (this.eof) return;
    this.eof = true;
    if (this.interactive || this.phase.kind === 'signin') return this.finish(0); // nothing more can come
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
    this.region.release();
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
    this.logs.close();
    this.resolve(code);
  }
}

function effectOf(done: Dispatched): InputEffect {
  if (done.continued) return 'continue';
  if (done.interrupted) return 'interrupt';
  return done.queued ? 'queued' : 'ignored';
}
