// End to end: the compiled binary in a real pseudo-terminal (80x24), its output parsed by a headless
// terminal emulator. Loads the demo tickets, picks one up, quits with q: exit 0, and the agent's tmux
// session is still alive (quitting never touches runtimes). dist/ is built by the suite's globalSetup.
import xterm from '@xterm/headless';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { commandOf, keySequence, type CommandId } from '../../src/ui/keymap.js';
import { BIN, ROOT } from '../global-setup.js';
import { makeTmpDir, type TmpDir } from '../helpers/tmp.js';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';

const { Terminal } = xterm;
const COLS = 80;
const ROWS = 24;
// The executable entry (bin.js runs main); main.js when that is what package.json's bin points at.
const ENTRY = BIN;

interface Session {
  proc: pty.IPty;
  term: InstanceType<typeof Terminal>;
  exit: Promise<number>;
}

let sock: TmuxSocket | null = null;
let dir: TmpDir | null = null;
let session: Session | null = null;

afterEach(async () => {
  if (session) {
    try {
      session.proc.kill();
    } catch {
      // already exited
    }
    session.term.dispose();
  }
  session = null;
  await sock?.cleanup();
  dir?.cleanup();
  sock = null;
  dir = null;
});

function screen(term: InstanceType<typeof Terminal>): string[] {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
  return lines.slice(buf.baseY, buf.baseY + ROWS);
}

/** Whether any visible line wrapped onto the next row (the console must never let that happen). */
function anyWrapped(term: InstanceType<typeof Terminal>): boolean {
  const buf = term.buffer.active;
  for (let i = buf.baseY; i < buf.baseY + ROWS; i++) if (buf.getLine(i)?.isWrapped) return true;
  return false;
}

async function waitForScreen(
  s: Session,
  predicate: (lines: string[]) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = screen(s.term);
    if (predicate(lines)) return lines;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pressKey(s: Session, id: CommandId): void {
  s.proc.write(keySequence(commandOf(id).keys[0] ?? ''));
}

function start(env: NodeJS.ProcessEnv): Session {
  const proc = pty.spawn(process.execPath, [ENTRY], {
    name: 'xterm-256color',
    cols: COLS,
    rows: ROWS,
    cwd: ROOT,
    env,
  });
  const term = new Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  proc.onData((d) => term.write(d));
  const exit = new Promise<number>((resolve) => proc.onExit((e) => resolve(e.exitCode)));
  return { proc, term, exit };
}

const row = (lines: string[], key: string) => lines.find((l) => new RegExp(`^[ >] ${key} `).test(l)) ?? '';

describe('console end to end (compiled binary, real pty, real tmux)', () => {
  it('loads demo tickets, picks one up, and quits with q leaving the agent running', async () => {
    dir = makeTmpDir('mcc-e2e-');
    sock = makeTmuxSocket('mcc-e2e');
    const config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({ ttlSeconds: 2, intervalSeconds: 0.2 }));
    // Ink renders non-interactively when CI is set; the console must be tested as an operator runs it.
    const { CI: _ci, TMUX: _tmux, TMUX_PANE: _pane, ...base } = sock.env;
    session = start({
      ...base,
      TERM: 'xterm-256color',
      MCC_DB: join(dir.path, 'mc.db'),
      MCC_TMUX_SOCKET: sock.name,
      MCC_CONFIG: config,
    });
    const s = session;

    await waitForScreen(
      s,
      (l) => l.some((x) => x.includes('No tickets yet.')) && l.some((x) => x.startsWith('observed')),
      'the empty console',
    );
    pressKey(s, 'demo.load');
    await waitForScreen(s, (l) => row(l, 'MC-3') !== '', 'three demo tickets');
    pressKey(s, 'ticket.pickup');
    // The grid can show the runtime (a poll) a moment before the key's own result reaches the status line.
    const picked = await waitForScreen(
      s,
      (l) =>
        /in_progress\s+(running|idle)\s/.test(row(l, 'MC-1')) &&
        l.some((x) => x.includes('pickup: MC-1 started in mc-MC-1')),
      'MC-1 running or idle, and the pickup result on the status line',
    );
    expect(anyWrapped(s.term)).toBe(false);
    for (const l of picked) expect(l.length).toBeLessThanOrEqual(COLS);

    pressKey(s, 'app.quit');
    expect(await s.exit).toBe(0);
    // Quitting never touches runtimes: the agent's session is still there.
    await sock.tmux(['has-session', '-t', '=mc-MC-1']);
  }, 90_000);
});
