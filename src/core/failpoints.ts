// Named failpoints between the steps of pickup and delivery, so tests can crash the real binary at each
// step (etcd's gofail, tikv's fail-rs). Compiled in and inert unless MCC_FAILPOINTS names them.

export const FAILPOINTS = [
  /** Ticket claimed and its `spawning` runtime row written (one transaction, so also `after_runtime_row`). */
  'pickup.after_claim',
  'pickup.after_runtime_row',
  /** The ticket's worktree or pool slot exists on its branch; no tmux session yet. */
  'pickup.after_worktree',
  /** tmux session created, agent pid not yet recorded. */
  'pickup.after_new_session',
  /** Agent pid, start time and boot id recorded; prompt not yet delivered. */
  'pickup.after_record_pid',
  /** Message text loaded into its tmux buffer and the message marked `delivering`; nothing typed yet. */
  'deliver.before_paste',
  /** Text pasted into the pane; submit keys not yet sent. */
  'deliver.after_paste',
  /** Submit keys sent; the message not yet recorded as `sent`. */
  'deliver.after_submit',
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];
export type FailpointMode = 'crash' | 'exit' | 'throw';

export interface Failpoints {
  /** Called at each named step; does nothing unless that failpoint is armed. */
  hit(name: FailpointName): void;
}

export const noFailpoints: Failpoints = { hit: () => undefined };

/** Parse `pickup.after_claim=crash,deliver.after_paste=exit`; unknown names or modes are an error. */
export function parseFailpoints(spec: string): Map<FailpointName, FailpointMode> {
  const out = new Map<FailpointName, FailpointMode>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, mode = 'crash', extra] = part.split('=');
    if (extra !== undefined) throw new Error(`MCC_FAILPOINTS: "${part}": expected name or name=mode`);
    if (!(FAILPOINTS as readonly string[]).includes(name ?? '')) {
      throw new Error(`MCC_FAILPOINTS: unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`);
    }
    if (mode !== 'crash' && mode !== 'exit' && mode !== 'throw') {
      throw new Error(`MCC_FAILPOINTS: ${name}: unknown mode "${mode}" (crash, exit or throw)`);
    }
    out.set(name as FailpointName, mode);
  }
  return out;
}
