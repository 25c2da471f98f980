import type { TicketStatus } from '../core/types.js';
import type { Tone } from './ui-store.js';

// Colours are a second channel only: every meaning is also in the text (state names, badge words, the `>`
// marker of the selection, the tone word on the status line). NO_COLOR (https://no-color.org) turns them off;
// chalk does not read it, so the console does.

export interface Theme {
  color: boolean;
  state(s: TicketStatus): string | undefined;
  tone(t: Tone): string | undefined;
  badge: string | undefined;
  dim: string | undefined;
}

const STATE_COLOR: Record<TicketStatus, string> = {
  todo: 'white',
  in_progress: 'cyan',
  in_review: 'magenta',
  done: 'green',
  blocked: 'red',
};

const TONE_COLOR: Record<Tone, string> = { info: 'white', ok: 'green', warn: 'yellow', error: 'red' };

/** Whether NO_COLOR asks for no colour (present and not empty). */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['NO_COLOR'] ?? '') !== '';
}

/** The console's colours, or none at all. */
export function makeTheme(color: boolean): Theme {
  return {
    color,
    state: (s) => (color ? STATE_COLOR[s] : undefined),
    tone: (t) => (color ? TONE_COLOR[t] : undefined),
    badge: color ? 'yellow' : undefined,
    dim: color ? 'gray' : undefined,
  };
}
