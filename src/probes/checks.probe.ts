import type { CheckRequest, CheckRun, ChecksPort, GitEvidence } from '../core/checks.port.js';
import type { CommandRunner } from '../core/command-runner.port.js';

// Review checks as child processes. Each check gets its own process group so a check that forks (npm test
// runs a shell that runs node) is killed whole at its time limit; only a rolling tail of its output is
// kept, so a check that prints megabytes costs no memory. Git evidence goes through the command runner.

const GIT_TIMEOUT_MS = 10_000;
/** Refs a branch is compared with, in order: its upstream, then the usual trunk names. */
const BASE_CANDIDATES = ['@{upstream}', 'main', 'master', 'origin/main', 'origin/master'];

export class ChecksProbe implements ChecksPort {
  constructor(private readonly runner: CommandRunner) {}

  async run(req: CheckRequest): Promise<CheckRun> {
    const started = Date.now();
    const tail = new Tail(req.tailLines);
    const [file, ...args] = req.argv;
    if (file === undefined) return done(req, started, tail, null, false, 'empty argv');
    const limit = { hit: false };
    // Loaded when a check runs, not with the CLI's wiring.
    const { execa } = await import('execa');
    try {
      const child = execa(file, args, {
        cwd: req.cwd,
        stdin: 'ignore',
        all: true,
        buffer: false,
        reject: false,
        detached: true,
        encoding: 'utf8',
      });
      child.all.on('data', (chunk: Buffer | string) => tail.push(String(chunk)));
      const timer = setTimeout(() => {
        limit.hit = true;
        killGroup(child.pid);
      }, req.timeoutMs);
      const stop = (): void => killGroup(child.pid);
      req.signal?.addEventListener('abort', stop, { once: true });
      const r = await child.finally(() => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', stop);
      });
      // A check that exited may leave children behind in its group: they never outlive the check.
      killGroup(child.pid);
      if (limit.hit) return done(req, started, tail, null, true, `killed after ${req.timeoutMs} ms (time limit)`);
      if (req.signal?.aborted) return done(req, started, tail, null, false, 'stopped: the process running it exited');
      if (r.exitCode === undefined)
        return done(
          req,
          started,
          tail,
          null,
          false,
          r.signal ? `killed by ${r.signal}` : (r.code ?? 'could not start'),
        );
      return done(req, started, tail, r.exitCode, false, null);
    } catch (e) {
      return done(req, started, tail, null, limit.hit, e instanceof Error ? e.message : String(e));
    }
  }

  async git(cwd: string, opts: { maxLines: number }): Promise<GitEvidence | null> {
    const git = async (...args: string[]): Promise<string | null> => {
      const r = await this.runner.run({ file: 'git', args: ['-C', cwd, ...args], timeoutMs: GIT_TIMEOUT_MS });
      return r.exitCode === 0 && !r.failure ? r.stdout.trim() : null;
    };
    if ((await git('rev-parse', '--is-inside-work-tree')) !== 'true') return null;
    const branch = (await git('rev-parse', '--abbrev-ref', 'HEAD')) ?? 'HEAD';
    let base: string | null = null;
    let mergeBase: string | null = null;
    for (const ref of BASE_CANDIDATES) {
      if (ref === branch) continue;
      const mb = await git('merge-base', 'HEAD', ref);
      if (mb) {
        base = ref;
        mergeBase = mb;
        break;
      }
    }
    const lines = (text: string | null) => (text ? text.split('\n').filter((l) => l.trim() !== '') : []);
    const dirty = lines(await git('status', '--porcelain'));
    const uncommitted = dirty.length > 0 ? [`${dirty.length} uncommitted change(s) in the work tree`] : [];
    if (!base || !mergeBase) {
      return { branch, base: 'none found', diffStat: uncommitted, commits: [] };
    }
    const stat = lines(await git('diff', '--stat', mergeBase, 'HEAD'));
    const commits = lines(await git('log', '--oneline', '--no-decorate', `${mergeBase}..HEAD`));
    return {
      branch,
      base: `${base} (${mergeBase.slice(0, 12)})`,
      diffStat: [...stat.slice(-opts.maxLines), ...uncommitted],
      commits: commits.slice(0, opts.maxLines),
    };
  }
}

function done(
  req: CheckRequest,
  started: number,
  tail: Tail,
  exitCode: number | null,
  timedOut: boolean,
  error: string | null,
): CheckRun {
  return { argv: req.argv, exitCode, timedOut, durationMs: Date.now() - started, tail: tail.lines(), error };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone: nothing left to kill.
  }
}

/** The last `max` lines of a stream, without holding the rest. */
class Tail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    // A line with no newline for megabytes is still cut: the tail is evidence, not a log.
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
    for (const p of parts) this.kept.push(p);
    if (this.kept.length > this.max) this.kept.splice(0, this.kept.length - this.max);
  }

  lines(): string[] {
    const all = this.partial ? [...this.kept, this.partial] : [...this.kept];
    return all.filter((l) => l.trim() !== '').slice(-this.max);
  }
}
