import { describe, expect, it } from 'vitest';
import { createUiStore, effectiveSelection, navigate, scrollView, windowTop } from '../../src/ui/ui-store.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `MC-${i + 1}` }));

describe('selection', () => {
  it('follows the ticket key when rows are re-sorted, not the index', () => {
    const ui = { selectedKey: 'MC-3', selectedIndex: 2, top: 0 };
    const resorted = [{ key: 'MC-3' }, { key: 'MC-1' }, { key: 'MC-2' }];
    expect(effectiveSelection(resorted, ui, 10)).toEqual({ index: 0, key: 'MC-3', top: 0 });
  });

  it('hands the selection to the row that took the place of a vanished one', () => {
    const ui = { selectedKey: 'MC-9', selectedIndex: 5, top: 0 };
    expect(effectiveSelection(rows(3), ui, 10)).toEqual({ index: 2, key: 'MC-3', top: 0 });
    expect(effectiveSelection([], ui, 10)).toEqual({ index: -1, key: null, top: 0 });
  });

  it('navigates and keeps the selection on screen over 10,000 rows', () => {
    const all = rows(10_000);
    let sel = effectiveSelection(all, { selectedKey: null, selectedIndex: 0, top: 0 }, 16);
    sel = navigate(all, sel, 'nav.bottom', 16);
    expect(sel).toEqual({ index: 9999, key: 'MC-10000', top: 9984 });
    sel = navigate(all, sel, 'nav.pageUp', 16);
    expect(sel).toMatchObject({ index: 9983, top: 9983 });
    sel = navigate(all, sel, 'nav.top', 16);
    expect(sel).toEqual({ index: 0, key: 'MC-1', top: 0 });
    sel = navigate(all, sel, 'nav.up', 16);
    expect(sel.index).toBe(0);
    for (let i = 0; i < 20; i++) sel = navigate(all, sel, 'nav.down', 16);
    expect(sel).toMatchObject({ index: 20, top: 5 });
  });

  it('clamps the window to the rows there are', () => {
    expect(windowTop(3, 50, 16, 5)).toBe(0);
    expect(windowTop(40, 0, 16, 41)).toBe(25);
  });

  it('scrolls a text view within its length', () => {
    expect(scrollView(0, 'nav.down', 100, 10)).toBe(1);
    expect(scrollView(0, 'nav.bottom', 100, 10)).toBe(90);
    expect(scrollView(85, 'nav.pageDown', 100, 10)).toBe(90);
    expect(scrollView(0, 'nav.up', 100, 10)).toBe(0);
    expect(scrollView(0, 'nav.down', 5, 10)).toBe(0);
  });
});

describe('createUiStore', () => {
  it('is fresh per call and resets the view scroll on a mode change', () => {
    const a = createUiStore();
    const b = createUiStore();
    a.getState().setScroll(7);
    a.getState().flash('hello', 'warn');
    expect(b.getState().status).toBeNull();
    a.getState().setMode({ kind: 'help', back: { kind: 'grid' } });
    expect(a.getState()).toMatchObject({ scroll: 0, status: { text: 'hello', tone: 'warn' } });
  });
});
