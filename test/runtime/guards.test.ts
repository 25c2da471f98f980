// What the reconciler must never do: (d) regress in_review/done, (e) steal a ticket held by another
// worker, (f) destroy anything when tmux cannot be observed (and warn once, not once per pass).
import { hostname } from 'node:os';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  disagreements,
  isReadyScreen,
  ms,
  pidAlive,
  reconcileUntil,
  useHarness,
  waitFor,
  type Harness,
} from './helpers.js';

async function liveTicket(h: Harness, title: string): Promise<{ key: string; session: string; pid: number }> {
  const key = await h.add(title);
  const p = await h.mcc(['pickup', key]);
  expect(p.exitCode, p.stderr).toBe(0);
  const pid = h.openRuntimes(key)[0]?.pid ?? 0;
  expect(pidAlive(pid)).toBe(true);
  return { key, session: `mc-${key}`, pid };
}

describe('(d) in_review and done are never moved by the system', () => {
  it('leaves an in_review ticket and its live runtime alone; retires the runtime of a done ticket but keeps it done', async () => {
    const h = useHarness();
    const { key, session, pid } = await liveTicket(h, 'operator reviews early');
    await waitFor('the agent to become ready', () => h.capture(session), isReadyScreen);
    await reconcileUntil(h, 'the prompt to be sent', () => h.messages(key)[0]?.status === 'sent');

    await h.must(['move', key, 'in_review']);
    const before = h.dump();
    for (let pass = 0; pass < 2; pass++) await h.must(['reconcile']);
    // The agent's own REVIEW: arrives meanwhile; the ticket is already past in_progress and stays as it is.
    await waitFor(
      'the REVIEW marker on screen',
      () => h.capture(session),
      (s) => /^REVIEW:/m.test(s),
    );
    await h.must(['reconcile']);
    const after = h.dump();
    expect(after.tickets).toEqual(before.tickets);
    expect(after.runtimes).toEqual(before.runtimes);
    expect(after.events).toBe(before.events);
    expect(h.ticket(key).status).toBe('in_review');
    expect(await h.pane(session)).toMatchObject({ pid, dead: false });

    await h.must(['move', key, 'done']);
    const done = h.ticket(key);
    const retire = await h.mcc(['reconcile']);
    expect(retire.exitCode).toBe(0);
    expect(retire.stdout).toContain('[DONE-LIVE]');
    expect(await h.hasSession(session)).toBe(false);
    await waitFor(
      'the agent to be gone',
      () => pidAlive(pid),
      (alive) => !alive,
    );
    const [closed] = h.runtimes(key);
    expect(closed).toMatchObject({ status: 'closed', closed_reason: 'ticket done' });
    expect(h.ticket(key)).toEqual(done);
    // And it stays so: a second pass has nothing to do, a pickup is refused.
    const quiet = await h.mcc(['reconcile']);
    expect(quiet.stdout).toContain('nothing to do');
    expect(h.ticket(key)).toEqual(done);
    const pickup = await h.mcc(['pickup', key]);
    expect(pickup.exitCode).toBe(3);
    expect(h.runtimes(key)).toHaveLength(1);
  });
});

describe('(e) no stealing from another worker', () => {
  const cases = [
    { name: 'another host', host: 'worker-2.example', socket: (own: string) => own },
    { name: 'another socket on this host', host: hostname(), socket: () => 'mcc-other-worker' },
  ];
  for (const c of cases) {
    it(`never re-points a ticket whose open runtime is on ${c.name}, even with a live mc- session here; pickup exits 3 naming the holder`, async () => {
      const h = useHarness();
      const { key, session, pid } = await liveTicket(h, `held on ${c.name}`);
      const [r] = h.openRuntimes(key);
      // Another worker holds the ticket: its runtime row points elsewhere (pid 4242 there).
      h.sql(
        'UPDATE runtime_sessions SET host = ?, tmux_socket = ?, pid = 4242, version = version + 1 WHERE id = ?',
        c.host,
        c.socket(h.socket),
        r?.id,
      );
      h.sql('UPDATE tickets SET worker_pid = 4242, version = version + 1 WHERE key = ?', key);
      const before = h.dump();

      for (let pass = 0; pass < 2; pass++) {
        const res = await h.mcc(['reconcile']);
        expect(res.exitCode, res.stderr).toBe(0);
      }
      const after = h.dump();
      expect(after.tickets).toEqual(before.tickets);
      expect(after.runtimes).toEqual(before.runtimes);
      expect(after.messages).toEqual(before.messages);
      // At most one warning for the standing condition, never one per pass.
      expect(after.events - before.events).toBeLessThanOrEqual(1);

      const pickup = await h.mcc(['pickup', key]);
      expect(pickup.exitCode).toBe(3);
      expect(pickup.stderr).toContain(c.host);
      expect(pickup.stderr).toContain('pid 4242');
      const adopt = await h.mcc(['adopt', key]);
      expect(adopt.exitCode).not.toBe(0);
      expect(h.dump().tickets).toEqual(before.tickets);
      expect(h.dump().runtimes).toEqual(before.runtimes);
      // Our local session is not ours to kill either.
      expect(await h.pane(session)).toMatchObject({ pid, dead: false });
    });
  }

  it('a todo ticket whose open runtime row belongs to another host is not claimed: pickup exits 3 naming it', async () => {
    const h = useHarness();
    const key = await h.add('claimed elsewhere, ticket row lagging');
    h.sql(
      `INSERT INTO runtime_sessions (ticket_key, host, tmux_socket, tmux_session, pane_id, pid, pid_start, boot_id, status, created_at, last_seen_at, version)
       VALUES (?, 'worker-3.example', 'mcc', ?, '%9', 5151, 1, 'another-boot', 'running', ?, ?, 1)`,
      key,
      `mc-${key}`,
      new Date().toISOString(),
      new Date().toISOString(),
    );
    const before = h.dump();
    const pickup = await h.mcc(['pickup', key]);
    expect(pickup.exitCode).toBe(3);
    expect(pickup.stderr).toContain('worker-3.example');
    await h.must(['reconcile']);
    expect(h.dump().tickets).toEqual(before.tickets);
    expect(h.dump().runtimes).toEqual(before.runtimes);
    expect(await h.sessions()).toEqual([]);
  });
});

