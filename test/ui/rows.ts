// Grid rows for pure tests of the console (no store, no tmux).
import type { GridRow } from '../../src/core/console-model.js';
import type { Finding } from '../../src/core/findings.js';

/** A grid row with overridable fields. */
export function gridRow(p: Partial<GridRow> & { key: string }): GridRow {
  return {
    title: `title of ${p.key}`,
    state: 'todo',
    runtime: 'none',
    live: false,
    pid: null,
    runtimeCreatedAt: null,
    attempts: 0,
    pending: 0,
    humanInput: false,
    checks: null,
    badge: null,
    rank: 3,
    findings: [],
    ...p,
  };
}

/** A drift finding of a class for a ticket, with an adopt action when asked. */
export function driftFinding(key: string, drift: NonNullable<Finding['drift']>, adopt = false): Finding {
  return {
    ticketKey: key,
    runtimeId: 1,
    drift,
    severity: 'warning',
    summary: `${key} ${drift}`,
    evidence: ['pane %1 alive'],
    action: adopt
      ? {
          type: 'adopt',
          key,
          ticketVersion: 1,
          runtimeId: 1,
          runtimeVersion: 1,
          session: `mc-${key}`,
          paneId: '%1',
          identity: { pid: 42, start: 1, bootId: 'b' },
          status: 'running',
        }
      : { type: 'none' },
  };
}
