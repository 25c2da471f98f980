import { Box, Text } from 'ink';
import { sanitizeLine } from '../core/sanitize.js';
import { useDeps, useUi } from './context.js';
import { commandOf, commandsFor, keyLabel, type Command, type View } from './keymap.js';
import { cellWidth, truncate } from './text.js';
import { TextPrompt } from './text-prompt.js';
import type { Mode } from './ui-store.js';

// The footer: the one status line (k9s Flash: every result and every error, with its cause in words), or the
// line editor while one is open, then key hints generated from the keymap for the current view.

const NAV_IDS = new Set(['nav.down', 'nav.up', 'nav.top', 'nav.bottom', 'nav.pageDown', 'nav.pageUp']);

function hintOf(c: Command): string {
  return `${keyLabel(c.keys[0] ?? '')} ${c.hint}`;
}

/** Hint items for a view: the four main moves folded into one, mutating commands left out when read-only. */
export function hintItems(view: View, readonly: boolean): string[] {
  const cmds = commandsFor(view);
  const nav = cmds.filter((c) => NAV_IDS.has(c.id) && c.id !== 'nav.pageDown' && c.id !== 'nav.pageUp');
  const items = nav.length > 0 ? [`${nav.map((c) => keyLabel(c.keys[0] ?? '')).join('/')} move`] : [];
  for (const c of cmds) {
    if (NAV_IDS.has(c.id) || (readonly && c.mutates)) continue;
    items.push(hintOf(c));
  }
  return items;
}

/** Pack hint items into at most `maxLines` lines of `width`; when some do not fit, the help key ends the last line. */
export function packHints(
  items: readonly string[],
  width: number,
  maxLines: number,
  helpHint = hintOf(commandOf('view.help')),
): string[] {
  const lines: string[] = [''];
  const sep = '  ';
  let cut = false;
  for (const item of items) {
    const last = lines[lines.length - 1] as string;
    const next = last === '' ? item : `${last}${sep}${item}`;
    if (cellWidth(next) <= width) {
      lines[lines.length - 1] = next;
      continue;
    }
    if (lines.length < maxLines) {
      lines.push(truncate(item, width));
      continue;
    }
    cut = true;
    break;
  }
  if (cut && items.includes(helpHint)) {
    let last = lines[lines.length - 1] as string;
    while (last !== '' && cellWidth(`${last}${sep}${helpHint}`) > width)
      last = last.slice(0, Math.max(0, last.lastIndexOf(sep)));
    lines[lines.length - 1] = last.includes(helpHint) ? last : last === '' ? helpHint : `${last}${sep}${helpHint}`;
  }
  return lines;
}

function promptLabel(mode: Mode): string {
  if (mode.kind === 'filter') return 'filter';
  if (mode.kind === 'prompt') {
    if (mode.purpose === 'new') return 'new ticket title';
    const what = { send: 'send to', changes: 'changes for', block: 'block reason for' }[mode.purpose];
    return `${what} ${mode.key ?? '?'}`;
  }
  return '';
}

export interface FooterProps {
  width: number;
  hintLines: number;
}

/** Status line (or line editor) and generated key hints. */
export function Footer(props: FooterProps) {
  const { theme, readonly } = useDeps();
  const mode = useUi((s) => s.mode);
  const status = useUi((s) => s.status);
  const draft = useUi((s) => s.draft);
  const { width } = props;
  const hints = packHints(hintItems(mode.kind, readonly), width, props.hintLines);
  const editing = mode.kind === 'filter' || mode.kind === 'prompt';
  return (
    <Box flexDirection="column" height={1 + props.hintLines}>
      {editing ? (
        <TextPrompt label={promptLabel(mode)} draft={draft} width={width} theme={theme} />
      ) : (
        <Text wrap="truncate" color={theme.tone(status?.tone ?? 'info')} bold={status?.tone === 'error'}>
          {truncate(sanitizeLine(status?.text ?? ''), width) || ' '}
        </Text>
      )}
      {hints.map((h, i) => (
        <Text key={i} wrap="truncate" color={theme.dim}>
          {h || ' '}
        </Text>
      ))}
    </Box>
  );
}
