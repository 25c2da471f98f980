import type { Key } from 'ink';
import type { GridRow } from '../core/console-model.js';

// The one keymap table: command ids -> default keys, a footer hint, a one-line description, whether the
// command changes anything, and why it cannot apply right now. The footer, the `?` help screen, the key
// resolver and the tests' `press()` are all generated from this table.

/** Where input goes: each command names the views that handle it. */
export type View = 'grid' | 'details' | 'help' | 'confirm' | 'plan' | 'prompt' | 'filter';

export type CommandId =
  | 'nav.down'
  | 'nav.up'
  | 'nav.top'
  | 'nav.bottom'
  | 'nav.pageDown'
  | 'nav.pageUp'
  | 'view.details'
  | 'view.back'
  | 'view.filter'
  | 'view.help'
  | 'ticket.pickup'
  | 'runtime.adopt'
  | 'runtime.interrupt'
  | 'runtime.retire'
  | 'message.send'
  | 'review.approve'
  | 'review.changes'
  | 'review.block'
  | 'ticket.new'
  | 'runtime.attach'
  | 'reconcile.now'
  | 'demo.load'
  | 'app.quit'
  | 'confirm.yes'
  | 'confirm.no'
  | 'prompt.submit'
  | 'prompt.cancel';

/** What a disabled-reason hook may look at. */
export interface CommandContext {
  view: View;
  /** The selected row (grid) or the ticket shown (details); null when there is none. */
  row: GridRow | null;
  readonly: boolean;
  filter: string;
}

export interface Command {
  id: CommandId;
  /** A printable character (`j`, `R`, `/`) or a named key in angle brackets (`<down>`, `<enter>`, `<C-c>`). */
  keys: readonly string[];
  /** The word shown in the footer. */
  hint: string;
  description: string;
  mutates: boolean;
  views: readonly View[];
  /** Why the command cannot apply now (in words, naming the ticket), or null when it can. */
  disabledReason?: (ctx: CommandContext) => string | null;
}

/** Named keys: how the operator reads them, the bytes a terminal sends, and how Ink reports them. */
export const NAMED_KEYS: Readonly<
  Record<string, { label: string; sequence: string; test: (k: Key, input: string) => boolean }>
> = {
  '<down>': { label: 'Down', sequence: '\x1b[B', test: (k) => k.downArrow },
  '<up>': { label: 'Up', sequence: '\x1b[A', test: (k) => k.upArrow },
  '<pgdn>': { label: 'PgDn', sequence: '\x1b[6~', test: (k) => k.pageDown },
  '<pgup>': { label: 'PgUp', sequence: '\x1b[5~', test: (k) => k.pageUp },
  '<home>': { label: 'Home', sequence: '\x1b[H', test: (k) => k.home },
  '<end>': { label: 'End', sequence: '\x1b[F', test: (k) => k.end },
  '<enter>': { label: 'Enter', sequence: '\r', test: (k) => k.return },
  '<esc>': { label: 'Esc', sequence: '\x1b', test: (k) => k.escape },
  '<C-c>': { label: 'Ctrl-C', sequence: '\x03', test: (k, input) => k.ctrl && input === 'c' },
};

const NAV: readonly View[] = ['grid', 'details', 'help', 'plan'];
const ON_TICKET: readonly View[] = ['grid', 'details'];

const needRow = (verb: string) => (c: CommandContext) => (c.row ? null : `${verb}: no ticket selected`);

function unknownObservation(verb: string, row: GridRow): string | null {
  return row.runtime === '?'
    ? `${verb}: cannot see the runtime of ${row.key} (observation unknown); nothing was done`
    : null;
}

function inReview(verb: string, c: CommandContext): string | null {
  if (!c.row) return `${verb}: no ticket selected`;
  return c.row.state === 'in_review' ? null : `${verb}: ${c.row.key} is ${c.row.state}, not in_review`;
}

function hasAdoptable(row: GridRow): boolean {
  return row.findings.some((f) => f.action.type === 'adopt');
}

