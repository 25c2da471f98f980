import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/findings.js';
import { findMarker, readScreen, type ScreenRules } from '../../src/core/screen.js';
import type { Message, RuntimeSession, Ticket } from '../../src/core/types.js';
import {
  type CONFIG,
  DEMO,
  NOW,
  SCREEN,
  actionTypes,
  message,
  obs,
  pane,
  runtime,
  snapshot,
  testConfig,
  ticket,
} from './builders.js';

// The readiness contract (README "Readiness") as a pure function, and what routine work does with it:
// nothing typed into a screen that is not ready, and never a silent forever.

const BOX: ScreenRules = {
  ready: /^│ > *│$/,
  busy: /esc to interrupt/,
  question: /^QUESTION:/,
  blocked: /Sign in with|Do you trust the files|Press Enter to continue/,
  promptLines: 4,
  tailLines: 15,
  quietMs: 1500,
};

const box = (input = '') => [
  '╭──────────────────────╮',
  `│ > ${input.padEnd(18)}│`,
  '╰──────────────────────╯',
  '  ? for shortcuts',
];

describe('readScreen: the readiness contract', () => {
  it('an input box with a border and a footer under it is found on the last promptLines lines', () => {
    const r = readScreen(['● Done.', ...box()], BOX, 5000);
    expect(r.status).toBe('idle');
    expect(r.matches).toEqual([{ pattern: 'ready', line: '│ >                   │', fromBottom: 3 }]);
  });

  it('the ready line must be within promptLines of the bottom', () => {
    const many = [...box(), 'a', 'b', 'c', 'd'];
    expect(readScreen(many, BOX, 5000).status).toBeNull();
    expect(readScreen(many, { ...BOX, promptLines: 7 }, 5000).status).toBe('idle');
  });

  it('a typed draft in the box is not ready (the ready pattern matches an empty input only)', () => {
    expect(readScreen(['x', ...box('half a sentence')], BOX, 5000).status).toBeNull();
  });

  it('a spinner above the box counts while the screen changes, not once it has been still for quietMs', () => {
    const screen = ['✶ Working… (3s · esc to interrupt)', ...box()];
    expect(readScreen(screen, BOX, 200).status).toBe('running');
    expect(readScreen(screen, BOX, null).status).toBe('running');
    const still = readScreen(screen, BOX, 1500);
    expect(still.status).toBe('idle');
    expect(still.matches[0]).toMatchObject({ pattern: 'busy', stale: true });
    expect(still.why).toContain('stale');
  });

  it('a busy line below the prompt is current whatever the screen did', () => {
    expect(readScreen(['│ > │', '  esc to interrupt'], { ...BOX, ready: /^│ > │$/ }, 60_000).status).toBe('running');
  });

  it('a stale busy line left in scrollback above the demo prompt (the new user’s hang) no longer blocks', () => {
    const screen = ['demo-agent pid 7', '⠋ booting… (esc to interrupt)', 'demo> '];
    expect(readScreen(screen, DEMO, 0).status).toBe('running');
    expect(readScreen(screen, DEMO, DEMO.quietMs).status).toBe('idle');
  });

  it('blocked wins over everything, anywhere in the tail', () => {
    for (const line of ['Sign in with ChatGPT', 'Do you trust the files in this folder?', 'Press Enter to continue']) {
      const r = readScreen([line, '✶ Working… (esc to interrupt)', ...box()], BOX, 0);
      expect(r.status).toBe('blocked');
      expect(r.matches[0]?.pattern).toBe('blocked');
    }
    // Above the tail window: no longer on screen as far as the contract goes.
    const old = ['Sign in with ChatGPT', ...Array.from({ length: 15 }, (_, i) => `line ${i}`), ...box()];
    expect(readScreen(old, BOX, 5000).status).toBe('idle');
  });

  it('a question just above the prompt makes it waiting; an answered one above a busy line does not', () => {
    expect(readScreen(['QUESTION: a or b?', ...box()], BOX, 5000).status).toBe('waiting');
    const answered = ['QUESTION: a or b?', '✻ Worked (esc to interrupt)', ...box()];
    expect(readScreen(answered, BOX, 5000).status).toBe('idle');
  });

  it('says why: the matched lines and the quiet time are in the reading', () => {
    const r = readScreen(['✶ Working… (esc to interrupt)', ...box()], BOX, 300);
    expect(r.why).toContain('300 ms');
    expect(r.quietForMs).toBe(300);
    expect(r.matches.map((m) => m.pattern)).toEqual(['busy', 'ready']);
  });
});

interface Healthy {
  screen?: readonly string[] | null;
  quietMs?: number | null;
  messages?: Message[];
  t?: Partial<Ticket>;
  r?: Partial<RuntimeSession>;
  at?: number;
  profiles?: typeof CONFIG.profiles;
}

function healthy(h: Healthy = {}): Finding[] {
  const at = h.at ?? NOW;
  return diagnose(
    snapshot({
      at,
      tickets: [ticket(h.t)],
      runtimes: [runtime(h.r)],
      messages: h.messages ?? [],
      panes: [pane()],
      processes: [[100, obs.alive()]],
      captures: h.screen ? [['%1', h.screen]] : [],
      ...(h.quietMs === null || h.quietMs === undefined ? {} : { screenChangedAt: [['%1', at - h.quietMs]] }),
      ...(h.profiles ? { profiles: h.profiles } : {}),
    }),
  );
}

