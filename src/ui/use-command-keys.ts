import { useInput, type Key } from 'ink';
import { useCallback, useRef } from 'react';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import { editText, runCommand, viewOf, type CommandEnv } from './actions.js';
import { useDeps, useUiStore } from './context.js';
import { commandOf, keysLabel, resolveKeys, type Resolved } from './keymap.js';
import type { ScreenLayout } from './layout.js';
import type { Mode } from './ui-store.js';

// The one keyboard handler: keys become keymap commands, or edits while a line editor is open. A single
// hook that is never swapped, so no key is lost while a prompt mounts. Input is never blocked: actions
// that talk to tmux or the store run asynchronously and report on the status line.

const editing = (m: Mode): m is Extract<Mode, { kind: 'prompt' | 'filter' }> =>
  m.kind === 'prompt' || m.kind === 'filter';

/** Route every key of the console to the keymap's commands or the open line editor. */
export function useCommandKeys(state: ConsoleState | null, rows: readonly GridRow[], layout: ScreenLayout): void {
  const deps = useDeps();
  const ui = useUiStore();
  const env = useRef<CommandEnv>({ deps, ui, state, rows, layout });
  env.current = { deps, ui, state, rows, layout };

  const onKey = useCallback(
    (input: string, key: Key) => {
      const mode = () => ui.getState().mode;
      const viewNow = () => viewOf(mode());
      const run = (r: Resolved) => {
        if ('id' in r) runCommand(r.id, env.current);
        else
          ui.getState().flash(
            `no command on ${r.unbound} here; ${keysLabel(commandOf('view.help'))} lists the keys`,
            'warn',
          );
      };
      const m = mode();
      if (editing(m)) return editText(env.current, input, key, m.kind);
      const chars = [...input];
      if (chars.length <= 1) {
        for (const r of resolveKeys(input, key, viewNow)) run(r);
        return;
      }
      // Several keys in one chunk (fast typing, a paste, SSH): once one opens a line editor, the rest is its text.
      for (let i = 0; i < chars.length; i++) {
        const now = mode();
        if (editing(now)) return editText(env.current, chars.slice(i).join(''), key, now.kind);
        for (const r of resolveKeys(chars[i] as string, key, viewNow)) run(r);
      }
    },
    [ui],
  );
  useInput(onKey);
}
