// The seed (MC-4411) on real tmux with the demo agent: a pickup that meets a booting agent leaves a live,
// consistent runtime with its prompt pending, and a later pass delivers it; a live runtime hidden behind
// `todo` is adopted, never respawned; and once healed, a second pass finds nothing and logs nothing.
import { describe, expect, it } from 'vitest';
import {
  BUSY_IGNORED,
  count,
  disagreements,
  isReadyScreen,
  pidAlive,
  reconcileUntil,
  useHarness,
  waitFor,
  type Harness,
} from './helpers.js';

const promptRows = (h: Harness, key: string) => h.messages(key).filter((m) => m.kind === 'prompt');
const warningsOf = (h: Harness, key: string) => h.events(key).filter((e) => e.status !== 'ok');

interface ReconcileJson {
  observation: string;
  findings: { ticketKey: string | null; drift: string | null; outcome: string; action: { type: string } }[];
}

async function reconcileJson(h: Harness): Promise<ReconcileJson> {
  const r = await h.mcc(['reconcile', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ReconcileJson;
}

describe('(a) pickup while the agent is still booting (the 409-after-spawn seed)', () => {
  it('leaves a live in_progress runtime with the prompt pending, types nothing, and a later pass delivers it once', async () => {
    // A long boot, so that the pickup and one pass both happen while the agent is busy.
    const h = useHarness({ profiles: { slow: { bootMs: 12_000, workMs: 800 } } });
    const key = await h.add('seed: pickup meets a busy runtime', ['--profile', 'slow', '--body', 'no-op']);
    const session = `mc-${key}`;

    const pickup = await h.mcc(['pickup', key]);
    expect(pickup.exitCode, pickup.stderr).toBe(0);
    expect(pickup.stdout).toContain('prompt pending');

    const t = h.ticket(key);
    const [r, ...more] = h.openRuntimes(key);
    expect(more).toEqual([]);
    expect(t).toMatchObject({ status: 'in_progress', attempts: 1, worker_pid: r?.pid });
    expect(r).toMatchObject({ status: 'running', tmux_session: session, tmux_socket: h.socket });
    expect(r?.pid).toBeGreaterThan(0);
    expect(r?.pid_start).not.toBeNull();
    expect(r?.boot_id).not.toBeNull();
    expect(pidAlive(r?.pid)).toBe(true);
    expect(await h.pane(session)).toEqual({ id: r?.pane_id, pid: r?.pid, dead: false });
    expect(promptRows(h, key).map((m) => m.status)).toEqual(['pending']);

    // A pass while the agent is busy is the normal case: nothing typed, nothing warned.
    await waitFor(
      'the agent to show its busy line',
      () => h.capture(session),
      (s) => s.includes('esc to interrupt'),
    );
    const busyPass = await h.mcc(['reconcile']);
    expect(busyPass.exitCode, busyPass.stderr).toBe(0);
    const stillBusy = await h.capture(session);
    expect(stillBusy, 'the test needs the agent still booting here').toContain('booting');
    expect(promptRows(h, key).map((m) => m.status)).toEqual(['pending']);
    expect(h.ticket(key).status).toBe('in_progress');

    const ready = await waitFor('the agent to become ready', () => h.capture(session), isReadyScreen);
    expect(ready).not.toContain(BUSY_IGNORED);
    expect(ready).not.toContain('prompt 1 received');

    await reconcileUntil(h, 'the prompt to be sent', () => promptRows(h, key)[0]?.status === 'sent');
    expect(promptRows(h, key)).toHaveLength(1);
    await waitFor(
      'the agent to echo the prompt',
      () => h.capture(session),
      (s) => s.includes('[demo] prompt 1 received'),
    );

    await reconcileUntil(h, 'the REVIEW marker to move the ticket', () => h.ticket(key).status === 'in_review');
    const screen = await h.capture(session);
    expect(count(screen, '[demo] prompt 1 received')).toBe(1);
    expect(screen).not.toContain('prompt 2 received');
    expect(screen).not.toContain(BUSY_IGNORED);
    expect(h.openRuntimes(key)).toHaveLength(1);
    expect(h.openRuntimes(key)[0]?.id).toBe(r?.id);
    expect(await disagreements(h, key, ['in_review'])).toEqual([]);
    expect(h.events(key).map((e) => e.kind)).toContain('marker.review');
    expect(warningsOf(h, key)).toEqual([]);
  });
});

describe('(b) a live runtime behind todo', () => {
  it('is adopted by a reconcile pass and by `mcc pickup`: same pane, same pid, no second session', async () => {
    const h = useHarness();
    const key = await h.add('hidden live runtime');
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    const [r0] = h.openRuntimes(key);
    const pane0 = await h.pane(session);
    expect(pane0?.pid).toBe(r0?.pid);

    const hide = () =>
      h.sql("UPDATE tickets SET status = 'todo', worker_pid = NULL, version = version + 1 WHERE key = ?", key);
    const expectAdopted = async () => {
      const t = h.ticket(key);
      const rows = h.runtimes(key);
      expect(t.status).toBe('in_progress');
      expect(t.worker_pid).toBe(r0?.pid);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: r0?.id, pid: r0?.pid, pane_id: r0?.pane_id, pid_start: r0?.pid_start });
      expect(await h.sessions()).toEqual([session]);
      expect(await h.pane(session)).toEqual(pane0);
      expect(t.attempts).toBe(1);
    };

    hide();
    const pass = await reconcileJson(h);
    expect(pass.findings.filter((f) => f.ticketKey === key && f.drift === 'HIDDEN-LIVE').map((f) => f.outcome)).toEqual(
      ['applied'],
    );
    await expectAdopted();

    hide();
    const pickup = await h.mcc(['pickup', key]);
    expect(pickup.exitCode, pickup.stderr).toBe(0);
    expect(pickup.stdout).toContain('adopted');
    await expectAdopted();
    expect(h.events(key).filter((e) => e.kind === 'runtime.adopt')).toHaveLength(2);

    // The prompt queued by the first pickup is still delivered exactly once to the adopted runtime.
    await waitFor('the agent to become ready', () => h.capture(session), isReadyScreen);
    await reconcileUntil(h, 'the prompt to be sent', () => promptRows(h, key)[0]?.status === 'sent');
    await waitFor(
      'the prompt echo',
      () => h.capture(session),
      (s) => s.includes('[demo] prompt 1 received'),
    );
    expect(promptRows(h, key)).toHaveLength(1);
    expect(count(await h.capture(session), '[demo] prompt 1 received')).toBe(1);
  });

  it('adopts a live mc- session whose runtime row is missing (closed by hand) into a new row, without respawning', async () => {
    const h = useHarness();
    const key = await h.add('orphan session');
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    const [r0] = h.openRuntimes(key);
    h.sql(
      "UPDATE runtime_sessions SET status = 'closed', closed_at = '2026-01-01T00:00:00.000Z', closed_reason = 'lost row', version = version + 1 WHERE id = ?",
      r0?.id,
    );
    h.sql("UPDATE tickets SET status = 'todo', worker_pid = NULL, version = version + 1 WHERE key = ?", key);

    const pass = await reconcileJson(h);
    expect(pass.findings.filter((f) => f.ticketKey === key && f.drift === 'ORPHAN').map((f) => f.outcome)).toEqual([
      'applied',
    ]);
    const open = h.openRuntimes(key);
    expect(open).toHaveLength(1);
    expect(open[0]?.id).not.toBe(r0?.id);
    expect(open[0]).toMatchObject({ pid: r0?.pid, pane_id: r0?.pane_id, tmux_session: session });
    expect(h.ticket(key)).toMatchObject({ status: 'in_progress', worker_pid: r0?.pid });
    expect(await h.sessions()).toEqual([session]);
    expect(await disagreements(h, key)).toEqual([]);
  });
});

