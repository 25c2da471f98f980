import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Finding } from '../core/findings.js';
import { EMPTY_DRAFT, type Draft } from './line-editor.js';

// UI state only: selection, scroll, filter, the mode (modal) and the one status line. Domain data never
// lives here; it arrives as ConsoleState snapshots from the controller. A fresh store per App (and per test).

export type Tone = 'info' | 'ok' | 'warn' | 'error';

export interface StatusLine {
  text: string;
  tone: Tone;
}

/** The screens a modal returns to. */
export type BaseMode = { kind: 'grid' } | { kind: 'details'; key: string };

export type Mode =
  | BaseMode
  | { kind: 'help'; back: BaseMode }
  /** Editing the filter; `before` is restored on Esc. */
  | { kind: 'filter'; before: string }
  | {
      kind: 'confirm';
      action: 'retire' | 'approve';
      key: string;
      question: string;
      back: BaseMode;
      /** The runtime the question named: the retire acts on it or not at all. */
      runtimeId?: number;
    }
  | { kind: 'prompt'; purpose: 'send' | 'new' | 'changes' | 'block'; key: string | null; back: BaseMode }
  | { kind: 'plan'; findings: Finding[]; back: BaseMode };

export interface UiState {
  selectedKey: string | null;
  /** Where the selection was, so a row that vanishes hands the selection to its neighbour. */
  selectedIndex: number;
  /** First grid row on screen. */
  top: number;
  /** Scroll of the view over the grid (details, help, plan). */
  scroll: number;
  /** Lines of the view over the grid, reported by that view so scrolling stops at its end. */
  viewLength: number;
  filter: string;
  mode: Mode;
  /** The line being edited while the mode is `filter` or `prompt`. */
  draft: Draft;
  status: StatusLine | null;
  /** Switch mode; `draft` starts the line editor's text. */
  setMode: (mode: Mode, draft?: Draft) => void;
  setDraft: (draft: Draft) => void;
  flash: (text: string, tone?: Tone) => void;
  setFilter: (text: string) => void;
  setSelection: (sel: Selection) => void;
  setScroll: (scroll: number) => void;
  setViewLength: (n: number) => void;
}

export type UiStore = StoreApi<UiState>;

/** A new UI store: grid mode, nothing selected, no filter. */
export function createUiStore(init: Partial<Pick<UiState, 'filter' | 'selectedKey'>> = {}): UiStore {
  return createStore<UiState>()((set) => ({
    selectedKey: init.selectedKey ?? null,
    selectedIndex: 0,
    top: 0,
    scroll: 0,
    viewLength: 0,
    filter: init.filter ?? '',
    mode: { kind: 'grid' },
    draft: EMPTY_DRAFT,
    status: null,
    setMode: (mode, draft = EMPTY_DRAFT) => set({ mode, scroll: 0, draft }),
    setDraft: (draft) => set({ draft }),
    flash: (text, tone = 'info') => set({ status: { text, tone } }),
    setFilter: (filter) => set({ filter, top: 0 }),
    setSelection: (sel) => set({ selectedKey: sel.key, selectedIndex: sel.index, top: sel.top }),
    setScroll: (scroll) => set({ scroll }),
    setViewLength: (viewLength) => set({ viewLength }),
  }));
}

/** The base screen under a mode (what Esc or a finished modal returns to). */
export function baseOf(mode: Mode): BaseMode {
  switch (mode.kind) {
    case 'grid':
    case 'details':
      return mode;
    case 'help':
    case 'confirm':
    case 'prompt':
    case 'plan':
      return mode.back;
    case 'filter':
      return { kind: 'grid' };
    default: {
      const never: never = mode;
      throw new Error(`unhandled mode ${String(never)}`);
    }
  }
}

export interface Selection {
  index: number;
  key: string | null;
  top: number;
}

export type NavCommand = 'nav.down' | 'nav.up' | 'nav.top' | 'nav.bottom' | 'nav.pageDown' | 'nav.pageUp';

/** The first visible row that keeps `index` on a screen of `height` rows. */
export function windowTop(index: number, top: number, height: number, len: number): number {
  const h = Math.max(1, height);
  let t = top;
  if (index < t) t = index;
  if (index >= t + h) t = index - h + 1;
  return Math.max(0, Math.min(t, Math.max(0, len - h)));
}

/** Where the selection is in `rows` now: the same ticket by key, else the row that took its place. */
export function effectiveSelection(
  rows: readonly { key: string }[],
  ui: Pick<UiState, 'selectedKey' | 'selectedIndex' | 'top'>,
  height: number,
): Selection {
  if (rows.length === 0) return { index: -1, key: null, top: 0 };
  let index = ui.selectedKey === null ? -1 : rows.findIndex((r) => r.key === ui.selectedKey);
  if (index < 0) index = Math.max(0, Math.min(ui.selectedIndex, rows.length - 1));
  return { index, key: (rows[index] as { key: string }).key, top: windowTop(index, ui.top, height, rows.length) };
}

function step(cmd: NavCommand, at: number, len: number, page: number): number {
  switch (cmd) {
    case 'nav.down':
      return Math.min(len - 1, at + 1);
    case 'nav.up':
      return Math.max(0, at - 1);
    case 'nav.top':
      return 0;
    case 'nav.bottom':
      return len - 1;
    case 'nav.pageDown':
      return Math.min(len - 1, at + page);
    case 'nav.pageUp':
      return Math.max(0, at - page);
    default: {
      const never: never = cmd;
      throw new Error(`unhandled nav ${String(never)}`);
    }
  }
}

/** Move the grid selection; keeps it on screen. */
export function navigate(rows: readonly { key: string }[], sel: Selection, cmd: NavCommand, height: number): Selection {
  if (rows.length === 0) return { index: -1, key: null, top: 0 };
  const index = step(cmd, Math.max(0, sel.index), rows.length, Math.max(1, height));
  return { index, key: (rows[index] as { key: string }).key, top: windowTop(index, sel.top, height, rows.length) };
}

/** Scroll a text view of `len` lines shown `height` at a time. */
export function scrollView(scroll: number, cmd: NavCommand, len: number, height: number): number {
  const max = Math.max(0, len - height);
  if (cmd === 'nav.bottom') return max;
  if (cmd === 'nav.top') return 0;
  return Math.max(0, Math.min(max, step(cmd, scroll, max + 1, Math.max(1, height - 1))));
}
