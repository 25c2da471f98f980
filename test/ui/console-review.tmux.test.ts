// The console's review-gate keys (approve, request changes, block) against a real SQLite store and real tmux on
// a private socket, with the demo agent: keys resolved through the keymap, frames waited for, never slept on.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { rowOf, startConsole, type ConsoleHarness, type HarnessOptions } from './harness.js';

let h: ConsoleHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

const inReview = (f: string, key: string) => / in_review /.test(rowOf(f, key));

async function eventsOf(c: ConsoleHarness, kind: string) {
  return (await c.ctx.store.listEvents({ ticketKey: 'MC-1', limit: 500 })).filter((e) => e.kind === kind);
}

/** A console with one ticket picked up, waited for until its agent said REVIEW: (and checks, if any, finished). */
async function reviewedTicket(title: string, opts: HarnessOptions = {}): Promise<ConsoleHarness> {
  const c = await startConsole(opts);
  h = c;
  await c.ctx.store.createTicket({ title, body: '', profile: 'demo', now: Date.now(), actor: 'test' });
  await c.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the ticket row');
  c.press('ticket.pickup');
  await c.waitFor((f) => inReview(f, 'MC-1'), 'MC-1 in review', 30_000);
  return c;
}

describe('console review keys (real store, real tmux)', () => {
  it('A approves a ticket in review with no failed checks: done', async () => {
    const c = await reviewedTicket('approve me');
    c.press('review.approve');
    const f = await c.waitFor(
      (fr) => / done /.test(rowOf(fr, 'MC-1')) && fr.includes('approve: MC-1 done'),
      'MC-1 done and the approve result',
    );
    expect(f).not.toContain('overridden');
    expect(f).not.toContain('Approve MC-1 although');
    expect(await eventsOf(c, 'review.approve')).toHaveLength(1);
    expect((await c.ctx.store.getTicket('MC-1'))?.status).toBe('done');
  }, 60_000);

  it('C + text + Enter: back to in_progress, the text reaches the live agent exactly once', async () => {
    const c = await reviewedTicket('change me', { promptLog: true });
    expect(c.prompts()).toHaveLength(1);
    c.press('review.changes');
    await c.waitFor((f) => f.includes('changes for MC-1>'), 'the changes prompt');
    c.type('please rename the flag');
    await c.waitFor((f) => f.includes('please rename the flag'), 'the typed text');
    c.press('prompt.submit');
    await c.waitFor(
      (f) =>
        / in_progress /.test(rowOf(f, 'MC-1')) &&
        /changes: (sent to|queued for) MC-1's agent; MC-1 in_progress/.test(f),
      'MC-1 in_progress and the changes result',
    );
    const prompts = await waitFor(
      'the agent to log the changes',
      () => c.prompts(),
      (p) => p.length >= 2,
      15_000,
    );
    // The agent goes back to review on its own; by then a second delivery would have been logged too.
    await c.waitFor((f) => inReview(f, 'MC-1'), 'MC-1 back in review', 30_000);
    const all = c.prompts();
    expect(all).toHaveLength(2);
    expect(all[0]?.text).toContain('change me');
    expect(all[1]?.text).toBe('please rename the flag');
    expect(prompts[1]?.prompt).toBe(2);
    const detail = await c.ctx.store.ticketDetail('MC-1');
    const operator = (detail?.messages ?? []).filter((m) => m.kind === 'operator');
    expect(operator.map((m) => m.status)).toEqual(['sent']);
  }, 90_000);

  it('B + reason + Enter: blocked, the reason in the details', async () => {
    const c = await reviewedTicket('block me');
    c.press('review.block');
    await c.waitFor((f) => f.includes('block reason for MC-1>'), 'the block prompt');
    c.type('waiting for the API team');
    c.press('prompt.submit');
    await c.waitFor(
      (f) => / blocked /.test(rowOf(f, 'MC-1')) && f.includes('block: MC-1 blocked'),
      'MC-1 blocked and the block result',
    );
    c.press('view.details');
    const details = await c.waitFor(
      (f) => f.includes('state blocked') && f.includes('blocked: waiting for the API team'),
      'the reason in the details',
    );
    expect(details).toContain('MC-1  block me');
  }, 60_000);

  it('A on a ticket whose checks failed asks first; n leaves it in review, y approves with the override', async () => {
    const c = await reviewedTicket('checks fail', {
      profile: { checks: [[process.execPath, '-e', 'process.exit(3)']] },
    });
    await waitFor(
      'the checks to fail',
      () => c.ctx.store.getTicket('MC-1'),
      (t) => t?.reviewChecks === 'failed',
      20_000,
    );
    // While checks are pending or running the row's runtime column says `checks`; once it does not, the
    // console's row carries the failed result (approve would otherwise ask about unfinished checks).
    await c.waitFor((f) => /in_review\s+(?!checks\s)\S/.test(rowOf(f, 'MC-1')), 'the checks finished on the row');
    c.press('review.approve');
    await c.waitFor((f) => f.includes('Approve MC-1 although its review checks FAILED?'), 'the override confirmation');
    c.press('confirm.no');
    const kept = await c.waitFor((f) => f.includes('cancelled; nothing changed'), 'cancelled');
    expect(rowOf(kept, 'MC-1')).toMatch(/ in_review /);
    expect((await c.ctx.store.getTicket('MC-1'))?.status).toBe('in_review');
    expect(await eventsOf(c, 'review.approve')).toEqual([]);

    c.press('review.approve');
    await c.waitFor((f) => f.includes('Approve MC-1 although'), 'the confirmation again');
    c.press('confirm.yes');
    await c.waitFor(
      (f) => / done /.test(rowOf(f, 'MC-1')) && f.includes('approve: MC-1 done (checks overridden, recorded)'),
      'approved with the override',
    );
    const [approved] = await eventsOf(c, 'review.approve');
    expect(approved?.summary).toContain('overrode');
  }, 60_000);
});