/** The table itself: order is the order of the footer hints and the help screen. */
export const COMMANDS: readonly Command[] = [
  {
    id: 'nav.down',
    keys: ['j', '<down>'],
    hint: 'down',
    description: 'move down one row (scroll in a view)',
    mutates: false,
    views: NAV,
  },
  {
    id: 'nav.up',
    keys: ['k', '<up>'],
    hint: 'up',
    description: 'move up one row (scroll in a view)',
    mutates: false,
    views: NAV,
  },
  { id: 'nav.top', keys: ['g', '<home>'], hint: 'top', description: 'go to the first row', mutates: false, views: NAV },
  {
    id: 'nav.bottom',
    keys: ['G', '<end>'],
    hint: 'bottom',
    description: 'go to the last row',
    mutates: false,
    views: NAV,
  },
  {
    id: 'nav.pageDown',
    keys: ['<pgdn>'],
    hint: 'page down',
    description: 'move down one screen',
    mutates: false,
    views: NAV,
  },
  {
    id: 'nav.pageUp',
    keys: ['<pgup>'],
    hint: 'page up',
    description: 'move up one screen',
    mutates: false,
    views: NAV,
  },
  {
    id: 'view.details',
    keys: ['<enter>'],
    hint: 'details',
    description: 'details: body, runtimes, pane tail, findings, activity log',
    mutates: false,
    views: ['grid'],
    disabledReason: needRow('details'),
  },
  {
    id: 'view.back',
    keys: ['<esc>'],
    hint: 'back',
    description: 'back to the grid (in the grid: clear the filter)',
    mutates: false,
    views: ['grid', 'details', 'help'],
    disabledReason: (c) =>
      c.view === 'grid' && c.filter === '' ? 'back: already at the grid, no filter to clear' : null,
  },
  {
    id: 'view.filter',
    keys: ['/'],
    hint: 'filter',
    description: 'filter rows: free text, state:<state>, drift:<class>|any',
    mutates: false,
    views: ['grid'],
  },
  {
    id: 'view.help',
    keys: ['?'],
    hint: 'help',
    description: 'show every key',
    mutates: false,
    views: ['grid', 'details'],
  },
  {
    id: 'ticket.pickup',
    keys: ['p'],
    hint: 'pickup',
    description: 'start an agent on a todo ticket (adopts a live runtime instead of spawning twice)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'pickup: no ticket selected';
      if (r.state === 'todo') return null;
      if (r.state === 'in_progress' && r.live) return `pickup: ${r.key} already runs${r.pid ? ` (pid ${r.pid})` : ''}`;
      return `pickup: ${r.key} is ${r.state}, not todo`;
    },
  },
  {
    id: 'runtime.adopt',
    keys: ['a'],
    hint: 'adopt',
    description: 'point the ticket at its live runtime (fixes HIDDEN-LIVE, DRIFT, ORPHAN)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'adopt: no ticket selected';
      if (hasAdoptable(r)) return null;
      return unknownObservation('adopt', r) ?? (r.live ? null : `adopt: no live runtime for ${r.key}`);
    },
  },
  {
    id: 'runtime.interrupt',
    keys: ['i'],
    hint: 'interrupt',
    description: "send the profile's interrupt keys to the live agent",
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'interrupt: no ticket selected';
      return unknownObservation('interrupt', r) ?? (r.live ? null : `interrupt: no live runtime for ${r.key}`);
    },
  },
  {
    id: 'runtime.retire',
    keys: ['r'],
    hint: 'retire',
    description: 'kill the runtime and close it; an in_progress ticket goes back to todo (asks first)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'retire: no ticket selected';
      return r.runtime === 'none' ? `retire: ${r.key} has no open runtime` : null;
    },
  },
  {
    id: 'message.send',
    keys: ['s'],
    hint: 'send',
    description: 'send a message to the agent (queued while it is busy)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'send: no ticket selected';
      return r.state === 'done' ? `send: ${r.key} is done` : null;
    },
  },
  {
    id: 'review.approve',
    keys: ['A'],
    hint: 'approve',
    description: 'approve a ticket in review: done (asks first when its checks failed, and records the override)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => inReview('approve', c),
  },
  {
    id: 'review.changes',
    keys: ['C'],
    hint: 'changes',
    description: 'request changes (asks for the text): back to in_progress, the text goes to its agent or a fresh one',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => inReview('changes', c),
  },
  {
    id: 'review.block',
    keys: ['B'],
    hint: 'block',
    description: 'block the ticket (asks for the reason)',
    mutates: true,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'block: no ticket selected';
      return r.state === 'done' || r.state === 'blocked' ? `block: ${r.key} is ${r.state}` : null;
    },
  },
  {
    id: 'ticket.new',
    keys: ['n'],
    hint: 'new',
    description: 'create a ticket (asks for its title)',
    mutates: true,
    views: ['grid'],
  },
  {
    id: 'runtime.attach',
    keys: ['t'],
    hint: 'attach',
    description:
      "attach this terminal to the agent's tmux session (C-b d detaches back; read-only client with --readonly)",
    mutates: false,
    views: ON_TICKET,
    disabledReason: (c) => {
      const r = c.row;
      if (!r) return 'attach: no ticket selected';
      if (r.live || hasAdoptable(r)) return null;
      return unknownObservation('attach', r) ?? `attach: no live session for ${r.key}`;
    },
  },
  {
    id: 'reconcile.now',
    keys: ['R'],
    hint: 'reconcile',
    description: 'reconcile now: show the dry-run plan, confirm to apply it',
    mutates: true,
    views: ON_TICKET,
  },
  {
    id: 'demo.load',
    keys: ['D'],
    hint: 'demo',
    description: 'load 3 demo tickets (profile demo) to try the console',
    mutates: true,
    views: ['grid'],
  },
  {
    id: 'app.quit',
    keys: ['q', '<C-c>'],
    hint: 'quit',
    description: 'quit the console (agents keep running in tmux)',
    mutates: false,
    views: ['grid', 'details', 'help'],
  },
  { id: 'confirm.yes', keys: ['y'], hint: 'yes', description: 'confirm', mutates: false, views: ['confirm', 'plan'] },
  {
    id: 'confirm.no',
    keys: ['n', '<esc>'],
    hint: 'no',
    description: 'cancel',
    mutates: false,
    views: ['confirm', 'plan'],
  },
  {
    id: 'prompt.submit',
    keys: ['<enter>'],
    hint: 'ok',
    description: 'submit the text',
    mutates: false,
    views: ['prompt', 'filter'],
  },
  {
    id: 'prompt.cancel',
    keys: ['<esc>'],
    hint: 'cancel',
    description: 'cancel the input',
    mutates: false,
    views: ['prompt', 'filter'],
  },
];

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));

