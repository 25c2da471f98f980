// The console on one host retires a runtime of another host: the key goes through the command desk, the status
// line says "queued on hostB", hostB's daemon (a real mcc --auto process) kills the session, and the console
// follows the command on its refreshes until the result is on the status line. Real SQLite, real tmux.
import { execa, type ResultPromise } from 'execa';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, DEMO_MAIN } from '../global-setup.js';
import { waitFor } from '../helpers/wait.js';
import { rowOf, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness | null = null;
let daemon: ResultPromise | null = null;
afterEach(async () => {
  daemon?.kill('SIGTERM');
  await daemon?.catch(() => undefined);
  daemon = null;
  await h?.cleanup();
  h = null;
});

/** The compiled mcc as host `host`, on the console's store, socket and config. */
function mccOn(c: ConsoleHarness, host: string, args: string[], timeoutMs = 30_000): ResultPromise {
  return execa(process.execPath, [BIN, ...args], {
    env: {
      ...c.sock.env,
      MCC_DB: c.dbPath,
      MCC_TMUX_SOCKET: c.sock.name,
      MCC_CONFIG: join(c.dir.path, 'config.json'),
      MCC_HOST: host,
    },
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
}

describe('console keys on a runtime of another host', () => {
  it('retire: "queued on hostB", then the result once hostB’s daemon ran it', async () => {
    const c = await startConsole({
      profile: { command: [process.execPath, DEMO_MAIN, '--boot-ms', '200', '--work-ms', '60000'] },
    });
    h = c;
    await c.ctx.store.createTicket({ title: 'far away', body: '', profile: 'demo', now: Date.now(), actor: 'test' });
    const picked = await mccOn(c, 'hostB', ['pickup', 'MC-1']);
    expect(picked.exitCode, String(picked.stderr)).toBe(0);
    daemon = mccOn(c, 'hostB', ['--auto', '--interval', '0.5'], 120_000);
    await waitFor(
      'hostB registered',
      async () => (await c.ctx.service.hosts.list()).map((v) => v.host.id),
      (ids) => ids.includes('hostB'),
    );
    await c.waitFor((f) => / in_progress /.test(rowOf(f, 'MC-1')), 'MC-1 in progress');

    c.press('runtime.retire');
    await c.waitFor((f) => f.includes('Retire MC-1?'), 'the confirmation');
    c.press('confirm.yes');
    await c.waitFor((f) => f.includes('retire MC-1 queued on hostB (command 1'), 'queued on hostB');
    await c.waitFor(
      (f) => f.includes('retire MC-1 on hostB (command 1) done:'),
      'the result on the status line',
      20_000,
    );
    await waitFor(
      'the session gone',
      async () => (await c.sock.tmux(['list-sessions', '-F', '#{session_name}']).catch(() => ({ stdout: '' }))).stdout,
      (s) => !s.includes('mc-MC-1'),
    );
  }, 60_000);
});
