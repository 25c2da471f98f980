import { ok, type Result } from '../core/result.js';
import type { MissionControl } from '../core/service.js';

// A few demo tickets so a fresh install shows something within a minute: they use the bundled demo agent
// (profile `demo`), which boots, takes the prompt, "works" and reports back like a real agent would.

export const DEMO_PROFILE = 'demo';

export const DEMO_TICKETS: ReadonlyArray<{ title: string; body: string }> = [
  {
    title: 'Demo: tidy the README keys table',
    body: 'A demo ticket. The demo agent pretends to work on it and reports back.',
  },
  {
    title: 'Demo: add a --json flag to status',
    body: 'A demo ticket. Try s to send the agent a message while it runs.',
  },
  {
    title: 'Demo: investigate a flaky test',
    body: 'A demo ticket. Try t to attach to its tmux session (detach with C-b d).',
  },
];

/** Create the demo tickets through the service; their keys, or why not (then none was created). */
export async function loadDemoTickets(service: MissionControl): Promise<Result<string[]>> {
  const keys: string[] = [];
  for (const t of DEMO_TICKETS) {
    const created = await service.createTicket({ ...t, profile: DEMO_PROFILE });
    // Every demo ticket names the same profile: only the first can be refused, before anything was written.
    if (!created.ok) return created;
    keys.push(created.value.key);
  }
  return ok(keys);
}
