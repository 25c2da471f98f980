// Why mcc's `auto` mode never attaches a control client to tmux before 3.7. Found by the concurrency test and
// the kernel log (tmux 3.3a: "segfault at 20 ... in tmux", 32 times in 20 minutes of control-mode runs): a
// client that has sent IDENTIFY_FLAGS with CLIENT_CONTROL but not yet IDENTIFY_DONE has no control state, yet
// the server writes notifications to it and dies, with every session, at the first one. A real `tmux -C`
// passes through that window on every connect; a loaded machine delivers its identify messages in separate
// reads. Fixed upstream by e5a2a25 (tmux GitHub issue 4980, in 3.7). This test holds a client in that window
// on purpose, so it does not depend on luck, and checks the verdict `controlModeSafe` gives this tmux.
import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { describe, it } from 'vitest';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';
import { controlModeSafe } from '../../src/probes/tmux-control-protocol.js';
import { TmuxProbe } from '../../src/probes/tmux.probe.js';
import { makeTmuxSocket } from '../helpers/tmux-socket.js';
import { waitFor } from '../helpers/wait.js';

const PROTOCOL_VERSION = 8;
const MSG_IDENTIFY_FLAGS = 100;
const CLIENT_CONTROL = 0x2000;

/** One imsg: type, length (header included), flags, peer id (the protocol version), pid; then the data. */
function imsg(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(type, 0);
  head.writeUInt16LE(16 + data.length, 4);
  head.writeUInt16LE(0, 6);
  head.writeUInt32LE(PROTOCOL_VERSION, 8);
  head.writeUInt32LE(0xffffffff, 12);
  return Buffer.concat([head, data]);
}

describe('tmux control clients and the server (why auto mode checks the version)', { timeout: 60_000 }, () => {
  it('a control client caught between IDENTIFY_FLAGS and IDENTIFY_DONE kills a tmux before 3.7 at the next notification; auto mode runs exec there', async ({
    expect,
    onTestFinished,
  }) => {
    const sock = makeTmuxSocket('mcc-ctl-crash');
    onTestFinished(() => sock.cleanup());
    const version = execFileSync('tmux', ['-V'], { encoding: 'utf8' });
    const verdict = controlModeSafe(version);
    await sock.tmux(['new-session', '-d', '-s', 'mc-MC-1', 'sleep', '600']);

    const half = createConnection(sock.path);
    onTestFinished(() => {
      half.destroy();
    });
    await new Promise<void>((resolve, reject) => half.once('connect', resolve).once('error', reject));
    const flags = Buffer.alloc(4);
    flags.writeInt32LE(CLIENT_CONTROL, 0);
    half.write(imsg(MSG_IDENTIFY_FLAGS, flags));

    // Each new session is a notification to every control client, ours included.
    let n = 1;
    const alive = async (): Promise<boolean> => {
      try {
        await sock.tmux(['new-session', '-d', '-s', `mc-MC-${++n}`, 'sleep', '600']);
        return true;
      } catch {
        return false;
      }
    };
    if (verdict.safe) {
      // A fixed tmux skips the half-identified client: the server takes every new session.
      for (let i = 0; i < 10; i++) expect(await alive()).toBe(true);
    } else {
      await waitFor('the tmux server to die', alive, (up) => !up, 10_000);
      await expect(sock.tmux(['list-sessions'])).rejects.toThrow(/no server running|Connection refused|server exited/);
    }

    // The probe mcc builds (`auto`) draws the same conclusion from `tmux -V` and never attaches a client there.
    const probe = new TmuxProbe({ socket: sock.name, runner: new NodeCommandRunner(), mode: 'auto' });
    onTestFinished(() => probe.close());
    const mode = await probe.controlMode();
    expect(mode.on).toBe(verdict.safe);
    expect(mode.why).toContain(version.trim());
  });
});
