// The operator smoke run (`npm run smoke`, dist/scripts/smoke.js) must pass, print the three views at each
// step, and leave no tmux server or temp dir behind.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { socketPath } from '../helpers/tmux-socket.js';
import { ROOT, SMOKE } from '../global-setup.js';
import { pidAlive, waitFor } from './helpers.js';

describe('npm run smoke', () => {
  it('runs a no-op ticket through pickup (busy start), delivery, REVIEW and retire, and exits 0', async () => {
    const { TMUX: _t, TMUX_PANE: _p, MCC_FAILPOINTS: _f, MCC_TMUX_BIN: _b, ...env } = process.env;
    const r = await execa(process.execPath, [SMOKE, '--boot-ms', '2000', '--work-ms', '500'], {
      cwd: ROOT,
      env,
      extendEnv: false,
      reject: false,
      timeout: 90_000,
    });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain('smoke ok');
    const socket = /tmux socket (\S+)/.exec(out)?.[1] ?? '';
    const store = /store (\S+)\/state\/mcc\.db/.exec(out)?.[1] ?? '';
    expect(socket).toMatch(/^mcc-smoke-/);
    // Each step prints the ticket row, the runtime row and the tmux view, and their agreement.
    const steps = out.split(/\n\[\d+\] /).slice(1);
    expect(steps.length).toBeGreaterThanOrEqual(6);
    for (const s of steps)
      for (const view of ['ticket   ', 'runtime  ', 'tmux     ', 'agree    yes']) expect(s).toContain(view);
    expect(out).toMatch(/\[2\] pickup while the agent is still booting[\s\S]*prompt {3}#1 pending/);
    expect(out).toMatch(/status=in_review/);
    expect(out).toMatch(/closed_reason="retired by operator"/);
    // Cleaned up: no private server socket, no temp dir.
    expect(existsSync(socketPath(socket))).toBe(false);
    expect(store.startsWith(tmpdir())).toBe(true);
    expect(existsSync(store)).toBe(false);
    expect(processesNaming(socket)).toEqual([]);
  });

  it('fails with a clear message (exit 2, usage) on a bad option, before making anything', async () => {
    const r = await execa(process.execPath, [SMOKE, '--bogus', '1'], { cwd: ROOT, reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain('smoke: unknown option "--bogus"');
  });
});

describe('npm run smoke, interrupted or failing', () => {
  it('on SIGINT mid-run it stops, removes its tmux server and temp dir, and exits 130', async () => {
    const { TMUX: _t, TMUX_PANE: _p, MCC_FAILPOINTS: _f, MCC_TMUX_BIN: _b, ...env } = process.env;
    // A long boot keeps it in the delivery passes while we interrupt it.
    const child = execa(process.execPath, [SMOKE, '--boot-ms', '20000'], {
      cwd: ROOT,
      env,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      'the smoke to reach its delivery passes',
      () => out,
      (o) => o.includes('-- pass 1'),
      30_000,
    );
    const socket = /tmux socket (\S+)/.exec(out)?.[1] ?? '';
    const store = /store (\S+)\/state\/mcc\.db/.exec(out)?.[1] ?? '';
    expect(existsSync(socketPath(socket))).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(String(r.stderr)).toContain('SIGINT: cleaning up');
    expect(existsSync(socketPath(socket))).toBe(false);
    expect(existsSync(store)).toBe(false);
    expect(processesNaming(socket)).toEqual([]);
  });

  it('exits 1 with a clear message when a step fails (tmux unusable), and still cleans up', async () => {
    const { TMUX: _t, TMUX_PANE: _p, MCC_FAILPOINTS: _f, ...env } = process.env;
    const r = await execa(process.execPath, [SMOKE], {
      cwd: ROOT,
      env: { ...env, MCC_TMUX_BIN: '/nonexistent/tmux' },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/smoke FAILED: mcc pickup MC-1 exited 1: .*tmux/);
    const store = /store (\S+)\/state\/mcc\.db/.exec(String(r.stdout))?.[1] ?? '';
    expect(store).not.toBe('');
    expect(existsSync(store)).toBe(false);
  });
});

function processesNaming(word: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(word) && pidAlive(Number(e));
      } catch {
        return false;
      }
    })
    .map(Number);
}
