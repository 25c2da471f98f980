// `npm run smoke`: an operator-runnable end-to-end check on a machine with tmux. It runs a no-op ticket
// through the real `mcc` binary on a throwaway store and a private tmux socket: add, pickup while the demo
// agent is still booting (the seed's busy start), reconcile passes until the prompt is delivered, the
// REVIEW marker, a quiet follow-up pass, and retire. After every step it prints the ticket row, the runtime
// row and what tmux shows, and stops with exit 1 the moment the three disagree. The temp dir and the private
// tmux server are always removed, also on failure and on SIGINT/SIGTERM. Never touches the default server.
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/bin.js');
const LIVE_STATUSES = ['running', 'idle', 'waiting'];

interface Options {
  bootMs: number;
  workMs: number;
  timeoutMs: number;
}

interface TicketRow {
  key: string;
  status: string;
  attempts: number;
  worker_pid: number | null;
  version: number;
}
interface RuntimeRow {
  id: number;
  status: string;
  tmux_session: string;
  pane_id: string | null;
  pid: number | null;
  closed_reason: string | null;
}
interface MessageRow {
  id: number;
  kind: string;
  status: string;
}
interface PaneView {
  id: string;
  pid: number;
  dead: boolean;
  lastLine: string;
}

/** What one step must show, on top of the general agreement of the three views. */
interface Expect {
  ticket: string | readonly string[];
  runtime: 'live' | 'none';
  /** `none`: no prompt row yet (before pickup); otherwise exactly one prompt row in this status. */
  prompt?: 'none' | 'pending' | 'sent';
}

class SmokeFailure extends Error {}

const SMOKE_SPEC: CommandSpec = {
  name: 'smoke',
  summary: 'An end-to-end check of the real binary on a throwaway store and a private tmux socket.',
  usage: 'npm run smoke -- [--boot-ms N] [--work-ms N] [--timeout S]',
  positionals: [],
  flags: {
    'boot-ms': {
      kind: 'number',
      help: 'how long the demo agent stays busy booting (default 3000; the pickup must meet it busy)',
    },
    'work-ms': { kind: 'number', help: 'how long it works on the prompt before printing REVIEW: (default 1000)' },
    timeout: { kind: 'number', arg: 'S', help: 'give up after S seconds per waiting step (default 30)' },
  },
};

/** The options, or null when help was asked for (and printed). Throws UsageError on bad usage. */
function parseOptions(argv: readonly string[]): Options | null {
  const { flags } = parseArgs(argv, SMOKE_SPEC, HELP_FLAG);
  if (flags['help']) {
    process.stdout.write(`${helpOf(SMOKE_SPEC, HELP_FLAG)}\n`);
    return null;
  }
  const atLeastZero = (name: string, fallback: number): number => {
    const v = flags[name];
    if (typeof v !== 'number') return fallback;
    if (v < 0) throw new UsageError(SMOKE_SPEC.name, `--${name} must be a number >= 0, got ${v}`);
    return v;
  };
  return {
    bootMs: atLeastZero('boot-ms', 3000),
    workMs: atLeastZero('work-ms', 1000),
    timeoutMs: atLeastZero('timeout', 30) * 1000,
  };
}

/** Control characters never reach the operator's terminal from a pane or a row. */
const clean = (s: string): string => s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?');

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

