import { useStdout } from 'ink';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { useStore } from 'zustand';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import type { MissionControl } from '../core/service.js';
import { applyFilter } from './filter.js';
import { hostLines, identityLine, observationLine } from './header.js';
import { ageText, screenLayout, type ScreenLayout } from './layout.js';
import type { Theme } from './theme.js';
import { effectiveSelection, type UiState, type UiStore } from './ui-store.js';

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

/**
 * The latest ConsoleState published by the controller (null before the first refresh). With `layout`, a
 * state that only moves the clock over the same built rows re-renders nothing unless a text on screen moves
 * with it: the observation's age, the daemon's lease, an age in a visible grid row, or anything in a view
 * over the grid (details, help). An idle console then draws a frame only when what it shows changes; a
 * render for any other reason (a key) still reads the latest state.
 */
export function useConsoleState(layout?: ScreenLayout): ConsoleState | null {
  const { controller, dbPath, socket, readonly } = useDeps();
  const ui = useUiStore();
  const shown = useRef<ConsoleState | null>(null);
  const geometry = useRef(layout);
  geometry.current = layout;
  const subscribe = useCallback(
    (cb: () => void) => {
      const off = controller.subscribe((next) => {
        const prev = shown.current;
        const height = geometry.current?.gridRows;
        if (prev !== null && height !== undefined && sameBuild(prev, next)) {
          const key = (s: ConsoleState) => clockTexts(s, ui.getState(), height, { dbPath, socket, readonly });
          if (key(prev) === key(next)) return;
        }
        cb();
      });
      // A key that scrolls or opens a view re-renders only its own components: bring the latest clock to them.
      const offUi = ui.subscribe(() => {
        if (shown.current !== controller.current()) cb();
      });
      return () => {
        off();
        offUi();
      };
    },
    [controller, ui, dbPath, socket, readonly],
  );
  const state = useSyncExternalStore(subscribe, () => controller.current());
  shown.current = state;
  return state;
}

/** Two states of the same build: the controller only moved the clock between them. */
function sameBuild(a: ConsoleState, b: ConsoleState): boolean {
  return a.rows === b.rows && a.counts === b.counts && a.observation.state === b.observation.state;
}

/** Every text on screen that moves with the clock alone (see useConsoleState). */
function clockTexts(
  s: ConsoleState,
  ui: UiState,
  height: number,
  opts: { dbPath: string; socket: string; readonly: boolean },
): string {
  const hosts = hostLines(s)
    .map((l) => l.text)
    .join('\n');
  const head = `${observationLine(s).text}\n${identityLine(s, opts)}\n${hosts}`;
  const base = ui.mode.kind === 'prompt' ? ui.mode.back : ui.mode;
  // The details view shows ages and reloads the ticket on each new state; help and the modals show no clock.
  if (base.kind === 'details') return `${head}\n${s.at}`;
  if (base.kind !== 'grid' && base.kind !== 'filter') return head;
  const rows = filtered(s.rows, ui.filter);
  const sel = effectiveSelection(rows, ui, height);
  const ages = rows.slice(sel.top, sel.top + height).map((r) => ageText(r, s.at));
  return `${head}\n${ages.join(' ')}`;
}

/** The last filter result, kept for the rows array and filter text it was made from (one walk per build). */
let lastFilter: { rows: readonly GridRow[]; text: string; out: GridRow[] } | null = null;
function filtered(rows: readonly GridRow[], text: string): GridRow[] {
  if (lastFilter === null || lastFilter.rows !== rows || lastFilter.text !== text)
    lastFilter = { rows, text, out: applyFilter(rows, text) };
  return lastFilter.out;
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

/** The grid rows after the filter, recomputed only when the built rows or the filter change (not the clock). */
export function useVisibleRows(state: ConsoleState | null): GridRow[] {
  const filter = useUi((s) => s.filter);
  const rows = state?.rows;
  return useMemo(() => (rows ? filtered(rows, filter) : []), [rows, filter]);
}
