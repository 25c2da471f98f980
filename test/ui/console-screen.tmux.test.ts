// What the console shows: filter, help, disabled keys, read-only, unknown observation, hostile titles,
// 80x24. Real store and real tmux on a private socket; keys are pressed as keymap commands.
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS, keysLabel } from '../../src/ui/keymap.js';
import { brokenTmuxShim, rowOf, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

async function seed(c: ConsoleHarness, titles: string[]): Promise<void> {
  for (const title of titles)
    await c.ctx.store.createTicket({ title, body: '', profile: 'demo', now: Date.now(), actor: 'test' });
  await c.waitFor((f) => rowOf(f, `MC-${titles.length}`) !== '', `${titles.length} rows`);
}

describe('console screen (real store, real tmux)', () => {
  it('filters by free text live, by state: token, and Esc clears the filter', async () => {
    h = await startConsole();
    await seed(h, ['alpha task', 'beta task', 'gamma chore']);
    await h.ctx.service.move('MC-3', 'in_review');

    // Typed in the same instant as `/`: no key may be lost while the prompt opens.
    h.press('view.filter');
    h.type('beta');
    await h.waitFor(
      (f) => rowOf(f, 'MC-2') !== '' && rowOf(f, 'MC-1') === '' && rowOf(f, 'MC-3') === '',
      'only beta, live',
    );
    h.press('prompt.submit');
    await h.waitFor((f) => f.includes('filter: beta (Esc clears it)'), 'the filter kept');

    h.press('view.back');
    await h.waitFor(
      (f) => rowOf(f, 'MC-1') !== '' && rowOf(f, 'MC-3') !== '' && f.includes('filter cleared'),
      'all rows back',
    );

    h.type('/state:in_review');
    h.press('prompt.submit');
    const f = await h.waitFor(
      (fr) => rowOf(fr, 'MC-3') !== '' && rowOf(fr, 'MC-1') === '' && rowOf(fr, 'MC-2') === '',
      'only in_review',
    );
    expect(rowOf(f, 'MC-3')).toMatch(/in_review/);

    // `/` edits the current filter: Ctrl-U clears it first.
    h.press('view.filter');
    h.type('\x15');
    h.type('zzz');
    await h.waitFor((fr) => fr.includes('No ticket matches the filter "zzz"'), 'an empty result that says so');
    h.press('prompt.cancel');
    await h.waitFor((fr) => rowOf(fr, 'MC-3') !== '' && rowOf(fr, 'MC-1') === '', 'the previous filter restored');
  }, 60_000);

  it('help lists every command and its keys, generated from the keymap', async () => {
    h = await startConsole();
    await h.waitFor((f) => f.includes('observed'), 'the first observation');
    h.press('view.help');
    const first = await h.waitFor((f) => f.includes('Keys (generated from the keymap'), 'the help screen');
    // One screen is not enough at 24 rows: page through it.
    expect(COMMANDS.every((c) => first.includes(c.id))).toBe(false);
    let seen = first;
    for (let i = 0; i < 10 && !seen.includes('Quitting never stops agents'); i++) {
      const before = h.frame();
      h.press('nav.pageDown');
      seen += await h.waitFor((f) => f !== before, 'the next help page');
    }
    for (const c of COMMANDS) {
      expect(seen, c.id).toContain(c.id);
      expect(seen, c.id).toContain(keysLabel(c));
    }
    h.press('view.back');
    await h.waitFor((f) => f.includes('No tickets yet.'), 'back to the grid');
  }, 60_000);

  it('a key that cannot apply says why; read-only disables every mutating key', async () => {
    h = await startConsole();
    await seed(h, ['no runtime here']);
    h.press('runtime.adopt');
    await h.waitFor((f) => f.includes('adopt: no live runtime for MC-1'), 'the adopt reason');
    h.press('runtime.retire');
    await h.waitFor((f) => f.includes('retire: MC-1 has no open runtime'), 'the retire reason');
    h.type('x');
    await h.waitFor((f) => f.includes('no command on x here; ? lists the keys'), 'the unbound-key note');
    await h.cleanup();

    h = await startConsole({ readonly: true });
    await seed(h, ['watch only']);
    expect(h.frame()).toContain('READ-ONLY');
    for (const c of COMMANDS.filter((x) => x.mutates && x.views.includes('grid'))) {
      h.press(c.id);
      await h.waitFor(
        (f) => f.includes(`${c.hint}: read-only console (--readonly)`),
        `the read-only reason of ${c.id}`,
      );
    }
    expect(rowOf(h.frame(), 'MC-1')).toMatch(/todo\s+none/);
    expect(await h.ctx.store.listTickets()).toHaveLength(1);
  }, 60_000);

  it('says OBSERVATION UNKNOWN plainly when tmux cannot be observed, and shows ? for runtimes', async () => {
    h = await startConsole();
    await seed(h, ['picked up', 'idle ticket']);
    h.press('ticket.pickup');
    await h.waitFor((f) => /in_progress\s+(running|idle)/.test(rowOf(f, 'MC-1')), 'MC-1 running');
    await h.close();

    // The same store and socket, but every tmux call fails with an odd error.
    h = await startConsole({ reuse: h, brokenTmux: brokenTmuxShim(h.dir.path) });
    const f = await h.waitFor(
      (fr) => fr.includes('OBSERVATION UNKNOWN:') && fr.includes('odd error 4711'),
      'the unknown header',
    );
    expect(rowOf(f, 'MC-1')).toMatch(/in_progress\s+\?\s/);
    expect(rowOf(f, 'MC-2')).toMatch(/todo\s+none\s/);
    h.press('runtime.adopt');
    await h.waitFor(
      (fr) => fr.includes('adopt: cannot see the runtime of MC-1 (observation unknown)'),
      'the adopt reason',
    );
  }, 60_000);
});
