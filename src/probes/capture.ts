import type { Result } from '../core/result.js';
import { sanitizeLine } from '../core/sanitize.js';
import type { TmuxPort } from '../core/tmux.port.js';

/** The last `n` lines of a pane, each made safe to display in one cell (controls and escapes neutralized). */
export async function captureTail(tmux: TmuxPort, paneId: string, n: number): Promise<Result<string[]>> {
  const raw = await tmux.capture(paneId, n);
  if (!raw.ok) return raw;
  return { ok: true, value: raw.value.map(sanitizeLine) };
}
