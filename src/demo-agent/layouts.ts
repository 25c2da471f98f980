// What the demo agent draws in each layout, as pure functions of its state: the sign-in menu, the input box
// with its footer and the box layout's spinner line. The session decides when; these decide what.
import type { DemoFooter, DemoLayout } from './args.js';

export const DEMO_PROMPT = 'demo> ';
/** The plain and scrollback layouts' spinner (one frame per 100 ms). */
export const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
/** The box layout's spinner glyphs, swinging back and forth like Claude Code's. */
export const BOX_SPINNER = ['·', '✢', '✳', '✶', '✻', '✽', '✻', '✶', '✳', '✢'] as const;
export const BOX_PROMPT = '│ > ';
/** The key that leaves the sign-in menu (tmux's name for Ctrl-O), which no bracketed paste and no submit key can produce. */
export const SIGNIN_CONTINUE_KEY = 'C-o';

/**
 * Profile patterns that read each layout (for tests and docs). `ready` is meant to be tested on each of the
 * last few lines: in the box layout the empty input line is three or four lines above the bottom.
 */
export const DEMO_LAYOUT_PATTERNS: Readonly<Record<DemoLayout, { ready: string; busy: string }>> = {
  plain: { ready: '^demo> ?$', busy: 'esc to interrupt' },
  scrollback: { ready: '^demo> ?$', busy: 'esc to interrupt' },
  box: { ready: '^│ > +│$', busy: 'esc to interrupt' },
};
/** Matches the sign-in menu (what a profile's `blocked` pattern would look for). */
export const DEMO_SIGNIN_PATTERN = 'Sign in with ChatGPT|Press Enter to continue';

/** Control characters must not reach the terminal from an echo. */
export const printable = (s: string): string => s.replace(/\t/g, '  ').replace(/[\x00-\x1f\x7f]/g, '?');

/** What the prompt line shows of the typed text: one line, newlines as ⏎, the tail when it is too long. */
export function inputView(buffer: string, room: number): string {
  const chars = Array.from(printable(buffer.replace(/\n/g, '⏎')));
  return chars.length > room ? `…${chars.slice(1 - room).join('')}` : chars.join('');
}

export function signinMenu(): string[] {
  return [
    '',
    '  Welcome to the demo agent (mcc demo). This is a stand-in sign-in screen:',
    "  only the operator's Ctrl-O continues; every other input is logged and ignored.",
    '',
    '  Sign in with ChatGPT to use the demo agent as part of your paid plan',
    '  or connect an API key for usage-based billing',
    '',
    '> 1. Sign in with ChatGPT',
    '     Usage included with Plus, Pro, Team and Enterprise plans',
    '  2. Provide your own API key',
    '     Pay for what you use',
    '',
    '  Press Enter to continue',
  ];
}

export function footerLines(footer: DemoFooter): string[] {
  const shortcuts = '  ? for shortcuts';
  const bypass = '  ⏵⏵ bypass permissions on (shift+tab to cycle)';
  switch (footer) {
    case 'shortcuts':
      return [shortcuts];
    case 'bypass':
      return [bypass];
    case 'both':
      return [shortcuts, bypass];
    case 'none':
      return [];
    default:
      return assertNever(footer);
  }
}

/** The input box `width` columns wide showing `buffer`: its three lines and the cursor's column on the second. */
export function boxLines(width: number, buffer: string): { lines: string[]; cursorCol: number } {
  const w = Math.max(20, width);
  const room = w - BOX_PROMPT.length - 2; // "│ > " text " │"
  const view = inputView(buffer, room);
  const used = Array.from(view).length;
  const rule = '─'.repeat(w - 2);
  return {
    lines: [`╭${rule}╮`, `${BOX_PROMPT}${view}${' '.repeat(room - used)} │`, `╰${rule}╯`],
    cursorCol: Array.from(BOX_PROMPT).length + used,
  };
}

/** The box layout's busy line: the glyph moves every frame, the seconds count up. */
export function boxSpinnerLine(frame: number, label: string, elapsedMs: number): string {
  const glyph = BOX_SPINNER[frame % BOX_SPINNER.length]!;
  return `${glyph} ${label} (${Math.floor(elapsedMs / 1000)}s · esc to interrupt)`;
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}
