// `npm run test:agents`: a real pickup through the compiled `mcc` against the real agent binaries, offline,
// with an isolated HOME. Codex shows a sign-in menu: nothing may be typed into it, the ticket never goes back
// to todo while the runtime lives, and a prompt that cannot be delivered raises one NOT-READY warning.
// Claude Code with a bare HOME prints a connection error and exits: the exit is recorded with its screen as
// evidence, and the ticket is requeued only once the runtime is closed.
import { describe, expect, onTestFinished, test } from 'vitest';
import { makeHarness, waitFor } from '../runtime/helpers.js';
import { ensureAgent, isolatedHome } from './harness.js';

const selected = (name: string) => {
  const only = process.env['MCC_AGENTS'];
  return !only || only.split(',').includes(name);
};

/** Passes of `mcc reconcile`, checking after each that a live runtime never hides behind a todo ticket. */
async function passes(h: ReturnType<typeof makeHarness>, key: string, n: number, until?: () => boolean) {
  for (let i = 0; i < n; i++) {
    await h.mcc(['reconcile']);
    const t = h.ticket(key);
    const pane = await h.pane(`mc-${key}`);
    if (pane && !pane.dead) expect(t.status, `pass ${i}: live runtime behind ${t.status}`).not.toBe('todo');
    if (until?.()) return;
  }
}

describe.runIf(selected('codex'))('codex (offline: sign-in menu)', () => {
  test('a real pickup types nothing into the menu and raises one NOT-READY warning', async () => {
    const bin = await ensureAgent('codex');
    const home = isolatedHome('codex-pickup');
    const h = makeHarness({
      ttlSeconds: 5,
      customProfiles: {
        codex: {
          command: [bin],
          cwd: home.proj,
          env: { HOME: home.home, TMPDIR: `${home.home}/tmp` },
          readyTimeoutSeconds: 8,
        },
      },
    });
    onTestFinished(async () => {
      await h.cleanup();
      home.cleanup();
    });
    const key = await h.add('fix the login test', ['--profile', 'codex']);
    await h.must(['pickup', key]);
    const menu = await waitFor(
      'the sign-in menu',
      () => h.capture(`mc-${key}`),
      (s) => /Sign in with ChatGPT/.test(s),
      90_000,
      250,
    );
    await passes(h, key, 30, () => h.events(key).some((e) => e.kind === 'message.not_ready'));
    await passes(h, key, 2);

    expect(h.ticket(key)).toMatchObject({ status: 'in_progress', human_input_required: 1 });
    expect(h.openRuntimes(key)[0]).toMatchObject({ status: 'waiting' });
    expect(h.messages(key).map((m) => m.status)).toEqual(['pending']);
    expect(h.events(key).filter((e) => e.kind === 'runtime.blocked_screen')).toHaveLength(1);
    expect(h.events(key).filter((e) => e.kind === 'message.not_ready')).toHaveLength(1);
    // Nothing was typed: the menu is exactly as it was (no draft, no selection moved by an Enter). The logo
    // above it animates, so only the menu from its first line down is compared.
    const menuOf = (screen: string) => screen.slice(screen.indexOf('Sign in with ChatGPT')).replace(/\s+$/gm, '');
    const after = await h.capture(`mc-${key}`);
    expect(menuOf(after)).toBe(menuOf(menu));
  });
});

describe.runIf(selected('claude'))('claude (offline: connection error, then exit)', () => {
  test('the exit is recorded with the screen as evidence; todo only once the runtime is closed', async () => {
    const bin = await ensureAgent('claude');
    const home = isolatedHome('claude-pickup');
    const h = makeHarness({
      ttlSeconds: 3,
      customProfiles: {
        claude: { command: [bin], cwd: home.proj, env: { HOME: home.home, TMPDIR: `${home.home}/tmp` } },
      },
    });
    onTestFinished(async () => {
      await h.cleanup();
      home.cleanup();
    });
    const key = await h.add('fix the login test', ['--profile', 'claude']);
    await h.must(['pickup', key]);
    await passes(h, key, 60, () => h.ticket(key).status !== 'in_progress');

    const t = h.ticket(key);
    expect(t).toMatchObject({ status: 'todo', attempts: 1 });
    const [r] = h.runtimes(key);
    expect(r).toMatchObject({ status: 'closed', exit_status: 1 });
    const close = h.events(key).find((e) => e.kind === 'runtime.close');
    expect(close?.root_cause).toContain('exit status 1');
    expect(close?.artifacts).toMatch(/Unable to connect to Anthropic services/);
    // Nothing was typed into a screen that never showed a prompt.
    expect(h.messages(key).map((m) => m.status)).toEqual(['pending']);
  });
});
