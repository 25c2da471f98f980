// Windowed rendering without tmux: a fixed ConsoleState of 10,000 rows from a fake source.
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { ConsoleState } from '../../src/core/console-model.js';
import type { MissionControl } from '../../src/core/service.js';
import { App } from '../../src/ui/app.js';
import type { ConsoleSource } from '../../src/ui/context.js';
import { editDraft, draftOf, EMPTY_DRAFT } from '../../src/ui/line-editor.js';
import { createUiStore } from '../../src/ui/ui-store.js';
import { plain, press, rowOf, waitForFrame } from './harness.js';
import { gridRow } from './rows.js';
import { fakeSource } from './fake-source.js';

function stateOf(n: number): ConsoleState {
  const rows = Array.from({ length: n }, (_, i) => gridRow({ key: `MC-${i + 1}`, title: `ticket number ${i + 1}` }));
  return {
    at: 1_000_000,
    rows,
    counts: { todo: n, in_progress: 0, in_review: 0, done: 0, blocked: 0 },
    driftCount: 0,
    liveRuntimes: 0,
    openRuntimes: 0,
    observation: { state: 'ok', reason: null, lastOkAt: 999_000 },
    lease: null,
  };
}

function mount(src: ConsoleSource) {
  const ui = createUiStore();
  const ink = render(
    <App
      service={{} as MissionControl}
      controller={src}
      readonly={false}
      dbPath="/tmp/x.db"
      socket="mcc"
      color={false}
      ui={ui}
      onAttach={() => undefined}
      onQuit={() => undefined}
    />,
  );
  return { ink, ui, frame: () => plain(ink.lastFrame() ?? '') };
}

describe('windowed grid', () => {
  it('renders only the visible rows of 10,000 and scrolls to the end', async () => {
    const { ink, frame } = mount(fakeSource(stateOf(10_000)));
    await waitForFrame(frame, (f) => rowOf(f, 'MC-1') !== '', 'the first row');
    const visible = frame()
      .split('\n')
      .filter((l) => /^[ >] MC-\d+ /.test(l));
    expect(visible.length).toBeGreaterThan(5);
    expect(visible.length).toBeLessThanOrEqual(16);
    press(ink.stdin, 'nav.bottom');
    const f = await waitForFrame(frame, (fr) => rowOf(fr, 'MC-10000').startsWith('>'), 'the last row selected');
    expect(f).toContain('10000/10000');
    press(ink.stdin, 'nav.pageUp');
    await waitForFrame(frame, (fr) => /^> MC-99\d\d /m.test(fr), 'a page up');
    ink.unmount();
  });

  it('keeps the selection on the same ticket when a refresh re-sorts the rows', async () => {
    const src = fakeSource(stateOf(50));
    const { ink, frame, ui } = mount(src);
    await waitForFrame(frame, (f) => rowOf(f, 'MC-1') !== '', 'the first row');
    ink.stdin.write('jjj');
    await waitForFrame(frame, (f) => rowOf(f, 'MC-4').startsWith('>'), 'MC-4 selected after three downs in one chunk');
    const s = stateOf(50);
    s.rows.reverse();
    src.set({ ...s, at: s.at + 1 });
    await waitForFrame(
      frame,
      (f) => rowOf(f, 'MC-4').startsWith('>') && rowOf(f, 'MC-1') === '',
      'MC-4 still selected after the re-sort',
    );
    expect(ui.getState().selectedKey).toBe('MC-4');
    ink.unmount();
  });
});

describe('line editor', () => {
  const k = (p: Record<string, boolean> = {}) => ({
    leftArrow: false,
    rightArrow: false,
    home: false,
    end: false,
    backspace: false,
    delete: false,
    ctrl: false,
    meta: false,
    upArrow: false,
    downArrow: false,
    pageUp: false,
    pageDown: false,
    tab: false,
    escape: false,
    return: false,
    shift: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
    ...p,
  });

  it('inserts at the cursor, deletes before it, moves, and clears with Ctrl-U', () => {
    let d = draftOf('hllo');
    d = editDraft(d, '', k({ home: true }));
    d = editDraft(d, '', k({ rightArrow: true }));
    d = editDraft(d, 'e', k());
    expect(d).toEqual({ text: 'hello', cursor: 2 });
    d = editDraft(d, '', k({ end: true }));
    d = editDraft(d, '', k({ backspace: true }));
    expect(d).toEqual({ text: 'hell', cursor: 4 });
    expect(editDraft(d, 'u', k({ ctrl: true }))).toEqual(EMPTY_DRAFT);
  });

  it('keeps pasted text inert and on one line', () => {
    const d = editDraft(EMPTY_DRAFT, 'a\x1b[31mb\r\nc\u009bd', k());
    expect(d.text).toBe('a[31mb cd');
  });
});
