// Real agent CLIs for `npm run test:agents`: installed from npm into the ignored .cache/agents/<name>
// folder (never a dependency of mcc), run in tmux on a private socket with an isolated HOME and no network,
// their screens captured as plain text. Exported so a "real pickup against the real binary" test can reuse
// the install, the env and the pane helpers.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { makeTmuxSocket, type TmuxSocket } from '../helpers/tmux-socket.js';

const execFileP = promisify(execFile);

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const AGENTS_CACHE = join(REPO_ROOT, '.cache', 'agents');

export type AgentName = 'claude' | 'codex' | 'gemini' | 'opencode';

export interface AgentSpec {
  name: AgentName;
  /** The npm package that ships the CLI (its native binary comes as an optional dependency). */
  pkg: string;
  bin: string;
}

export const AGENTS: Record<AgentName, AgentSpec> = {
  claude: { name: 'claude', pkg: '@anthropic-ai/claude-code', bin: 'claude' },
  codex: { name: 'codex', pkg: '@openai/codex', bin: 'codex' },
  gemini: { name: 'gemini', pkg: '@google/gemini-cli', bin: 'gemini' },
  opencode: { name: 'opencode', pkg: 'opencode-ai', bin: 'opencode' },
};

/** Where the agent's launcher is once installed. */
export function agentBin(name: AgentName): string {
  return join(AGENTS_CACHE, name, 'node_modules', '.bin', AGENTS[name].bin);
}

/**
 * Install the agent into .cache/agents/<name> unless it is there. npm 11 skips install scripts not listed in
 * allowScripts; these packages ship the native binary in an optional dependency, so they start without them.
 */
export async function ensureAgent(name: AgentName): Promise<string> {
  const bin = agentBin(name);
  if (existsSync(bin)) return bin;
  const prefix = join(AGENTS_CACHE, name);
  mkdirSync(prefix, { recursive: true });
  await execFileP('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', AGENTS[name].pkg], {
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!existsSync(bin)) throw new Error(`npm installed ${AGENTS[name].pkg} but ${bin} is missing`);
  return bin;
}

/** The installed package's version (from its package.json, so no network and no agent start). */
export async function agentVersion(name: AgentName): Promise<string> {
  const pkgJson = join(AGENTS_CACHE, name, 'node_modules', ...AGENTS[name].pkg.split('/'), 'package.json');
  const mod = (await import(pkgJson, { with: { type: 'json' } })) as { default: { version: string } };
  return mod.default.version;
}

export interface IsolatedHome {
  home: string;
  /** The agent's working directory, `~/proj`. */
  proj: string;
  env: Record<string, string>;
  /** Kill what still runs with this HOME, then remove it. */
  cleanup(): void;
}

/**
 * Processes started with this exact HOME. Agents leave some behind after their pane is gone: Codex
 * daemonizes `codex app-server`, Gemini relaunches itself after the trust dialog, opencode runs npm in
 * HOME. The temp HOME is unique, so matching it selects only what this harness started.
 */
export function strayPids(home: string): number[] {
  const needle = `HOME=${home}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`${readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

function killStrays(home: string): void {
  for (const pid of strayPids(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/**
 * A fresh HOME under the system temp dir with a `proj` folder, and an environment built from nothing but
 * what an agent needs: no proxy, no token, nothing of the caller's. TMPDIR points inside HOME because Codex
 * refuses to put its helpers in a HOME under the temp dir.
 */
export function isolatedHome(name: string, extraEnv: Record<string, string> = {}): IsolatedHome {
  const home = mkdtempSync(join(tmpdir(), `mcc-agents-home-${name}-`));
  const proj = join(home, 'proj');
  mkdirSync(proj);
  mkdirSync(join(home, 'tmp'));
  const env = {
    HOME: home,
    TMPDIR: join(home, 'tmp'),
    PATH: '/usr/local/bin:/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    ...extraEnv,
  };
  return {
    home,
    proj,
    env,
    cleanup: () => {
      killStrays(home);
      rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

/** Write a file under HOME (e.g. a settings file that skips onboarding), creating its folders. */
export function seedFile(h: IsolatedHome, rel: string, text: string): void {
  const path = join(h.home, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

export interface AgentPane {
  socket: TmuxSocket;
  target: string;
  capture(): Promise<string[]>;
  sendKeys(keys: string[]): Promise<void>;
  /** Type text literally, without submitting it. */
  type(text: string): Promise<void>;
  dead(): Promise<boolean>;
  cleanup(): Promise<void>;
}

/** Start argv (an array, never a shell string) in a detached session of a private tmux server. */
export async function startPane(
  argv: string[],
  h: IsolatedHome,
  size: { cols: number; rows: number },
): Promise<AgentPane> {
  const socket = makeTmuxSocket('mcc-agents');
  const target = 'agent:0.0';
  const envArgs = Object.entries(h.env).map(([k, v]) => `${k}=${v}`);
  await socket.tmux(
    ['-f', '/dev/null', 'new-session', '-d', '-s', 'agent', '-x', String(size.cols)].concat([
      '-y',
      String(size.rows),
      '-c',
      h.proj,
      'env',
      '-i',
      ...envArgs,
      ...argv,
    ]),
  );
  await socket.tmux(['set-option', '-t', 'agent', 'remain-on-exit', 'on']);
  return {
    socket,
    target,
    capture: async () => (await socket.tmux(['capture-pane', '-p', '-J', '-t', target])).stdout.split('\n'),
    sendKeys: async (keys) => void (await socket.tmux(['send-keys', '-t', target, ...keys])),
    type: async (text) => void (await socket.tmux(['send-keys', '-t', target, '-l', text])),
    dead: async () =>
      (await socket.tmux(['display-message', '-p', '-t', target, '#{pane_dead}'])).stdout.trim() === '1',
    cleanup: () => socket.cleanup(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll the pane until `until` holds for its lines, then until the screen has been unchanged for `settleMs`
 * (0 = capture at once, e.g. a busy spinner). Returns the last capture and how long it had been unchanged.
 */
export async function waitForScreen(
  pane: AgentPane,
  until: (lines: string[]) => boolean,
  opts: { timeoutMs?: number; settleMs?: number } = {},
): Promise<{ lines: string[]; quietForMs: number | null }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const settleMs = opts.settleMs ?? 1500;
  let last = '';
  let since = Date.now();
  let seen = false;
  for (;;) {
    const lines = await pane.capture();
    const text = lines.join('\n');
    if (text !== last) [last, since] = [text, Date.now()];
    seen ||= until(lines);
    if (seen && settleMs === 0) return { lines, quietForMs: null };
    if (seen && Date.now() - since >= settleMs) return { lines, quietForMs: Date.now() - since };
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for the screen; last screen:\n${text}`);
    }
    await sleep(250);
  }
}

/**
 * Replace what is specific to this machine and run with stable placeholders of the same width, so boxes keep
 * their borders: the temp HOME becomes /tmp/mcc-agents-home-<name>-XXXXXX, a tmux date a fixed one.
 */
export function sanitizeScreen(lines: string[], h: IsolatedHome): string {
  const name = basename(h.home);
  const stable = name.slice(0, -6) + 'XXXXXX';
  return lines
    .join('\n')
    .split(h.home)
    .join(join('/tmp', stable))
    .split(name)
    .join(stable)
    .replace(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\b/g, 'Thu Jan  1 00:00:00 2026')
    .replace(/\n+$/, '\n');
}
