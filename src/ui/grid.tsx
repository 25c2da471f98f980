import { Box, Text } from 'ink';
import { memo, useRef } from 'react';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import { useDeps, useUi } from './context.js';
import { severalHosts } from './header.js';
import { commandOf, keysLabel } from './keymap.js';
import { ageText, cellText, gridColumns, headerCells, type Column, type ScreenLayout } from './layout.js';
import { truncate } from './text.js';
import type { Theme } from './theme.js';
import { effectiveSelection } from './ui-store.js';

// The ticket grid. Windowed: only the rows on screen are laid out and rendered, so 10,000 tickets scroll
// like 10. Selection follows the ticket key across refreshes, not the index.

interface GridLineProps {
  row: GridRow;
  cols: readonly Column[];
  selected: boolean;
  now: number;
  theme: Theme;
}

/** A line redraws when its row, columns, selection or theme change, or its age text moves; not on every tick. */
function sameLine(a: GridLineProps, b: GridLineProps): boolean {
  return (
    a.row === b.row &&
    a.cols === b.cols &&
    a.selected === b.selected &&
    a.theme === b.theme &&
    (a.now === b.now || ageText(a.row, a.now) === ageText(b.row, b.now))
  );
}

const GridLine = memo(function GridLine(props: GridLineProps) {
  const { row, cols, selected, now, theme } = props;
  const parts = cols.map((c, i) => {
    const text = cellText(row, c, now);
    const sep = i === cols.length - 1 ? '' : ' ';
    let color: string | undefined;
    if (c.id === 'state') color = theme.state(row.state);
    else if (c.id === 'badge' && text.trim() !== '') color = theme.badge;
    else if (c.id === 'runtime' && row.runtime === '?') color = theme.tone('warn');
    return (
      <Text key={c.id} color={color} bold={c.id === 'badge'}>
        {text}
        {sep}
      </Text>
    );
  });
  return (
    <Text wrap="truncate" inverse={selected}>
      {selected ? '> ' : '  '}
      {parts}
    </Text>
  );
}, sameLine);

function emptyLines(state: ConsoleState | null, filter: string): string[] {
  if (!state) return ['Loading: waiting for the first observation…'];
  if (state.rows.length === 0) {
    const n = keysLabel(commandOf('ticket.new'));
    const d = keysLabel(commandOf('demo.load'));
    const p = keysLabel(commandOf('ticket.pickup'));
    return [
      'No tickets yet.',
      `Press ${n} to create a ticket (you type its title),`,
      `or ${d} to load 3 demo tickets (profile demo), then ${p} on one to start its agent.`,
      `${keysLabel(commandOf('view.help'))} lists every key.`,
    ];
  }
  return [`No ticket matches the filter "${filter}" (${keysLabel(commandOf('view.back'))} clears it).`];
}

/** The previous columns while they are equal to `next`, so unchanged lines keep their memo. */
function useStableColumns(next: Column[]): readonly Column[] {
  const last = useRef<readonly Column[]>(next);
  const prev = last.current;
  const same =
    prev.length === next.length &&
    prev.every((c, i) => c.id === next[i]?.id && c.width === next[i].width && c.align === next[i].align);
  if (!same) last.current = next;
  return last.current;
}

/** The grid body: a column header line and the visible window of rows. */
export function Grid(props: { state: ConsoleState | null; rows: readonly GridRow[]; layout: ScreenLayout }) {
  const { state, rows, layout } = props;
  const { theme } = useDeps();
  const selectedKey = useUi((s) => s.selectedKey);
  const selectedIndex = useUi((s) => s.selectedIndex);
  const top = useUi((s) => s.top);
  const filter = useUi((s) => s.filter);
  const height = layout.gridRows;
  const sel = effectiveSelection(rows, { selectedKey, selectedIndex, top }, height);
  const visible = rows.slice(sel.top, sel.top + height);
  const cols = useStableColumns(gridColumns(layout.columns, visible, { hosts: severalHosts(state) }));
  const now = state?.at ?? 0;
  const position = rows.length > height ? ` ${sel.index + 1}/${rows.length}` : '';
  return (
    <Box flexDirection="column" height={layout.body} overflow="hidden">
      <Text wrap="truncate" bold>
        {truncate(`  ${headerCells(cols).join(' ')}`, layout.columns - position.length)}
        {position}
      </Text>
      {visible.length === 0
        ? emptyLines(state, filter).map((l, i) => (
            <Text key={i} wrap="truncate" color={theme.dim}>
              {truncate(l, layout.columns)}
            </Text>
          ))
        : visible.map((r, i) => (
            <GridLine key={r.key} row={r} cols={cols} selected={sel.top + i === sel.index} now={now} theme={theme} />
          ))}
    </Box>
  );
}
