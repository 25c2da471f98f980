// Soak seed 11 on real tmux, without a cgroup freezer: an agent that stops reading while its ready prompt
// shows (frozen, hung) looks ready: a still screen, no echo. The first text typed into it cannot be helped;
// the second must wait until the agent took the first, or the agent, thawed, takes the first, starts working
// and drops the second, which mcc already recorded as sent.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { inertForPaste } from '../../src/core/sanitize.js';
import { promptOf } from '../../src/core/service.js';
import { jsonLines, reconcileUntil, ROOT, useHarness, waitFor } from './helpers.js';

const DEAF_AGENT = join(ROOT, 'test/runtime/fixtures/deaf-agent.mjs');

describe('text typed into a frozen agent that looked ready', { timeout: 120_000 }, () => {
  it('the next message waits until the agent took the last one; nothing reaches it while it works', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        customProfiles: (dir) => ({
          deaf: {
            command: [process.execPath, DEAF_AGENT, join(dir, 'deaf.jsonl'), '1500'],
            ready: '^deaf> ?$',
            busy: 'esc to interrupt',
            promptLines: 1,
            readyTimeoutSeconds: 3,
          },
        }),
      },
      { onTestFinished },
    );
    const out = join(h.dir, 'deaf.jsonl');
    const key = await h.add('a deaf agent', ['--profile', 'deaf', '--body', 'Fix the flaky test.']);
    const status = (kind: 'prompt' | 'operator') => h.messages(key).find((m) => m.kind === kind)?.status;
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the prompt to be typed in', () => status('prompt') === 'sent');
    expect(await h.capture(`mc-${key}`)).toMatch(/deaf> $/m);

    await h.must(['send', key, 'A second note.']);
    // Passes over the still screen it was typed onto: the agent has not taken the prompt, so the note waits.
    for (let i = 0; i < 3; i++) await h.must(['reconcile']);
    expect(status('operator')).toBe('pending');
    // Past readyTimeoutSeconds the operator is told why, once; still nothing typed.
    await reconcileUntil(h, 'a NOT-READY warning', () => h.events(key).some((e) => e.kind === 'message.not_ready'));
    const warning = h.events(key).filter((e) => e.kind === 'message.not_ready');
    expect(warning).toHaveLength(1);
    expect(warning[0]!.summary).toMatch(/has not taken the text submitted before it/);
    expect(status('operator')).toBe('pending');

    // It reads again: it takes the prompt, works, and only then gets the note.
    writeFileSync(`${out}.thaw`, '');
    await reconcileUntil(h, 'the note to be sent', () => status('operator') === 'sent', 60_000);
    await waitFor(
      'the agent to take the note',
      () => jsonLines<{ text: string }>(out),
      (l) => l.length >= 2,
      20_000,
    );
    const t = h.ticket(key);
    expect(jsonLines<{ text: string }>(out).map((l) => l.text)).toEqual([
      inertForPaste(promptOf({ key: t.key, title: t.title, body: t.body })),
      'A second note.',
    ]);
    expect(existsSync(`${out}.intrusions`)).toBe(false);
  });
});
