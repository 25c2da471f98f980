// An idle console draws nothing: a state that only moves the clock over the same built rows renders a frame
// only when a text on screen moves with it. No tmux, no store: a fake source publishes the states.
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { ConsoleState } from '../../src/core/console-model.js';
import type { MissionControl } from '../../src/core/service.js';
import { App } from '../../src/ui/app.js';
import type { ConsoleSource } from '../../src/ui/context.js';
import { createUiStore } from '../../src/ui/ui-store.js';
import { plain, press, rowOf, waitForFrame } from './harness.js';
import { gridRow } from './rows.js';
import { fakeSource } from './fake-source.js';

const AT = 10_000_000;

/** 200 in_progress tickets whose agents started 90 s before AT (AGE `1m`), then 1,000 done ones. */
function built(): ConsoleState {
  const live = Array.from({ length: 200 }, (_, i) =>
    gridRow({
      key: `MC-${i + 1}`,
      state: 'in_progress',
      runtime: 'running',
      live: true,
      pid: 1000 + i,
      runtimeCreatedAt: AT - 90_000 - i * 1000,
      rank: 2,
    }),
  );
  const done = Array.from({ length: 1000 }, (_, i) => gridRow({ key: `MC-${i + 201}`, state: 'done', rank: 5 }));
  return {
    at: AT,
    rows: [...live, ...done],
    counts: { todo: 0, in_progress: 200, in_review: 0, done: 1000, blocked: 0 },
    driftCount: 0,
    liveRuntimes: 200,
    openRuntimes: 200,
    observation: { state: 'ok', reason: null, lastOkAt: AT },
    lease: null,
  };
}

/** The controller's clock-only publish: same rows, counts and findings, the clock moved on. */
function tick(s: ConsoleState, ms: number): ConsoleState {
  const at = s.at + ms;
  return { ...s, at, observation: { ...s.observation, lastOkAt: at } };
}

function mount(src: ConsoleSource) {
  const ink = render(
    <App
      service={{} as MissionControl}
      controller={src}
      readonly={false}
      dbPath="/tmp/x.db"
      socket="mcc"
      color={false}
      ui={createUiStore()}
      onAttach={() => undefined}
      onQuit={() => undefined}
    />,
  );
  return { ink, frame: () => plain(ink.lastFrame() ?? '') };
}

/** Let React and Ink finish whatever a publish scheduled. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

describe('an idle console', () => {
  it('draws no frame for a tick that changes nothing on screen, and one when an age on screen moves', async () => {
    const src = fakeSource(built());
    const { ink, frame } = mount(src);
    await waitForFrame(frame, (f) => / 1m /.test(rowOf(f, 'MC-1')), 'MC-1 with its age');
    await settle();
    const frames = ink.frames.length;
    // Ten ticks of a second: MC-1 to MC-10 are 90 s to 99 s old before and 100 s to 109 s after: still `1m`.
    let s = src.current()!;
    for (let i = 0; i < 10; i++) {
      s = tick(s, 1000);
      src.set(s);
      await settle();
    }
    expect(ink.frames.length).toBe(frames);
    // A tick across the minute: the visible ages turn `2m`, and that frame is drawn.
    src.set(tick(s, 30_000));
    await waitForFrame(frame, (f) => / 2m /.test(rowOf(f, 'MC-1')), 'MC-1 two minutes old');
    ink.unmount();
  });

  it('a key after a silent tick draws the ages of the latest state', async () => {
    const src = fakeSource(built());
    const { ink, frame } = mount(src);
    await waitForFrame(frame, (f) => / 1m /.test(rowOf(f, 'MC-1')), 'MC-1 with its age');
    await settle();
    const frames = ink.frames.length;
    // 10 s on: the rows on screen stay `1m`; MC-21, below the screen, turns 120 s old (`2m`). Nothing is drawn.
    src.set(tick(src.current()!, 10_000));
    await settle();
    expect(ink.frames.length).toBe(frames);
    expect(rowOf(frame(), 'MC-21')).toBe('');
    press(ink.stdin, 'nav.pageDown');
    press(ink.stdin, 'nav.pageDown');
    await waitForFrame(frame, (f) => rowOf(f, 'MC-21') !== '', 'MC-21 on screen');
    expect(rowOf(frame(), 'MC-21')).toMatch(/ 2m /);
    ink.unmount();
  });

  it('draws the new rows at once when the controller publishes a new build', async () => {
    const src = fakeSource(built());
    const { ink, frame } = mount(src);
    await waitForFrame(frame, (f) => rowOf(f, 'MC-1') !== '', 'the first row');
    const next = built();
    next.rows[0] = { ...next.rows[0]!, badge: 'DYING 9s', rank: 0 };
    src.set(next);
    await waitForFrame(frame, (f) => rowOf(f, 'MC-1').includes('DYING 9s'), 'the badge');
    ink.unmount();
  });
});
