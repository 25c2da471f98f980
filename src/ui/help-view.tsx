import { COMMANDS, keysLabel, type View } from './keymap.js';
import type { ScreenLayout } from './layout.js';
import { ScrollView } from './scroll-view.js';
import { fit, wrap, type ViewLine } from './text.js';

// The `?` screen, generated from the keymap table: every command with its keys, what it does, and where it
// applies. Nothing here is written by hand, so help cannot drift from the keys.

const VIEW_NAMES: Record<View, string> = {
  grid: 'grid',
  details: 'details',
  help: 'help',
  confirm: 'confirm',
  plan: 'plan',
  prompt: 'text input',
  filter: 'filter input',
};

/** Help as lines: one entry per command, wrapped under its keys. */
export function helpLines(readonly: boolean, width: number): ViewLine[] {
  const keyW = Math.max(...COMMANDS.map((c) => keysLabel(c).length)) + 2;
  const lines: ViewLine[] = [{ text: 'Keys (generated from the keymap; * changes state)', style: 'heading' }];
  if (readonly) lines.push({ text: 'Read-only console: the * keys are disabled and say so.', style: 'warn' });
  for (const c of COMMANDS) {
    const where = c.views.map((v) => VIEW_NAMES[v]).join(', ');
    const text = `${c.mutates ? '*' : ' '} ${c.id}: ${c.description} [${where}]`;
    const body = wrap(text, Math.max(10, width - keyW));
    body.forEach((l, i) => lines.push({ text: `${fit(i === 0 ? keysLabel(c) : '', keyW)}${l}` }));
  }
  lines.push({
    text: 'Filter tokens: free text, state:todo|in_progress|in_review|done|blocked, drift:<CLASS>|any|none',
    style: 'dim',
  });
  lines.push({ text: 'Quitting never stops agents: their tmux sessions keep running.', style: 'dim' });
  return lines;
}

/** The help screen. */
export function HelpView(props: { layout: ScreenLayout; readonly: boolean }) {
  const { layout } = props;
  return <ScrollView lines={helpLines(props.readonly, layout.columns)} height={layout.body} width={layout.columns} />;
}