const STALE_BOOT = ['demo-agent pid 100', '⠋ booting… (esc to interrupt)', 'demo> '];

describe('routine: the gate in front of every message', () => {
  it('a stale boot line above the prompt: delivered once the screen has been still for quietMs', () => {
    const fresh = message({ createdAt: NOW - 1000 });
    expect(actionTypes(healthy({ screen: STALE_BOOT, quietMs: 100, messages: [fresh] }))).not.toContain('deliver');
    expect(actionTypes(healthy({ screen: STALE_BOOT, quietMs: null, messages: [fresh] }))).not.toContain('deliver');
    const ready = healthy({ screen: STALE_BOOT, quietMs: 2000, messages: [fresh] });
    expect(actionTypes(ready)).toContain('deliver');
    expect(ready.find((f) => f.action.type === 'deliver')?.evidence.join(' ')).toContain('stale');
  });

  it('a blocked screen: runtime waiting and the ticket asks a human, once; nothing is delivered', () => {
    const signin = ['codex', 'Sign in with ChatGPT', '> 1. Sign in', '  2. Provide your own API key'];
    const profiles = testConfig({ profiles: { demo: { blocked: '^Sign in with' } } }).profiles;
    const first = healthy({ screen: signin, messages: [message({ createdAt: NOW - 1000 })], profiles });
    expect(actionTypes(first)).toEqual(['screen_blocked']);
    const again = healthy({
      screen: signin,
      messages: [message({ createdAt: NOW - 1000 })],
      profiles,
      r: { status: 'waiting' },
      t: { humanInputRequired: true },
    });
    expect(actionTypes(again)).toEqual(['wait']);
  });

  it('NOT-READY: a message pending past readyTimeoutSeconds raises one warning finding, nothing typed', () => {
    const old = message({ createdAt: NOW - DEMO.readyTimeoutMs - 1 });
    const fs = healthy({
      screen: SCREEN.working,
      quietMs: 0,
      messages: [old],
      r: { createdAt: NOW - DEMO.readyTimeoutMs - 5 },
    });
    const nr = fs.find((f) => f.drift === 'NOT-READY');
    expect(nr?.action).toMatchObject({
      type: 'warn',
      kind: 'message.not_ready',
      once: 'not_ready:message:21',
      humanInputRequired: true,
    });
    expect(nr?.evidence.join('\n')).toMatch(/busy matched line -\d+/);
    expect(actionTypes(fs)).not.toContain('deliver');
    // Timed from the runtime's start when it is younger than the message (a respawn does not warn at once).
    const young = healthy({ screen: SCREEN.working, quietMs: 0, messages: [old], r: { createdAt: NOW - 1000 } });
    expect(young.some((f) => f.drift === 'NOT-READY')).toBe(false);
    // Delivered: the finding is gone.
    const delivered = healthy({
      screen: SCREEN.idle,
      quietMs: 5000,
      messages: [old],
      r: { createdAt: NOW - DEMO.readyTimeoutMs - 5 },
    });
    expect(delivered.some((f) => f.drift === 'NOT-READY')).toBe(false);
    expect(actionTypes(delivered)).toContain('deliver');
  });

  it('a profile gone from the config: one NEEDS-OPERATOR finding, the default profile is never used, nothing typed', () => {
    const fs = healthy({ screen: SCREEN.idle, quietMs: 5000, messages: [message()], t: { profile: 'gone' } });
    expect(fs.map((f) => [f.drift, f.action.type])).toEqual([['NEEDS-OPERATOR', 'none']]);
    expect(fs[0]?.summary).toContain('profile "gone"');
  });

  it('an agent working again after waiting for a human clears human_input_required with its status', () => {
    // The pane printed (window activity NOW - 1000) after the wait was recorded.
    const fs = healthy({
      screen: SCREEN.working,
      quietMs: 0,
      r: { status: 'waiting', lastSeenAt: NOW - 5000 },
      t: { humanInputRequired: true },
    });
    expect(fs[0]?.action).toMatchObject({ type: 'observe', status: 'running', clearHumanInput: { key: 'MC-1' } });
    // The question's own fresh screen (its finished busy line above the prompt, not yet still): nothing printed
    // since the wait was recorded, so nobody answered: the row stays waiting and human input stays asked.
    const fresh = ['QUESTION: a or b?', '✻ Worked on prompt 1 for 0.5s (esc to interrupt)', 'demo> '];
    const asked = healthy({
      screen: fresh,
      quietMs: 300,
      r: { status: 'waiting', lastSeenAt: NOW - 500, lastMarker: findMarker(fresh, [], null)?.fingerprint ?? null },
      t: { humanInputRequired: true },
    });
    expect(asked).toEqual([]);
    // Back at an idle prompt after an unanswered QUESTION: still asking. After a dialog (no question): answered.
    const question = { status: 'waiting' as const, lastSeenAt: NOW - 5000, lastMarker: 'QUESTION: de#1234' };
    const idle = healthy({ screen: SCREEN.idle, quietMs: 5000, r: question, t: { humanInputRequired: true } });
    expect(idle[0]?.action).toMatchObject({ type: 'observe', status: 'idle', clearHumanInput: null });
    const signedIn = healthy({
      screen: SCREEN.idle,
      quietMs: 5000,
      r: { status: 'waiting', lastSeenAt: NOW - 5000 },
      t: { humanInputRequired: true },
    });
    expect(signedIn[0]?.action).toMatchObject({ type: 'observe', status: 'idle', clearHumanInput: { key: 'MC-1' } });
  });
});
