import { useStdout } from 'ink';
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import type { MissionControl } from '../core/service.js';
import { applyFilter } from './filter.js';
import { screenLayout, type ScreenLayout } from './layout.js';
import type { Theme } from './theme.js';
import type { UiState, UiStore } from './ui-store.js';

// What every component may reach: the service and controller (domain), the UI store, and the theme.
// Passed by React context so each App, and each test, gets its own.

/** The controller as the UI sees it: subscribe to snapshots, ask for a refresh. */
export interface ConsoleSource {
  subscribe(fn: (s: ConsoleState) => void): () => void;
  current(): ConsoleState | null;
  poke(): void;
}

export interface ConsoleDeps {
  service: MissionControl;
  controller: ConsoleSource;
  readonly: boolean;
  /** Shown in the header. */
  dbPath: string;
  socket: string;
  theme: Theme;
  /** Hand the terminal to `tmux attach` for this session; the runner restores the console on detach. */
  onAttach(session: string): void;
  /** Leave the console; runtimes are not touched. */
  onQuit(): void;
}

const DepsContext = createContext<ConsoleDeps | null>(null);
const UiContext = createContext<UiStore | null>(null);

/** Provide deps and the UI store to the tree. */
export function ConsoleProvider(props: { deps: ConsoleDeps; ui: UiStore; children: ReactNode }) {
  return (
    <DepsContext.Provider value={props.deps}>
      <UiContext.Provider value={props.ui}>{props.children}</UiContext.Provider>
    </DepsContext.Provider>
  );
}

/** The console's deps (service, controller, theme...). */
export function useDeps(): ConsoleDeps {
  const d = useContext(DepsContext);
  if (!d) throw new Error('useDeps outside ConsoleProvider');
  return d;
}

/** The UI store itself, for actions outside render. */
export function useUiStore(): UiStore {
  const s = useContext(UiContext);
  if (!s) throw new Error('useUiStore outside ConsoleProvider');
  return s;
}

/** Select a slice of UI state; re-renders when it changes. */
export function useUi<T>(selector: (s: UiState) => T): T {
  return useStore(useUiStore(), selector);
}

/** The latest ConsoleState published by the controller (null before the first refresh). */
export function useConsoleState(): ConsoleState | null {
  const { controller } = useDeps();
  return useSyncExternalStore(
    (cb) => controller.subscribe(() => cb()),
    () => controller.current(),
  );
}

/** The terminal's size, re-read on every resize event. */
export function useScreenLayout(): ScreenLayout {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => {
      const next = read();
      setSize((prev) => (prev.columns === next.columns && prev.rows === next.rows ? prev : next));
    };
    stdout.on('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return useMemo(() => screenLayout(size.columns, size.rows), [size.columns, size.rows]);
}

/** The grid rows after the filter, recomputed only when the snapshot or the filter changes. */
export function useVisibleRows(state: ConsoleState | null): GridRow[] {
  const filter = useUi((s) => s.filter);
  return useMemo(() => (state ? applyFilter(state.rows, filter) : []), [state, filter]);
}
