// A console source the test drives by hand: `set` publishes a state to every subscriber, as the controller does.
import type { ConsoleState } from '../../src/core/console-model.js';
import type { ConsoleSource } from '../../src/ui/context.js';

export function fakeSource(state: ConsoleState): ConsoleSource & { set(s: ConsoleState): void } {
  let current = state;
  const fns = new Set<(s: ConsoleState) => void>();
  return {
    subscribe: (fn) => {
      fns.add(fn);
      fn(current);
      return () => fns.delete(fn);
    },
    current: () => current,
    poke: () => undefined,
    set(s) {
      current = s;
      for (const fn of fns) fn(s);
    },
  };
}