describe('(f) a failing tmux destroys nothing', () => {
  it('reconcile exits 1, changes no row, kills no session, warns once; pickup and retire refuse; a healthy pass then acts', async () => {
    const h = useHarness({ ttlSeconds: 1 });
    const shim = join(h.dir, 'odd-tmux');
    writeFileSync(
      shim,
      '#!/bin/sh\necho "tmux: lost server handshake (protocol 7?) while reading #{pane_id}" >&2\nexit 1\n',
    );
    chmodSync(shim, 0o755);
    const broken = { env: { MCC_TMUX_BIN: shim } };

    // Two runtimes a healthy pass would destroy: one of a done ticket, one whose agent died past the TTL.
    const done = await liveTicket(h, 'done while live');
    const dead = await liveTicket(h, 'dies');
    await h.must(['move', done.key, 'done']);
    process.kill(dead.pid, 'SIGKILL');
    await waitFor(
      'the agent to die',
      () => pidAlive(dead.pid),
      (alive) => !alive,
    );
    const third = await h.add('never started');
    const rows = h.dump();
    const plan = await h.mcc(['reconcile', '--dry-run']);
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toMatch(/planned +\[DONE-LIVE\]/);
    expect(h.dump()).toEqual(rows);

    const first = await h.mcc(['reconcile'], broken);
    expect(first.exitCode).toBe(1);
    expect(first.stdout).toContain('[UNKNOWN]');
    expect(first.stdout).toContain('lost server handshake');
    const afterFirst = h.dump();
    expect(afterFirst.tickets).toEqual(rows.tickets);
    expect(afterFirst.runtimes).toEqual(rows.runtimes);
    expect(afterFirst.messages).toEqual(rows.messages);
    expect(afterFirst.events).toBe(rows.events + 1);
    expect(await h.sessions()).toEqual([done.session, dead.session].sort());
    expect(pidAlive(done.pid)).toBe(true);

    const second = await h.mcc(['reconcile'], broken);
    expect(second.exitCode).toBe(1);
    expect(h.dump()).toEqual(afterFirst);

    // Operator commands refuse rather than act blind.
    const pickup = await h.mcc(['pickup', third], broken);
    expect(pickup.exitCode).toBe(1);
    expect(h.ticket(third)).toMatchObject({ status: 'todo', attempts: 0 });
    expect(h.runtimes(third)).toEqual([]);
    const retire = await h.mcc(['retire', done.key], broken);
    expect(retire.exitCode).toBe(1);
    expect(await h.sessions()).toEqual([done.session, dead.session].sort());
    expect(h.dump().runtimes).toEqual(rows.runtimes);

    // With tmux back, the same situation is acted on: proof the broken passes really declined.
    await reconcileUntil(
      h,
      'both runtimes to be closed',
      () => h.openRuntimes(done.key).length + h.openRuntimes(dead.key).length === 0,
    );
    expect(await h.sessions()).toEqual([]);
    expect(h.ticket(done.key).status).toBe('done');
    expect(h.ticket(dead.key)).toMatchObject({ status: 'todo', attempts: 1 });
    const closedDead = h.runtimes(dead.key)[0]!;
    expect(ms(closedDead.closed_at) - ms(closedDead.dead_since)).toBeGreaterThanOrEqual(1000);
    expect(await disagreements(h, dead.key)).toEqual([]);
  });
});
