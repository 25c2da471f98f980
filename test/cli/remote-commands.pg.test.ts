// With the PostgreSQL store, a command queued for a host wakes that host's daemon at once (LISTEN/NOTIFY on
// mcc_commands): the daemon passes only every 30 s here, yet the command is done within seconds. Real
// PostgreSQL (a throwaway server), real tmux on the harness's private socket, real mcc processes.
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/postgres.js';
import { useHarness, waitFor } from '../runtime/helpers.js';

const cluster = usePostgres();

interface DaemonLine {
  kind: string;
  id?: number;
  status?: string;
  via?: string;
}

describe('remote commands over PostgreSQL', () => {
  it('a command queued after the pass is run at once on NOTIFY, not at the next 30 s pass', async () => {
    const h = useHarness({ profiles: { demo: { bootMs: 200, workMs: 60_000 } } });
    const url = await cluster.server.createDatabase();
    const on = (host: string) => ({ env: { MCC_DB: url, MCC_HOST: host } });
    const key = (await h.must(['add', 'woken by a notification'], on('hostA'))).stdout.trim();
    await h.must(['pickup', key], on('hostB'));
    // hostB registers (one pass of its daemon), so commands for it are queued, not refused as for a host that
    // never ran one.
    await h.must(['--auto', '--once'], on('hostB'));
    // Queued before the daemon starts: its first pass runs it, so seeing it done means that pass has drained.
    const first = await h.mcc(['send', key, 'before the daemon', '--no-wait'], on('hostA'));
    expect(first.exitCode, first.stderr).toBe(0);

    const daemon = h.spawn(['--auto', '--interval', '30', '--json'], { ...on('hostB'), timeoutMs: 120_000 });
    let out = '';
    daemon.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ran = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as DaemonLine)
        .filter((l) => l.kind === 'command');
    await waitFor('the first pass to run the first command', ran, (rs) => rs.length === 1, 20_000);
    expect(ran()[0]).toEqual(expect.objectContaining({ status: 'done', via: 'pass' }));

    const began = Date.now();
    const r = await h.mcc(['retire', key, '--wait-seconds', '10'], on('hostA'));
    const tookMs = Date.now() - began;
    expect(r.exitCode, `${r.stdout}\n${r.stderr}\n${out}`).toBe(0);
    expect(r.stdout).toContain(`retire ${key} queued on hostB`);
    expect(r.stdout).toContain('done:');
    // Well before the next pass (30 s after the first): only the notification can have woken it.
    expect(tookMs).toBeLessThan(10_000);
    expect(ran()[1]).toEqual(expect.objectContaining({ status: 'done', via: 'notify' }));
    expect(await h.hasSession(`mc-${key}`)).toBe(false);

    daemon.kill('SIGTERM');
    const d = await daemon;
    expect(d.exitCode).toBe(0);
  }, 120_000);
});
