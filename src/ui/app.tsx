import { Box } from 'ink';
import { useMemo, useState } from 'react';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import type { MissionControl } from '../core/service.js';
import { Confirm, PlanConfirm } from './confirm.js';
import {
  ConsoleProvider,
  useConsoleState,
  useDeps,
  useScreenLayout,
  useUi,
  useVisibleRows,
  type ConsoleDeps,
  type ConsoleSource,
} from './context.js';
import { DetailView } from './detail-view.js';
import { Footer } from './footer.js';
import { Grid } from './grid.js';
import { Header, hostLines } from './header.js';
import { HelpView } from './help-view.js';
import { FOOTER_LINES, withHeaderLines, type ScreenLayout } from './layout.js';
import { makeTheme, noColorRequested } from './theme.js';
import { createUiStore, type UiStore } from './ui-store.js';
import { useCommandKeys } from './use-command-keys.js';

// The root: layout only. Header, the body for the current mode, footer. Behaviour lives in actions.ts,
// data in the controller's snapshots, UI state in the zustand store.

export interface AppProps {
  service: MissionControl;
  controller: ConsoleSource;
  readonly: boolean;
  dbPath: string;
  socket: string;
  onAttach: (session: string) => void;
  onQuit: () => void;
  /** Keep UI state across re-mounts (the runner re-renders after `tmux attach`); fresh when absent. */
  ui?: UiStore;
  /** Colour on or off; defaults to off when NO_COLOR is set. */
  color?: boolean;
}

/** The console. */
export function App(props: AppProps) {
  const [ui] = useState(() => props.ui ?? createUiStore());
  const { service, controller, readonly, dbPath, socket, onAttach, onQuit, color } = props;
  const deps = useMemo<ConsoleDeps>(
    () => ({
      service,
      controller,
      readonly,
      dbPath,
      socket,
      onAttach,
      onQuit,
      theme: makeTheme(color ?? !noColorRequested()),
    }),
    [service, controller, readonly, dbPath, socket, onAttach, onQuit, color],
  );
  return (
    <ConsoleProvider deps={deps} ui={ui}>
      <Screen />
    </ConsoleProvider>
  );
}

function Screen() {
  const screen = useScreenLayout();
  const state = useConsoleState(screen);
  const extra = hostLines(state).length;
  const layout = useMemo(() => withHeaderLines(screen, extra), [screen, extra]);
  const rows = useVisibleRows(state);
  useCommandKeys(state, rows, layout);
  return (
    <Box flexDirection="column" width={layout.columns} height={layout.lines} overflow="hidden">
      <Header state={state} width={layout.columns} />
      <Body state={state} rows={rows} layout={layout} />
      <Footer width={layout.columns} hintLines={FOOTER_LINES - 1} />
    </Box>
  );
}

function Body(props: { state: ConsoleState | null; rows: readonly GridRow[]; layout: ScreenLayout }) {
  const { state, rows, layout } = props;
  const { readonly } = useDeps();
  const current = useUi((s) => s.mode);
  // The line editor sits in the footer, over whatever screen it was opened from.
  const mode = current.kind === 'prompt' ? current.back : current;
  switch (mode.kind) {
    case 'grid':
    case 'filter':
      return <Grid state={state} rows={rows} layout={layout} />;
    case 'details':
      return <DetailView key={mode.key} ticketKey={mode.key} state={state} layout={layout} />;
    case 'help':
      return <HelpView layout={layout} readonly={readonly} />;
    case 'confirm':
      return <Confirm question={mode.question} yes={mode.action} layout={layout} />;
    case 'plan':
      return <PlanConfirm findings={mode.findings} layout={layout} />;
    default: {
      const never: never = mode;
      throw new Error(`unhandled mode ${String(never)}`);
    }
  }
}
