import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCommandRunner } from '../probes/command-runner.node.js';
import { TmuxControlClient } from '../probes/tmux-control.js';
import { TmuxProbe } from '../probes/tmux.probe.js';
import { clockTicks, ownTicks, treeTicks } from './proc.js';

// What listening for tmux's pushes costs while nothing happens (issue 12), printed, never asserted:
// `node dist/bench/push-idle.js [sessions] [seconds]`. On a private socket with N idle sessions, the CPU of the
// tmux server, of our control client (its watchdog sh and `tmux -C`) and of this node process over the same
// window: with no control client, with one that only hears notifications, and with one that also holds the
// pane-death subscription (which tmux expands once a second over every pane).

const sessions = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 10);
if (!Number.isInteger(sessions) || sessions < 1 || !(seconds > 0)) {
  process.stderr.write('usage: node dist/bench/push-idle.js [sessions >= 1] [seconds > 0]\n');
  process.exit(2);
}

const socket = `mcc-bench-push-${process.pid}-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'mcc-push-'));
const { TMUX: _t, TMUX_PANE: _p, ...env } = process.env;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { env, encoding: 'utf8' });

interface Phase {
  name: string;
  server: number;
  client: number | null;
  node: number;
  hints: number;
}

async function phase(name: string, watch: 'none' | 'notifications' | 'subscription', serverPid: number) {
  let client: TmuxControlClient | null = null;
  let hints = 0;
  if (watch !== 'none') {
    client = new TmuxControlClient({ bin: 'tmux', socket, timeoutMs: 10_000, watchPanes: watch === 'subscription' });
    client.onChange(() => hints++);
    const r = await client.run(['display-message', '-p', 'attached']);
    if (r.kind !== 'answered') throw new Error(`control client: ${JSON.stringify(r)}`);
  }
  // Let the attach and the subscription's first value settle before the window opens.
  await new Promise((r) => setTimeout(r, 1500));
  const pid = client?.pid;
  const s0 = ownTicks(serverPid) ?? 0;
  const total = (t: ReturnType<typeof treeTicks>): number => (t === null ? 0 : t.own + t.children);
  const c0 = pid !== undefined ? total(treeTicks(pid)) : 0;
  const n0 = process.cpuUsage();
  const h0 = hints;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const n = process.cpuUsage(n0);
  const result: Phase = {
    name,
    server: (ownTicks(serverPid) ?? 0) - s0,
    client: pid !== undefined ? total(treeTicks(pid)) - c0 : null,
    node: (n.user + n.system) / 1000,
    hints: hints - h0,
  };
  // close() waits on unref'd handles only: keep the loop alive through it.
  const keep = setInterval(() => undefined, 1000);
  await client?.close();
  clearInterval(keep);
  return result;
}

try {
  const probe = new TmuxProbe({ socket, runner: new NodeCommandRunner(), configFile: join(dir, 'tmux.conf') });
  for (let i = 0; i < sessions; i++) {
    const r = await probe.newSession({ session: `idle-${i}`, argv: ['sleep', '3600'] });
    if (!r.ok) throw new Error(r.message);
  }
  const serverPid = Number(tmux('display-message', '-p', '#{pid}').trim());
  const msPerTick = 1000 / clockTicks();
  const rows: Phase[] = [];
  // Twice each, interleaved, so a neighbour's load does not land on one phase only.
  for (let round = 0; round < 2; round++) {
    rows.push(await phase('no control client', 'none', serverPid));
    rows.push(await phase('notifications only', 'notifications', serverPid));
    rows.push(await phase('notifications + subscription', 'subscription', serverPid));
  }
  process.stdout.write(`${sessions} idle sessions, ${seconds} s per window, CPU in ms (tick = ${msPerTick} ms)\n`);
  for (const r of rows) {
    const client = r.client === null ? '-' : String(r.client * msPerTick);
    process.stdout.write(
      `${r.name.padEnd(30)} server ${String(r.server * msPerTick).padStart(5)}  client ${client.padStart(5)}  ` +
        `node ${r.node.toFixed(1).padStart(6)}  hints ${r.hints}\n`,
    );
  }
} finally {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  // kill-server leaves the socket file behind.
  rmSync(join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
  rmSync(dir, { recursive: true, force: true });
}
