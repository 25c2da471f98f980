// `mcc --auto`: one daemon per host (a lease row with an expiry); a second one says who holds the lease;
// SIGTERM/SIGINT finish the current pass, release the lease and exit 0. A daemon of an mcc from before hosts
// had ids held `auto-daemon` for the whole store: it is waited for while it lives.
import { defaultHostId } from '../../src/cli/host-id.js';
import { describe, expect, it } from 'vitest';
import { holderLabel } from '../../src/core/lease-holder.js';
import { disagreements, useHarness, waitFor, type Harness } from '../runtime/helpers.js';

// The lease names (src/core/console-controller.ts): column values operators see. LEASE is the pre-hosts one.
const LEASE = 'auto-daemon';
const hostname = defaultHostId;
const HOST_LEASE = `auto-daemon:${hostname()}`;

function holdLease(h: Harness, holder: string, expiresInMs: number): void {
  h.sql(
    'INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)',
    LEASE,
    holder,
    new Date(Date.now() + expiresInMs).toISOString(),
  );
}

const jsonLines = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; text: string; holder?: string; from?: string });

/** The lease holders as people see them (`host:PID`; the row also carries start time and boot id). */
const holders = (h: Harness) => h.leases().map((l) => holderLabel(l.holder));

describe('--auto lease', () => {
  it('--auto --once exits 3 naming the holder while another daemon holds an unexpired lease, and leaves it', async () => {
    const h = useHarness();
    const key = await h.add('must not be picked up');
    holdLease(h, 'worker-9.example:4242', 60_000);
    const r = await h.mcc(['--auto', '--once', '--pickup']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('worker-9.example:4242');
    const j = await h.mcc(['--auto', '--once', '--json']);
    expect(j.exitCode).toBe(3);
    expect(jsonLines(j.stdout)).toEqual([expect.objectContaining({ kind: 'lease', holder: 'worker-9.example:4242' })]);
    expect(h.leases()).toEqual([expect.objectContaining({ name: LEASE, holder: 'worker-9.example:4242' })]);
    expect(h.ticket(key).status).toBe('todo');
    expect(await h.sessions()).toEqual([]);
  });

  it('takes over an expired lease, does its pass, and releases it', async () => {
    const h = useHarness();
    const key = await h.add('picked up once the lease is ours');
    holdLease(h, 'crashed-daemon:1', -1000);
    const r = await h.mcc(['--auto', '--once', '--pickup']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(h.leases()).toEqual([]);
    expect(h.ticket(key).status).toBe('in_progress');
    expect(await disagreements(h, key)).toEqual([]);
  });
});

describe('--auto signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: finishes the pass in flight, releases the lease and exits 0`, async () => {
      const h = useHarness();
      const key = await h.add(`stopped by ${signal}`);
      const daemon = h.spawn(['--auto', '--interval', '0.2', '--pickup', '--json'], { timeoutMs: 60_000 });
      const holder = `${hostname()}:${daemon.pid}`;
      await waitFor(
        'the daemon to hold the lease',
        () => holders(h),
        (hs) => hs.includes(holder),
      );
      // Signal as soon as its pickup has claimed the ticket: the pass is (very likely) still in flight.
      await waitFor(
        'the claim',
        () => h.ticket(key).status,
        (s) => s === 'in_progress',
      );
      daemon.kill(signal);
      const r = await daemon;
      // Soft, so that a daemon killed mid-pass also shows what it left behind.
      expect.soft(r.exitCode, `killed by ${r.signal ?? 'nothing'}; stderr: ${String(r.stderr)}`).toBe(0);
      const lines = jsonLines(String(r.stdout));
      expect.soft(lines[0]?.kind).toBe('start');
      expect.soft(lines[lines.length - 1], 'last line').toMatchObject({ kind: 'stop' });
      expect.soft(h.leases(), 'lease left behind').toEqual([]);
      // The pickup it started was carried through, not left half-done.
      expect
        .soft(h.openRuntimes(key), 'runtime row after the signal')
        .toEqual([expect.objectContaining({ status: 'running' })]);
      expect.soft(await disagreements(h, key)).toEqual([]);
    });
  }

  it('a second daemon waits for the lease, says who holds it once, and takes over when the first stops', async () => {
    const h = useHarness();
    // The first daemon idles between passes (interval 5 s), so the SIGTERM below lands between passes.
    const first = h.spawn(['--auto', '--interval', '5', '--json'], { timeoutMs: 60_000 });
    await waitFor(
      'the first daemon to hold the lease',
      () => holders(h),
      (hs) => hs.includes(`${hostname()}:${first.pid}`),
    );
    const second = h.spawn(['--auto', '--interval', '0.2', '--json'], { timeoutMs: 60_000 });
    let out = '';
    second.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      'the second daemon to report the holder',
      () => out,
      (o) => o.includes(`${hostname()}:${first.pid}`),
    );
    first.kill('SIGTERM');
    expect((await first).exitCode).toBe(0);
    await waitFor(
      'the second daemon to take the lease',
      () => holders(h),
      (hs) => hs.includes(`${hostname()}:${second.pid}`),
    );
    // Its exit code is not asserted here: a signal that lands mid-pass is the bug the tests above pin down.
    second.kill('SIGTERM');
    const r = await second;
    const kinds = jsonLines(String(r.stdout)).map((l) => l.kind);
    expect(kinds.filter((k) => k === 'lease')).toHaveLength(2); // "held by ...; waiting" once, then "acquired"
  });
});

describe('--auto after a daemon killed with SIGKILL', () => {
  it("a successor on the same host takes the dead daemon's lease at once and says whose it took", async () => {
    const h = useHarness();
    // Interval 5 s: the first daemon's lease runs 15 s, far longer than the successor needs to start.
    const first = h.spawn(['--auto', '--interval', '5', '--json'], { timeoutMs: 60_000 });
    const dead = `${hostname()}:${first.pid}`;
    await waitFor(
      'the first daemon to hold the lease',
      () => holders(h),
      (hs) => hs.includes(dead),
    );
    const row = h.leases()[0]!;
    // The row names the process beyond pid reuse: its start time (/proc/PID/stat field 22) and boot id.
    expect(row.holder).toMatch(new RegExp(`^${dead} start=[0-9]+ boot=\\S+$`));
    const expiresAt = Date.parse(row.expires_at);
    first.kill('SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    expect(h.leases(), 'the killed daemon left its lease').toEqual([row]);

    const second = h.spawn(['--auto', '--interval', '0.2', '--json'], { timeoutMs: 60_000 });
    const me = `${hostname()}:${second.pid}`;
    await waitFor(
      'the successor to hold the lease',
      () => holders(h),
      (hs) => hs.includes(me),
    );
    expect(Date.now(), 'the successor waited for the dead lease to expire').toBeLessThan(expiresAt);
    second.kill('SIGTERM');
    const r = await second;
    const leaseLines = jsonLines(String(r.stdout)).filter((l) => l.kind === 'lease');
    // Its first word on the lease is the takeover: it never waited.
    expect(leaseLines).toEqual([
      expect.objectContaining({
        holder: me,
        from: dead,
        text: `took over the lease of dead daemon ${dead} (pid ${first.pid} is gone); lease acquired by ${me}`,
      }),
    ]);
    expect(h.events().filter((e) => e.kind === 'lease')).toEqual([
      expect.objectContaining({
        actor: 'auto',
        status: 'warning',
        summary: `took over lease ${HOST_LEASE} from ${dead}: pid ${first.pid} is gone`,
      }),
    ]);
  });
});
