// The console's keys against a real SQLite store and real tmux on a private socket, with the demo agent.
import { DEMO_MAIN } from '../global-setup.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MissionControl } from '../../src/core/service.js';
import { rowOf, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

const running = (row: string) => /in_progress\s+(running|idle)\s/.test(row);

/** A console (the test's `h`) whose one ticket MC-1 was picked up by its key and runs. */
async function consoleWithMc1Running(title: string): Promise<ConsoleHarness> {
  // An agent that works for ten minutes: on a loaded machine the default 5 s of work ended before the second
  // key, the agent asked for review and the ticket was no longer in_progress.
  const c = await startConsole({
    profile: { command: [process.execPath, DEMO_MAIN, '--boot-ms', '200', '--work-ms', '600000'] },
  });
  h = c; // cleaned up after the test even when a wait below fails
  await c.ctx.store.createTicket({ title, body: '', profile: 'demo', now: Date.now(), actor: 'test' });
  await c.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the ticket row');
  c.press('ticket.pickup');
  await c.waitFor((f) => running(rowOf(f, 'MC-1')), 'MC-1 running');
  return c;
}

describe('console keys (real store, real tmux)', () => {
  it('an empty store says how to start; D loads demo tickets; p picks one up and its runtime appears', async () => {
    h = await startConsole();
    await h.waitFor((f) => f.includes('No tickets yet.') && f.includes('observed'), 'the empty-store help');
    expect(h.frame()).toMatch(/Press n to create a ticket/);
    expect(h.frame()).toMatch(/D to load 3 demo tickets/);

    h.press('demo.load');
    await h.waitFor((f) => rowOf(f, 'MC-3') !== '' && f.includes('demo: created MC-1, MC-2, MC-3'), 'three demo rows');

    h.press('ticket.pickup');
    const f = await h.waitFor((fr) => running(rowOf(fr, 'MC-1')), 'MC-1 running or idle');
    expect(rowOf(f, 'MC-1')).toMatch(/^> MC-1 /);
    await h.waitFor((fr) => fr.includes('pickup: MC-1 started in mc-MC-1'), 'the pickup result on the status line');
    await h.sock.tmux(['has-session', '-t', '=mc-MC-1']);

    h.press('view.details');
    await h.waitFor(
      // The pane tail can push the activity log below the fold: the view's head is what shows it opened.
      (fr) => fr.includes('Runtimes') && fr.includes('runtime ') && fr.includes('mc-MC-1'),
      'the detail view',
    );
    h.press('view.back');
    await h.waitFor((fr) => rowOf(fr, 'MC-2') !== '', 'back to the grid');
    // The agent says REVIEW: MC-1 sorts below the todo tickets, and the selection goes with it.
    const reviewed = await h.waitFor((fr) => / in_review /.test(rowOf(fr, 'MC-1')), 'MC-1 in review');
    expect(rowOf(reviewed, 'MC-1')).toMatch(/^> MC-1 /);
    expect(rowOf(reviewed, 'MC-2')).toMatch(/^ {2}MC-2 /);
  }, 60_000);

  it('HIDDEN-LIVE appears when the row is forced to todo behind a live runtime, and a disappears it', async () => {
    h = await startConsole();
    await h.ctx.store.createTicket({ title: 'drift me', body: '', profile: 'demo', now: Date.now(), actor: 'test' });
    await h.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the ticket row');
    h.press('ticket.pickup');
    await h.waitFor((f) => running(rowOf(f, 'MC-1')), 'MC-1 running');

    h.sql("UPDATE tickets SET status = 'todo', version = version + 1 WHERE key = 'MC-1'");
    const drifted = await h.waitFor((f) => rowOf(f, 'MC-1').includes('HIDDEN-LIVE'), 'the HIDDEN-LIVE badge');
    expect(rowOf(drifted, 'MC-1')).toMatch(/ todo /);
    expect(drifted).toMatch(/drift 1/);

    h.press('runtime.adopt');
    const fixed = await h.waitFor(
      (f) => !rowOf(f, 'MC-1').includes('HIDDEN-LIVE') && running(rowOf(f, 'MC-1')),
      'the badge gone after adopt',
    );
    expect(fixed).toMatch(/drift 0/);
    await h.waitFor((f) => f.includes('adopt: '), 'the adopt result');
  }, 60_000);

  it('retire asks first: n keeps the runtime, y kills it and the ticket goes back to todo', async () => {
    h = await consoleWithMc1Running('retire me');

    h.press('runtime.retire');
    await h.waitFor((f) => f.includes('Retire MC-1?') && f.includes('y retire'), 'the confirmation');
    h.press('confirm.no');
    await h.waitFor((f) => f.includes('cancelled; nothing changed') && running(rowOf(f, 'MC-1')), 'cancelled');
    await h.sock.tmux(['has-session', '-t', '=mc-MC-1']);

    h.press('runtime.retire');
    await h.waitFor((f) => f.includes('Retire MC-1?'), 'the confirmation again');
    h.press('confirm.yes');
    const done = await h.waitFor(
      (f) => f.includes('retire: retired mc-MC-1') && /MC-1 .* todo\s+none\s/.test(rowOf(f, 'MC-1')),
      'retired',
    );
    expect(done).toContain('MC-1 -> todo');
    await expect(h.sock.tmux(['has-session', '-t', '=mc-MC-1'])).rejects.toThrow();
  }, 60_000);

  it('a confirmed retire acts on the runtime the question named: a newer one started meanwhile lives on', async () => {
    h = await consoleWithMc1Running('moves on');
    const first = (await h.ctx.store.ticketDetail('MC-1'))!.runtimes[0]!.id;

    h.press('runtime.retire');
    await h.waitFor((f) => f.includes('Retire MC-1?'), 'the confirmation');
    // While the question is up, another operator retires that runtime and picks the ticket up again.
    const other = new MissionControl({ ...h.ctx.deps, actor: 'operator:bob' });
    expect((await other.retire('MC-1')).ok).toBe(true);
    const again = await other.pickup('MC-1');
    if (!again.ok) throw new Error(again.message);
    h.press('confirm.yes');
    await h.waitFor(
      (f) => f.includes(`runtime ${first} of MC-1 is no longer its open runtime`),
      'the retire refused, naming the runtime',
    );
    await h.sock.tmux(['has-session', '-t', '=mc-MC-1']);
    const open = (await h.ctx.store.ticketDetail('MC-1'))!.runtimes.filter((r) => r.status !== 'closed');
    expect(open.map((r) => r.id)).toEqual([again.value.runtime.id]);
  }, 60_000);
});
