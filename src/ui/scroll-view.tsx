import { Box, Text } from 'ink';
import { useEffect } from 'react';
import { useDeps, useUi, useUiStore } from './context.js';
import { fit, truncate, type ViewLine } from './text.js';
import type { Theme } from './theme.js';

// A window over a list of lines (details, help, plan, confirm). Only the lines on screen are rendered; the
// view tells the UI store its length so the nav keys stop at its end.

function colorOf(style: ViewLine['style'], theme: Theme): string | undefined {
  switch (style) {
    case 'ok':
      return theme.tone('ok');
    case 'warn':
      return theme.tone('warn');
    case 'error':
      return theme.tone('error');
    case 'dim':
      return theme.dim;
    default:
      return undefined;
  }
}

/** Lines cut to the width, scrolled by the UI store's `scroll`. */
export function ScrollView(props: { lines: readonly ViewLine[]; height: number; width: number }) {
  const { theme } = useDeps();
  const ui = useUiStore();
  const scroll = useUi((s) => s.scroll);
  const { lines, height, width } = props;
  useEffect(() => {
    ui.getState().setViewLength(lines.length);
  }, [ui, lines.length]);
  const from = Math.max(0, Math.min(scroll, lines.length - height));
  const shown = lines.slice(from, from + height);
  const more = lines.length > height ? ` [${from + 1}-${from + shown.length}/${lines.length}]` : '';
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate" color={colorOf(l.style, theme)} bold={l.style === 'heading'}>
          {truncate(i === 0 && more ? `${fit(l.text, width - more.length)}${more}` : l.text, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}
