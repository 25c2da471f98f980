// Layout and hostile text, on a real store and real tmux: 80x24, resize, sanitized titles, prompts, plan.
import { afterEach, describe, expect, it } from 'vitest';
import { fits, plain, rowOf, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

const HOSTILE = 'evil\x1b]52;c;cm0gLXJmIH4=\x07 clear\x1b[2J cr\rhere c1\u009b31m end\x1b]0;pwned\x07';
/** Terminal queries, 8-bit controls, bidi overrides and what invalid UTF-8 decodes to. */
const ATTACKS = [
  ' title report \x1b]0;rm -rf ~\x07\x1b[21t',
  ' da \x1b[c\x1b[>c decrqss \x1bP$qm\x1b\\',
  ' osc8 \u009d52;c;eA==\u009c nel \u0085',
  ' safe\rEVIL',
  ' bidi \u202eevil\u202c \u2066iso\u2069',
  ' bad utf8 \ufffd\ufffd',
].join('');
/** What a terminal acts on (Ink's SGR styling is removed first by `plain`): ESC, C0 but LF, DEL, C1, bidi. */
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const running = (row: string) => /in_progress\s+(running|idle)\s/.test(row);

describe('console layout (real store, real tmux)', () => {
  it('renders hostile titles, bodies and agent output harmlessly in the grid and the detail view', async () => {
    // The agent prints every attack into its pane (then waits); the detail view shows that pane's last lines
    // (as tmux drew them: the CR overwrote the start of the line, the terminal's answers to DA are echoed).
    const printer = ['/bin/sh', '-c', 'printf "%s\\n" "$0" "$0"; exec sleep 600', `${ATTACKS} the agent said`];
    h = await startConsole({ profile: { command: printer } });
    await h.ctx.store.createTicket({
      title: `${HOSTILE}${ATTACKS}`,
      body: `body ${HOSTILE}\n${ATTACKS}`,
      profile: 'demo',
      now: Date.now(),
      actor: 'test',
    });
    const grid = await h.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the hostile row');
    expect(rowOf(grid, 'MC-1')).toContain('evil');
    for (const frame of [grid, h.ink.lastFrame() ?? '']) expect(plain(frame)).not.toMatch(CONTROLS);
    h.press('ticket.pickup');
    await h.waitFor((f) => /in_progress/.test(rowOf(f, 'MC-1')), 'MC-1 picked up');
    h.press('view.details');
    const detail = await h.waitFor(
      (f) => f.includes('Body') && f.includes('body evil') && f.includes('the agent said'),
      'the hostile detail with the agent output',
      30_000,
    );
    // Every frame drawn so far (not only the last) is inert: no ESC but Ink's own SGR styling.
    for (const fr of h.ink.frames) expect(plain(fr)).not.toMatch(CONTROLS);
    expect(detail).toContain('cr^Mhere');
    expect(detail).toContain('safe^MEVIL');
    expect(detail).toContain('\ufffdevil'); // the bidi override, replaced
    expect(detail).not.toContain('rm -rf'); // the title a report would have echoed back, removed whole
  }, 60_000);

  it('a megabyte title and body: the grid and the detail view show a head, cut, and keep updating', async () => {
    h = await startConsole({ columns: 100, rows: 30 });
    const MiB = 1 << 20;
    const unit = `word ${HOSTILE} 日本 `;
    const huge = unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
    for (const title of ['first small', huge, 'after the big one'])
      await h.ctx.store.createTicket({ title, body: huge, profile: 'demo', now: Date.now(), actor: 'test' });
    const grid = await h.waitFor((f) => rowOf(f, 'MC-3') !== '', 'all three rows');
    expect(fits(grid, 100, 29)).toBe(true);
    expect(rowOf(grid, 'MC-2')).toContain('…');
    expect(plain(grid)).not.toMatch(CONTROLS);
    h.press('nav.down');
    h.press('view.details');
    const detail = await h.waitFor((f) => f.includes('Body') && f.includes('MC-2  word evil'), 'the detail of MC-2');
    expect(fits(detail, 100, 29)).toBe(true);
    // A head of the body is wrapped (64 KiB: hundreds of lines to scroll), not the megabyte (thousands).
    const total = Number(/\[1-\d+\/(\d+)\]/.exec(plain(detail))?.[1]);
    expect(total).toBeGreaterThan(300);
    expect(total).toBeLessThan(3000);
    // Still live: a change in the store reaches the view.
    h.sql("UPDATE tickets SET status = 'blocked', blocked_reason = 'stop', version = version + 1 WHERE key = 'MC-2'");
    await h.waitFor((f) => f.includes('blocked: stop'), 'the blocked reason after an update', 30_000);
    for (const fr of h.ink.frames) expect(fits(fr, 100, 29)).toBe(true);
  }, 120_000);

  it('fits 80x24: no line wider than 80, header+grid+footer within 24 rows, and re-lays out on resize', async () => {
    h = await startConsole({ columns: 80, rows: 24 });
    for (let i = 0; i < 40; i++) {
      const title =
        i % 3 === 0
          ? `${'a very long title that goes on and on '.repeat(4)}${i}`
          : i % 3 === 1
            ? `日本語のタイトル ${i}`.repeat(6)
            : HOSTILE;
      await h.ctx.store.createTicket({ title, body: '', profile: 'demo', now: Date.now(), actor: 'test' });
    }
    await h.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the first rows');
    h.press('ticket.pickup');
    await h.waitFor((f) => running(rowOf(f, 'MC-1')), 'MC-1 running');
    h.sql("UPDATE tickets SET status = 'todo', version = version + 1 WHERE key = 'MC-1'");
    await h.waitFor((f) => rowOf(f, 'MC-1').includes('HIDDEN-LIVE'), 'a drift badge on screen');

    // Every frame drawn since `since` (all of them, not only the last) must fit.
    let since = h.ink.frames.length - 1;
    const check = (columns: number, rows: number) => {
      const frames = h!.ink.frames.slice(since);
      expect(frames.length).toBeGreaterThan(0);
      for (const fr of frames) expect(fits(fr, columns, rows - 1), `frame at ${columns}x${rows}:\n${fr}`).toBe(true);
    };
    check(80, 24);
    h.press('nav.bottom');
    await h.waitFor((f) => rowOf(f, 'MC-40') !== '' && f.includes('40/40'), 'the last row, scrolled');
    check(80, 24);
    h.press('view.details');
    await h.waitFor((f) => f.includes('Body'), 'details');
    check(80, 24);
    // A lone Esc is only known to be Esc when nothing follows at once: wait for its effect before the next key.
    h.press('view.back');
    await h.waitFor((f) => rowOf(f, 'MC-40') !== '', 'back to the grid');
    h.press('view.help');
    await h.waitFor((f) => f.includes('Keys (generated'), 'help');
    check(80, 24);
    h.press('view.back');
    await h.waitFor((f) => rowOf(f, 'MC-40') !== '', 'back to the grid');

    h.resize(60, 16);
    await h.waitFor((f) => fits(f, 60, 15) && rowOf(f, 'MC-40') !== '', 'the grid re-laid out at 60x16');
    since = h.ink.frames.length - 1;
    h.press('nav.top');
    await h.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the top at 60x16');
    check(60, 16);
    h.resize(120, 40);
    await h.waitFor((f) => f.split('\n').some((l) => l.length > 100), 'the grid re-laid out at 120x40');
  }, 60_000);

  it('n creates a ticket from a typed title; s sends a message to the runtime', async () => {
    h = await startConsole();
    await h.waitFor((f) => f.includes('No tickets yet.'), 'the empty grid');
    h.press('ticket.new');
    h.type('typed title');
    await h.waitFor((f) => f.includes('new ticket title> typed title'), 'the title prompt');
    h.press('prompt.submit');
    await h.waitFor((f) => rowOf(f, 'MC-1').includes('typed title') && f.includes('new: created MC-1'), 'the new row');

    h.press('ticket.pickup');
    await h.waitFor((f) => running(rowOf(f, 'MC-1')), 'MC-1 running');
    h.press('message.send');
    h.type('hello agent');
    h.press('prompt.submit');
    await h.waitFor((f) => /send: (delivered to MC-1|queued for MC-1)/.test(f), 'the send result');
    const messages = (await h.ctx.store.ticketDetail('MC-1'))?.messages ?? [];
    expect(messages.some((m) => m.kind === 'operator' && m.body === 'hello agent')).toBe(true);

    h.press('message.send');
    h.type('never sent');
    h.press('prompt.cancel');
    await h.waitFor((f) => f.includes('send: cancelled; nothing sent'), 'the cancel note');
  }, 60_000);

  it('R shows the dry-run plan; y applies it and the drift is gone', async () => {
    h = await startConsole();
    await h.ctx.store.createTicket({ title: 'plan me', body: '', profile: 'demo', now: Date.now(), actor: 'test' });
    await h.waitFor((f) => rowOf(f, 'MC-1') !== '', 'the row');
    h.press('ticket.pickup');
    await h.waitFor((f) => running(rowOf(f, 'MC-1')), 'MC-1 running');
    h.sql("UPDATE tickets SET status = 'todo', version = version + 1 WHERE key = 'MC-1'");
    await h.waitFor((f) => rowOf(f, 'MC-1').includes('HIDDEN-LIVE'), 'the drift');

    h.press('reconcile.now');
    const plan = await h.waitFor((f) => f.includes('Reconcile plan (dry run)'), 'the plan');
    expect(plan).toContain('HIDDEN-LIVE MC-1');
    expect(plan).toContain('action: adopt mc-MC-1');
    expect(plan).toContain('y apply this plan now');
    h.press('confirm.yes');
    await h.waitFor(
      (f) => /reconcile: [1-9]\d* applied/.test(f) && running(rowOf(f, 'MC-1')) && !f.includes('HIDDEN-LIVE'),
      'the plan applied',
    );
  }, 60_000);
});
