// (c) A dead agent is never hidden behind in_progress: after `kill -9` the first pass marks the runtime
// exited and waits; once the TTL has passed a pass closes it with its evidence and requeues the ticket,
// counting attempts, until the retry limit blocks it; and a blocked ticket is never picked up again.
import { describe, expect, it } from 'vitest';
import {
  disagreements,
  ms,
  pidAlive,
  reconcileUntil,
  useHarness,
  waitFor,
  waitUntilTime,
  type Harness,
} from './helpers.js';

const TTL_S = 1;

/** Pick up `key`, kill its agent with SIGKILL, and run the passes that close it; returns the closed row. */
async function pickupAndKill(h: Harness, key: string, attempt: number) {
  const pickup = await h.mcc(['pickup', key]);
  expect(pickup.exitCode, pickup.stderr).toBe(0);
  const [r] = h.openRuntimes(key);
  expect(h.ticket(key)).toMatchObject({ status: 'in_progress', attempts: attempt, worker_pid: r?.pid });
  await waitFor(
    'the agent to print its banner',
    () => h.capture(`mc-${key}`),
    (s) => s.includes(`pid ${r?.pid}`),
  );
  process.kill(r!.pid!, 'SIGKILL');
  await waitFor(
    'the agent to die',
    () => pidAlive(r?.pid),
    (alive) => !alive,
  );

  // First pass: dead, but younger than the TTL: marked exited, not closed; the ticket stays in_progress.
  const first = await h.mcc(['reconcile']);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.stdout).toContain('[DYING]');
  const exited = h.runtimes(key).find((x) => x.id === r?.id);
  expect(exited).toMatchObject({ status: 'exited' });
  expect(exited?.dead_since).not.toBeNull();
  expect(h.ticket(key).status).toBe('in_progress');

  await waitUntilTime(ms(exited!.dead_since) + TTL_S * 1000);
  const second = await h.mcc(['reconcile']);
  expect(second.exitCode, second.stderr).toBe(0);
  expect(second.stdout).toContain('[STALE]');
  const closed = h.runtimes(key).find((x) => x.id === r?.id)!;
  expect(closed.status).toBe('closed');
  expect(closed.closed_reason).toMatch(/^dead: /);
  expect(ms(closed.closed_at) - ms(exited!.dead_since)).toBeGreaterThanOrEqual(TTL_S * 1000);
  expect(await h.hasSession(`mc-${key}`)).toBe(false);
  expect(h.openRuntimes(key)).toEqual([]);

  // The evidence: the close event carries the exit status entry and the pane's last lines.
  const close = h.events(key).filter((e) => e.kind === 'runtime.close' && e.runtime_id === r?.id);
  expect(close).toHaveLength(1);
  const artifacts = JSON.parse(close[0]!.artifacts) as string[];
  expect(artifacts.some((a) => a.startsWith('exit_status:'))).toBe(true);
  // Soft, so a failure here still lets the rest of the scenario report. The agent's own last
  // output is the evidence; blank lines above tmux's "Pane is dead" line are not.
  expect
    .soft(
      artifacts.some((a) => a.includes(`demo-agent (mcc demo) pid ${r?.pid}`)),
      `evidence: ${JSON.stringify(artifacts)}`,
    )
    .toBe(true);
  expect(close[0]?.root_cause).toMatch(/STALE/);
  return closed;
}

describe('(c) kill -9 of the agent', () => {
  it('closes the runtime after the TTL, requeues with attempts counted, blocks at the retry limit, and --auto --pickup leaves it blocked', async () => {
    const h = useHarness({ ttlSeconds: TTL_S, retryLimit: 2, profiles: { demo: { bootMs: 1000, workMs: 60_000 } } });
    const key = await h.add('agent gets killed');

    await pickupAndKill(h, key, 1);
    expect(h.ticket(key)).toMatchObject({ status: 'todo', attempts: 1, worker_pid: null, blocked_reason: null });
    expect(await disagreements(h, key)).toEqual([]);
    // The undelivered prompt stays queued for the next runtime: one row, still pending.
    expect(h.messages(key).map((m) => [m.kind, m.status])).toEqual([['prompt', 'pending']]);

    await pickupAndKill(h, key, 2);
    const blocked = h.ticket(key);
    expect(blocked).toMatchObject({ status: 'blocked', attempts: 2, worker_pid: null });
    expect(blocked.blocked_reason).toMatch(/retry limit reached \(2\/2\)/);
    expect(
      h.events(key).some((e) => e.kind === 'runtime.close' && e.status === 'error' && e.human_input_required === 1),
    ).toBe(true);
    expect(h.messages(key).filter((m) => m.kind === 'prompt')).toHaveLength(1);

    // The daemon with --pickup starts the other todo ticket but never the blocked one.
    const other = await h.add('a todo ticket the daemon may take');
    for (let cycle = 0; cycle < 2; cycle++) {
      const auto = await h.mcc(['--auto', '--once', '--pickup', '--json']);
      expect(auto.exitCode, auto.stderr).toBe(0);
      expect(auto.stdout).not.toContain(`"ticket":"${key}"`);
    }
    expect(h.ticket(key)).toMatchObject({ status: 'blocked', attempts: 2 });
    expect(h.runtimes(key)).toHaveLength(2);
    expect(h.openRuntimes(key)).toEqual([]);
    expect(await h.sessions()).toEqual([`mc-${other}`]);
    expect(h.ticket(other).status).toBe('in_progress');
    expect(await disagreements(h, other)).toEqual([]);

    // The count survives: a plain pickup of a blocked ticket is refused too.
    const again = await h.mcc(['pickup', key]);
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toContain('blocked');
  });

  it('records the exit status and last output of an agent that exits on its own (demo crash, exit 3)', async () => {
    const h = useHarness({ ttlSeconds: TTL_S, profiles: { crash: { bootMs: 200, workMs: 200, outcome: 'crash' } } });
    const key = await h.add('agent crashes', ['--profile', 'crash']);
    await h.must(['pickup', key]);
    const [r] = h.openRuntimes(key);
    await reconcileUntil(h, 'the prompt to be sent', () => h.messages(key)[0]?.status === 'sent');
    await waitFor(
      'the agent to exit',
      () => pidAlive(r?.pid),
      (alive) => !alive,
    );

    await reconcileUntil(h, 'the runtime to be marked exited', () => h.runtimes(key)[0]?.status === 'exited');
    const exited = h.runtimes(key)[0]!;
    expect(h.ticket(key).status).toBe('in_progress');
    await waitUntilTime(ms(exited.dead_since) + TTL_S * 1000);
    await h.must(['reconcile']);
    const closed = h.runtimes(key)[0]!;
    expect(closed).toMatchObject({ id: r?.id, status: 'closed' });
    expect(h.ticket(key)).toMatchObject({ status: 'todo', attempts: 1 });
    expect(await h.hasSession(`mc-${key}`)).toBe(false);
    const close = h.events(key).find((e) => e.kind === 'runtime.close');
    const artifacts = JSON.parse(close?.artifacts ?? '[]') as string[];
    // Soft, so both halves of the evidence are reported: the exit status the agent died with, and its last words.
    expect.soft(closed.exit_status, 'exit_status of the closed runtime row').toBe(3);
    expect.soft(artifacts, 'close event artifacts').toContain('exit_status:3');
    expect
      .soft(
        artifacts.some((a) => a.includes('[demo] fatal: simulated crash')),
        `evidence: ${JSON.stringify(artifacts)}`,
      )
      .toBe(true);
  });
});