class Smoke {
  readonly dir = mkdtempSync(join(tmpdir(), 'mcc-smoke-'));
  readonly socket = `mcc-smoke-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  readonly db = join(this.dir, 'state', 'mcc.db');
  private readonly tmuxBin: string;
  private readonly env: NodeJS.ProcessEnv;
  private step = 0;
  private cleaning: Promise<void> | null = null;
  /** Children still running, so a signal can stop them before the tmux server is removed. */
  private readonly children = new Set<ResultPromise>();

  constructor(private readonly o: Options) {
    const config = join(this.dir, 'config.json');
    const demo = [
      process.execPath,
      BIN,
      'demo-agent',
      '--boot-ms',
      String(o.bootMs),
      '--work-ms',
      String(o.workMs),
      '--outcome',
      'review',
    ];
    writeFileSync(
      config,
      JSON.stringify(
        {
          defaultProfile: 'demo',
          profiles: {
            demo: {
              command: demo,
              ready: '^demo> ?$',
              busy: 'esc to interrupt',
              question: '^QUESTION:',
              interrupt: ['Escape'],
            },
          },
        },
        null,
        2,
      ),
    );
    const { TMUX: _t, TMUX_PANE: _p, MCC_FAILPOINTS: _f, ...env } = process.env;
    this.env = { ...env, MCC_DB: this.db, MCC_TMUX_SOCKET: this.socket, MCC_CONFIG: config, NO_COLOR: '1' };
    this.tmuxBin = env['MCC_TMUX_BIN'] || 'tmux';
  }

  async mcc(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
    if (this.cleaning) throw new SmokeFailure('stopped');
    const child = execa(process.execPath, [BIN, ...args], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
    this.children.add(child);
    const r = await child.finally(() => this.children.delete(child));
    const res = { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    process.stdout.write(`  $ mcc ${args.join(' ')} -> exit ${res.exitCode ?? r.signal}\n`);
    for (const l of `${res.stdout}\n${res.stderr}`.split('\n').filter((x) => x.trim()))
      process.stdout.write(`      ${clean(l)}\n`);
    return res;
  }

  async must(args: string[]): Promise<string> {
    const r = await this.mcc(args);
    if (r.exitCode !== 0) throw new SmokeFailure(`mcc ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  private async tmux(args: string[]): Promise<string | null> {
    if (this.cleaning) throw new SmokeFailure('stopped');
    const r = await execa(this.tmuxBin, ['-L', this.socket, ...args], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 10_000,
      stdin: 'ignore',
    });
    return r.exitCode === 0 ? String(r.stdout) : null;
  }

  private rows(key: string): {
    ticket: TicketRow;
    open: RuntimeRow[];
    latest: RuntimeRow | null;
    prompts: MessageRow[];
  } {
    const db = new Database(this.db, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const ticket = db.prepare('SELECT * FROM tickets WHERE key = ?').get(key) as TicketRow | undefined;
      if (!ticket) throw new SmokeFailure(`no ticket row ${key}`);
      const runtimes = db
        .prepare('SELECT * FROM runtime_sessions WHERE ticket_key = ? ORDER BY id')
        .all(key) as RuntimeRow[];
      const prompts = db
        .prepare("SELECT * FROM messages WHERE ticket_key = ? AND kind = 'prompt' ORDER BY id")
        .all(key) as MessageRow[];
      return {
        ticket,
        open: runtimes.filter((r) => r.status !== 'closed'),
        latest: runtimes[runtimes.length - 1] ?? null,
        prompts,
      };
    } finally {
      db.close();
    }
  }

  private async pane(session: string): Promise<PaneView | null> {
    const info = await this.tmux([
      'display-message',
      '-p',
      '-t',
      `=${session}:`,
      '#{pane_id} #{pane_pid} #{pane_dead}',
    ]);
    if (info === null) return null;
    const [id = '', pid = '0', dead = '0'] = info.trim().split(' ');
    const screen = (await this.tmux(['capture-pane', '-p', '-J', '-t', `=${session}:`])) ?? '';
    const lines = screen.split('\n').filter((l) => l.trim() !== '');
    return { id, pid: Number(pid), dead: dead === '1', lastLine: lines[lines.length - 1] ?? '' };
  }

  /** Print the three views of the ticket and fail on any disagreement between them or with `want`. */
  async check(key: string, want: Expect): Promise<{ pane: PaneView | null; prompt: MessageRow | undefined }> {
    const { ticket: t, open, latest, prompts } = this.rows(key);
    const session = `mc-${key}`;
    const pane = await this.pane(session);
    const r = open[0];
    const prompt = prompts[0];
    const shown = r ?? latest;
    const out = process.stdout;
    out.write(
      `  ticket   ${t.key} status=${t.status} attempts=${t.attempts} worker_pid=${t.worker_pid ?? '-'} version=${t.version}\n`,
    );
    out.write(
      shown
        ? `  runtime  #${shown.id} status=${shown.status} session=${shown.tmux_session} pane=${shown.pane_id ?? '-'} pid=${shown.pid ?? '-'}${shown.closed_reason ? ` closed_reason="${clean(shown.closed_reason)}"` : ''}\n`
        : '  runtime  (none)\n',
    );
    out.write(`  prompt   ${prompts.map((m) => `#${m.id} ${m.status}`).join(', ') || '(none)'}\n`);
    out.write(
      pane
        ? `  tmux     ${session} pane ${pane.id} pid ${pane.pid} ${pane.dead ? 'DEAD' : pidAlive(pane.pid) ? 'alive' : 'pid gone'}; screen: "${clean(pane.lastLine)}"\n`
        : `  tmux     no session ${session} on socket ${this.socket}\n`,
    );

    const bad: string[] = [];
    const tickets = typeof want.ticket === 'string' ? [want.ticket] : want.ticket;
    if (!tickets.includes(t.status)) bad.push(`ticket is ${t.status}, expected ${tickets.join(' or ')}`);
    if (open.length > 1) bad.push(`${open.length} open runtime rows for one ticket`);
    if (want.prompt === 'none') {
      if (prompts.length !== 0) bad.push(`${prompts.length} prompt rows before pickup`);
    } else if (prompts.length !== 1)
      bad.push(`${prompts.length} prompt rows (expected exactly 1: never lost, never doubled)`);
    if (want.prompt && want.prompt !== 'none' && prompt?.status !== want.prompt)
      bad.push(`prompt is ${prompt?.status ?? 'missing'}, expected ${want.prompt}`);
    if (r) {
      if (want.runtime === 'none') bad.push(`runtime #${r.id} is still open (${r.status})`);
      if (!LIVE_STATUSES.includes(r.status)) bad.push(`runtime #${r.id} is ${r.status}, not running/idle/waiting`);
      if (!pane) bad.push(`runtime #${r.id} is open but tmux has no session ${session}`);
      else {
        if (pane.dead) bad.push(`the pane of ${session} is dead while runtime #${r.id} is ${r.status}`);
        if (pane.pid !== r.pid) bad.push(`pane pid ${pane.pid} != recorded pid ${r.pid}`);
        if (pane.id !== r.pane_id) bad.push(`pane ${pane.id} != recorded pane ${r.pane_id}`);
      }
      if (r.pid === null || !pidAlive(r.pid)) bad.push(`recorded agent pid ${r.pid ?? '-'} is not a running process`);
      if (t.status === 'in_progress' && t.worker_pid !== r.pid)
        bad.push(`worker_pid ${t.worker_pid ?? '-'} != runtime pid ${r.pid}`);
      if (t.status === 'todo' || t.status === 'blocked') bad.push(`a live runtime is hidden behind ${t.status}`);
    } else {
      if (want.runtime === 'live') bad.push('no open runtime row');
      if (pane) bad.push(`session ${session} exists without an open runtime row`);
      if (t.status === 'in_progress') bad.push('ticket in_progress without a runtime');
    }
    if (bad.length > 0)
      throw new SmokeFailure(
        `step ${this.step}: ticket row, runtime row and tmux disagree:\n  - ${bad.join('\n  - ')}`,
      );
    out.write('  agree    yes\n');
    return { pane, prompt };
  }

  heading(text: string): void {
    this.step++;
    process.stdout.write(`\n[${this.step}] ${text}\n`);
  }

  /** Reconcile passes until `done`, checking agreement after each; fails at the deadline. */
  async passesUntil(key: string, what: string, want: Expect, done: () => boolean): Promise<void> {
    const deadline = Date.now() + this.o.timeoutMs;
    for (let pass = 1; ; pass++) {
      process.stdout.write(`  -- pass ${pass}\n`);
      await this.must(['reconcile']);
      await this.check(key, want);
      if (done()) return;
      if (Date.now() > deadline)
        throw new SmokeFailure(`step ${this.step}: no ${what} after ${this.o.timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async run(): Promise<void> {
    process.stdout.write(`mcc smoke: store ${this.db}, tmux socket ${this.socket} (private; removed at the end)\n`);
    this.heading('add a no-op ticket');
    const key = (
      await this.must(['add', 'smoke: no-op ticket', '--body', 'Do nothing. Report ready for review.'])
    ).trim();
    if (!/^MC-\d+$/.test(key)) throw new SmokeFailure(`mcc add printed ${JSON.stringify(key)}, not a key`);
    await this.check(key, { ticket: 'todo', runtime: 'none', prompt: 'none' });

    this.heading('pickup while the agent is still booting (busy)');
    const picked = await this.must(['pickup', key]);
    if (!picked.includes('prompt pending'))
      throw new SmokeFailure('pickup delivered at once: the agent was not busy, so the busy start was not exercised');
    const first = await this.check(key, { ticket: 'in_progress', runtime: 'live', prompt: 'pending' });
    if (first.pane && /demo> ?$/.test(first.pane.lastLine))
      process.stdout.write('  note     the agent is already ready; the next pass delivers\n');

    this.heading('reconcile passes until the prompt is delivered');
    await this.passesUntil(
      key,
      'prompt delivery',
      { ticket: 'in_progress', runtime: 'live' },
      () => this.rows(key).prompts[0]?.status === 'sent',
    );

    this.heading('reconcile passes until the agent prints REVIEW: (ticket in_review)');
    const review: Expect = { ticket: ['in_progress', 'in_review'], runtime: 'live', prompt: 'sent' };
    await this.passesUntil(key, 'REVIEW marker', review, () => this.rows(key).ticket.status === 'in_review');

    this.heading('one more pass: nothing to do (no repeated warning)');
    const quiet = await this.must(['reconcile', '--json']);
    const drift = (JSON.parse(quiet) as { findings: { drift: string | null }[] }).findings.filter(
      (f) => f.drift !== null,
    );
    if (drift.length > 0) throw new SmokeFailure(`a pass after healing still reports drift: ${JSON.stringify(drift)}`);
    await this.check(key, { ticket: 'in_review', runtime: 'live', prompt: 'sent' });

    this.heading('retire the runtime');
    await this.must(['retire', key]);
    await this.check(key, { ticket: 'in_review', runtime: 'none', prompt: 'sent' });

    this.heading('final state');
    await this.must(['show', key]);
    await this.check(key, { ticket: 'in_review', runtime: 'none', prompt: 'sent' });
    process.stdout.write('\nsmoke ok: ticket row, runtime row and tmux agreed at every step\n');
  }

  /**
   * Stop our children, then kill our private tmux server (by its -L name) until no process names the socket
   * any more (a tmux client of a killed child could otherwise start it again), and remove the temp dir.
   */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const c of this.children) c.kill('SIGKILL');
      await Promise.allSettled([...this.children]);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          execFileSync(this.tmuxBin, ['-L', this.socket, 'kill-server'], {
            stdio: 'ignore',
            env: this.env,
            timeout: 10_000,
          });
        } catch {
          // no server was started, or it is gone already
        }
        if (processesNaming(this.socket).length === 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const uid = process.getuid?.() ?? 0;
      rmSync(join(this.env['TMUX_TMPDIR'] || '/tmp', `tmux-${uid}`, this.socket), { force: true });
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

/** Live processes whose argv names `word` (our unique socket name): our tmux server and any stray client. */
function processesNaming(word: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(word) && pidAlive(Number(entry)))
        out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`smoke: ${e.message}\n${helpOf(SMOKE_SPEC, HELP_FLAG)}\n`);
    return 2;
  }
  if (!options) return 0;
  let smoke: Smoke | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nsmoke: ${signal}: cleaning up\n`);
    void (smoke?.cleanup() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  // `on`, not `once`: execa's exit hook re-raises a signal it believes nobody else handles, and a `once`
  // listener has already removed itself by the time that hook counts the listeners.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    smoke = new Smoke(options);
    await smoke.run();
    return 0;
  } catch (e) {
    // The signal handler sets it while run() is awaited.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (stopping) return new Promise<number>(() => undefined); // the signal handler exits
    const text = e instanceof SmokeFailure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`\nsmoke FAILED: ${clean(text)}\n`);
    return 1;
  } finally {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (!stopping) await smoke?.cleanup();
  }
}

void main().then((code) => {
  process.exitCode = code;
});