/** The command with this id (every id is in the table). */
export function commandOf(id: CommandId): Command {
  const c = BY_ID.get(id);
  if (!c) throw new Error(`no command ${id} in the keymap`);
  return c;
}

/** Why a command cannot apply now, or null: read-only mode first, then the command's own hook. */
export function disabledReason(id: CommandId, ctx: CommandContext): string | null {
  const c = commandOf(id);
  if (c.mutates && ctx.readonly) return `${c.hint}: read-only console (--readonly); nothing changes from here`;
  return c.disabledReason?.(ctx) ?? null;
}

/** How the operator reads a key: `j`, `Down`, `Ctrl-C`. */
export function keyLabel(key: string): string {
  return NAMED_KEYS[key]?.label ?? key;
}

/** The bytes a terminal sends for a key, so tests can type any command. */
export function keySequence(key: string): string {
  return NAMED_KEYS[key]?.sequence ?? key;
}

/** What one key event resolved to: a command, or a key nothing in this view is bound to. */
export type Resolved = { id: CommandId } | { unbound: string };

function bound(view: View, key: string): CommandId | null {
  for (const c of COMMANDS) if (c.views.includes(view) && c.keys.includes(key)) return c.id;
  return null;
}

/**
 * Map one Ink input event to commands. Several printable keys can arrive as one string (fast typing, a
 * paste, a slow SSH link); each resolves against the view at that moment, so a caller that runs each
 * command before taking the next sees `n` open a prompt and can stop there.
 */
export function* resolveKeys(input: string, key: Key, viewNow: () => View): Generator<Resolved> {
  for (const [name, spec] of Object.entries(NAMED_KEYS)) {
    if (!spec.test(key, input)) continue;
    const id = bound(viewNow(), name);
    yield id ? { id } : { unbound: spec.label };
    return;
  }
  if (key.ctrl || key.meta || key.tab || key.backspace || key.delete || key.leftArrow || key.rightArrow) {
    if (input) yield { unbound: key.ctrl ? `Ctrl-${input}` : input };
    return;
  }
  for (const ch of input) {
    const id = bound(viewNow(), ch);
    yield id ? { id } : { unbound: ch };
  }
}

/** The commands a view handles, in table order. */
export function commandsFor(view: View): Command[] {
  return COMMANDS.filter((c) => c.views.includes(view));
}

/** `j/Down`: every key of a command, for the footer and help. */
export function keysLabel(c: Command): string {
  return c.keys.map(keyLabel).join('/');
}
