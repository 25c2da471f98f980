// The real binary crashed (SIGKILL) at each named failpoint, then, past the TTL, ONE `mcc reconcile`: the
// ticket row, the runtime row and tmux agree — one live, verified runtime with the ticket in_progress, or
// no live runtime with the ticket todo/blocked — and the prompt is neither lost nor doubled: one prompt
// row, eventually sent, echoed by the agent exactly once.
import { describe, expect, it } from 'vitest';
import { FAILPOINTS, type FailpointName } from '../../src/core/failpoints.js';
import {
  BUSY_IGNORED,
  count,
  disagreements,
  isReadyScreen,
  pidAlive,
  reconcileUntil,
  useHarness,
  waitFor,
  waitUntilTime,
  type CliResult,
  type Harness,
} from './helpers.js';

const TTL_S = 1;

function expectCrashed(r: CliResult, name: string): void {
  expect(r.signal, `${r.stdout}\n${r.stderr}`).toBe('SIGKILL');
  expect(r.stderr).toContain(`failpoint ${name} (crash)`);
}

const prompts = (h: Harness, key: string) => h.messages(key).filter((m) => m.kind === 'prompt');

/** Crash the binary at `name`: pickup steps inside `mcc pickup`, delivery steps inside the pass that delivers. */
async function crashAt(h: Harness, key: string, name: FailpointName): Promise<void> {
  const armed = { env: { MCC_FAILPOINTS: `${name}=crash` } };
  if (name.startsWith('pickup.')) {
    expectCrashed(await h.mcc(['pickup', key], armed), name);
    return;
  }
  // The agent must be ready for a delivery to start, so the pickup itself runs clean and a pass delivers.
  const pickup = await h.mcc(['pickup', key]);
  expect(pickup.exitCode, pickup.stderr).toBe(0);
  await waitFor('the agent to become ready', () => h.capture(`mc-${key}`), isReadyScreen);
  expectCrashed(await h.mcc(['reconcile'], armed), name);
  // Crashed mid-delivery: the message is marked in flight, never silently dropped back or marked sent.
  expect(prompts(h, key).map((m) => m.status)).toEqual(['delivering']);
}

/** One of the two consistent outcomes, checked across the three views. */
async function expectConsistent(h: Harness, key: string): Promise<'live' | 'none'> {
  const open = h.openRuntimes(key);
  const t = h.ticket(key);
  expect(await disagreements(h, key)).toEqual([]);
  if (open.length === 1) {
    expect(t.status).toBe('in_progress');
    expect(open[0]?.pid).not.toBeNull();
    expect(pidAlive(open[0]?.pid)).toBe(true);
    expect(await h.sessions()).toEqual([`mc-${key}`]);
    return 'live';
  }
  expect(open).toEqual([]);
  expect(['todo', 'blocked']).toContain(t.status);
  expect(await h.sessions()).toEqual([]);
  return 'none';
}

// Concurrent: each case has its own store, socket and agent, and mostly waits on them.
describe.concurrent('crash at each failpoint, then one reconcile pass', () => {
  it('covers every failpoint the binary defines', ({ expect }) => {
    expect([...FAILPOINTS].sort()).toEqual(
      [
        'deliver.after_paste',
        'deliver.after_submit',
        'deliver.before_paste',
        'pickup.after_claim',
        'pickup.after_new_session',
        'pickup.after_record_pid',
        'pickup.after_runtime_row',
        'pickup.after_worktree',
      ].sort(),
    );
  });

  for (const name of FAILPOINTS) {
    it(`${name}: consistent after one pass; the prompt is delivered exactly once`, async (ctx) => {
      const { expect } = ctx;
      // A delivery crash needs the pass, not `mcc pickup`, to find the agent ready: the agent boots for longer
      // than a pickup can take on a loaded machine (with 400 ms the pickup itself sometimes delivered).
      const bootMs = name.startsWith('deliver.') ? 3000 : 400;
      const h = useHarness({ ttlSeconds: TTL_S, retryLimit: 3, profiles: { demo: { bootMs, workMs: 400 } } }, ctx);
      const key = await h.add(`crash at ${name}`, ['--body', 'no-op; crash test']);
      const session = `mc-${key}`;

      await crashAt(h, key, name);
      expect(h.ticket(key).status).toBe('in_progress');
      await waitUntilTime(Date.now() + TTL_S * 1000 + 50);

      const pass = await h.mcc(['reconcile']);
      expect(pass.exitCode, `${pass.stdout}\n${pass.stderr}`).toBe(0);
      const outcome = await expectConsistent(h, key);
      expect(prompts(h, key)).toHaveLength(1);
      if (name.startsWith('deliver.')) expect(outcome).toBe('live');

      if (outcome === 'none') {
        // Nothing was left running; the prompt waits, unsent, for the next runtime.
        expect(prompts(h, key).map((m) => m.status)).toEqual(['pending']);
        const again = await h.mcc(['pickup', key]);
        expect(again.exitCode, again.stderr).toBe(0);
        expect(h.ticket(key).attempts).toBe(2);
      }
      await reconcileUntil(h, 'the prompt to be sent', () => prompts(h, key)[0]?.status === 'sent');
      await reconcileUntil(h, 'the REVIEW marker', () => h.ticket(key).status === 'in_review');

      const screen = await h.capture(session);
      expect(count(screen, '[demo] prompt 1 received'), screen).toBe(1);
      expect(screen).not.toContain('prompt 2 received');
      expect(prompts(h, key)).toHaveLength(1);
      expect(h.openRuntimes(key)).toHaveLength(1);
      expect(await disagreements(h, key, ['in_review'])).toEqual([]);
      const deliveries = h.events(key).filter((e) => e.kind === 'message.delivery' && e.status === 'ok');
      expect(deliveries).toHaveLength(1);
    });
  }

  it('deliver.after_submit while the agent is still working: recovery never types into the busy agent', async (ctx) => {
    const { expect } = ctx;
    // The agent works long enough that the recovery pass meets it busy on the submitted prompt.
    const h = useHarness({ ttlSeconds: TTL_S, profiles: { demo: { bootMs: 400, workMs: 6000 } } }, ctx);
    const key = await h.add('crash after submit, agent busy');
    const session = `mc-${key}`;
    await crashAt(h, key, 'deliver.after_submit');
    await waitFor(
      'the agent to work on the prompt',
      () => h.capture(session),
      (s) => s.includes('working on prompt 1'),
    );

    const pass = await h.mcc(['reconcile']);
    expect(pass.exitCode, pass.stderr).toBe(0);
    const screen = await h.capture(session);
    expect(screen, 'still busy: the test needs the recovery pass to meet a working agent').toContain(
      'working on prompt 1',
    );
    expect(count(screen, '[demo] prompt 1 received')).toBe(1);
    expect(screen, 'a key sent to a busy agent').not.toContain(BUSY_IGNORED);
    await expectConsistent(h, key);
  });
});