describe('(g) two consecutive passes after healing', () => {
  it('the first heals the seed drift, the second finds no drift and writes no event', async () => {
    const h = useHarness({ profiles: { ask: { bootMs: 300, workMs: 300, outcome: 'question' } } });
    const key = await h.add('steady runtime', ['--profile', 'ask']);
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the QUESTION marker', () => h.ticket(key).human_input_required === 1);
    expect(h.ticket(key).status).toBe('in_progress');
    const pid = h.openRuntimes(key)[0]?.pid;

    // The seed's drift: the ticket reverted to todo and the runtime row stale while the agent lives.
    h.sql("UPDATE tickets SET status = 'todo', worker_pid = NULL, version = version + 1 WHERE key = ?", key);
    h.sql(
      "UPDATE runtime_sessions SET status = 'exited', version = version + 1 WHERE ticket_key = ? AND status <> 'closed'",
      key,
    );

    const first = await reconcileJson(h);
    expect(first.findings.filter((f) => f.drift !== null).map((f) => [f.drift, f.outcome])).toEqual([
      ['HIDDEN-LIVE', 'applied'],
    ]);
    expect(await disagreements(h, key)).toEqual([]);
    expect(h.ticket(key).worker_pid).toBe(pid);

    const before = h.dump();
    const second = await reconcileJson(h);
    expect(second.observation).toBe('ok');
    expect(second.findings.filter((f) => f.drift !== null)).toEqual([]);
    expect(second.findings.filter((f) => f.outcome === 'applied' && f.action.type !== 'observe')).toEqual([]);
    const after = h.dump();
    expect(after.events).toBe(before.events);
    expect(after.tickets).toEqual(before.tickets);
    expect(after.messages).toEqual(before.messages);
    const strip = (rows: typeof before.runtimes) => rows.map(({ last_seen_at: _s, version: _v, ...rest }) => rest);
    expect(strip(after.runtimes)).toEqual(strip(before.runtimes));

    // The seed's acceptance in the daemon's words: two consecutive cycles, no repeated warning.
    const cycles = [
      await h.mcc(['--auto', '--once', '--pickup', '--json']),
      await h.mcc(['--auto', '--once', '--pickup', '--json']),
    ];
    for (const c of cycles) expect(c.exitCode, c.stderr).toBe(0);
    const lines = cycles.map((c) =>
      c.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { kind: string }),
    );
    expect(lines[1]?.filter((l) => l.kind === 'warning' || l.kind === 'applied' || l.kind === 'pickup')).toEqual([]);
    expect(h.dump().events).toBe(before.events);
    expect(await h.sessions()).toEqual([session]);
    expect(count(await h.capture(session), '[demo] prompt 1 received')).toBe(1);
  });
});
