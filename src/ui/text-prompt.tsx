import { Text } from 'ink';
import type { Draft } from './line-editor.js';
import { cellWidth, truncate } from './text.js';
import type { Theme } from './theme.js';

// The line editor as drawn in the footer: a label, the text around the cursor, the cursor as an inverse
// cell. Display only; keys reach the draft through the console's one key handler.

/** Where the visible part of a long line starts so the cursor stays on screen. */
function visibleFrom(chars: readonly string[], cursor: number, room: number): number {
  let from = 0;
  while (from < cursor && cellWidth(chars.slice(from, cursor).join('')) > room - 1) from++;
  return from;
}

/** One prompt line, never wider than `width`. */
export function TextPrompt(props: { label: string; draft: Draft; width: number; theme: Theme }) {
  const { label, draft, width, theme } = props;
  const chars = [...draft.text];
  const cursor = Math.max(0, Math.min(draft.cursor, chars.length));
  const prefix = truncate(`${label}> `, Math.max(1, width - 2));
  const room = Math.max(2, width - cellWidth(prefix) - 1);
  const from = visibleFrom(chars, cursor, room);
  const before = chars.slice(from, cursor).join('');
  const after = truncate(chars.slice(cursor + 1).join(''), Math.max(0, room - cellWidth(before) - 1));
  return (
    <Text wrap="truncate">
      <Text bold color={theme.tone('info')}>
        {prefix}
      </Text>
      {before}
      <Text inverse>{chars[cursor] ?? ' '}</Text>
      {after}
    </Text>
  );
}
