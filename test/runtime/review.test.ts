// The review gate against the real binary, real tmux and real SQLite: checks run once per REVIEW: marker
// (even across a restart) and are recorded as evidence; approve, request changes and block from the CLI;
// idle review runtimes are retired and hold no slot; OVERDUE is said once.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { count, reconcileUntil, useHarness, waitFor, type Harness } from './helpers.js';

function setProfile(h: Harness, name: string, extra: Record<string, unknown>): void {
  const config = JSON.parse(readFileSync(h.configPath, 'utf8')) as { profiles: Record<string, object> };
  config.profiles[name] = { ...config.profiles[name], ...extra };
  writeFileSync(h.configPath, JSON.stringify(config, null, 2));
}

/** A git repo on branch `work`, one commit ahead of `main`, with three tiny node checks. */
function gitRepo(dir: string): string {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'ok.js'), "console.log('all good');\n");
  writeFileSync(
    join(repo, 'fail.js'),
    "console.log('compiling'); console.error('boom: 2 tests failed'); process.exit(3);\n",
  );
  writeFileSync(join(repo, 'hang.js'), "console.log('waiting forever'); setInterval(() => {}, 1000);\n");
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('checkout', '-q', '-b', 'work');
  writeFileSync(join(repo, 'feature.txt'), 'the feature\n');
  git('add', 'feature.txt');
  git('commit', '-q', '-m', 'add the feature');
  return repo;
}

const events = (h: Harness, key: string, kind: string) => h.events(key).filter((e) => e.kind === kind);

describe('review checks', () => {
  it('run once per REVIEW (even across a restart), pass and fail recorded as evidence, a hung one killed', async () => {
    const h = useHarness();
    const repo = gitRepo(h.dir);
    setProfile(h, 'demo', {
      cwd: repo,
      checks: [
        [process.execPath, 'ok.js'],
        [process.execPath, 'fail.js'],
        [process.execPath, 'hang.js'],
      ],
      checkTimeoutSeconds: 1,
    });
    const key = await h.add('feature with checks');
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the REVIEW marker', () => h.ticket(key).status === 'in_review');
    expect(h.ticket(key).review_checks).toBe('pending');
    // A plain reconcile never runs checks: they run beside the daemon's passes.
    expect(events(h, key, 'review.checks')).toEqual([]);

    const first = await h.mcc(['--auto', '--once']);
    expect(first.exitCode, first.stderr).toBe(0);
    const [ev] = events(h, key, 'review.checks');
    expect(ev?.status).toBe('error');
    const artifacts = JSON.parse(ev?.artifacts ?? '[]') as string[];
    const text = artifacts.join('\n');
    expect(text).toContain('check ok: ');
    expect(text).toMatch(/check FAILED: .*fail\.js: exit 3/);
    expect(text).toContain('  | boom: 2 tests failed');
    expect(text).toMatch(/check FAILED: .*hang\.js: timed out after/);
    expect(text).toContain('  | waiting forever');
    expect(text).toContain('git: branch work against main');
    expect(text).toContain('feature.txt');
    expect(text).toMatch(/commit: [0-9a-f]+ add the feature/);
    expect(ev?.summary).toContain('failed (2 of 3)');
    expect(h.ticket(key).review_checks).toBe('failed');

    // A restart (another daemon run) does not run them again.
    await h.must(['--auto', '--once']);
    expect(events(h, key, 'review.checks')).toHaveLength(1);
    expect(events(h, key, 'review.checks_started')).toHaveLength(1);

    // Checks a crashed process left `running` are recorded as interrupted, never run a second time.
    h.sql(
      "UPDATE tickets SET review_checks = 'running', review_checks_at = ? WHERE key = ?",
      '2000-01-01T00:00:00.000Z',
      key,
    );
    await h.must(['--auto', '--once']);
    expect(events(h, key, 'review.checks_started')).toHaveLength(1);
    expect(events(h, key, 'review.checks').at(-1)?.summary).toContain('interrupted');
    expect(h.ticket(key).review_checks).toBe('failed');

    // Approve: refused while the checks failed (3), recorded as an override when forced.
    const refused = await h.mcc(['approve', key]);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('failed');
    expect(h.ticket(key).status).toBe('in_review');
    await h.must(['approve', key, '--override']);
    expect(h.ticket(key).status).toBe('done');
    const approved = events(h, key, 'review.approve')[0];
    expect(approved?.summary).toContain('overrode');
    expect(approved?.artifacts).toContain('override:yes');
  }, 60_000);

  it('passing checks let approve through without override', async () => {
    const h = useHarness();
    const repo = gitRepo(h.dir);
    setProfile(h, 'demo', { cwd: repo, checks: [[process.execPath, 'ok.js']] });
    const key = await h.add('clean feature');
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the REVIEW marker', () => h.ticket(key).status === 'in_review');
    await h.must(['--auto', '--once']);
    const [ev] = events(h, key, 'review.checks');
    expect(ev?.status).toBe('ok');
    expect(ev?.summary).toBe('review checks passed (1/1)');
    await h.must(['approve', key]);
    expect(h.ticket(key).status).toBe('done');
  }, 60_000);
});

describe('request changes, block, idle review runtimes', () => {
  it('changes reach the live agent once, then a fresh one after the idle runtime was retired; block; exit codes', async () => {
    const h = useHarness();
    setProfile(h, 'demo', { reviewIdleSeconds: 600 });
    const key = await h.add('needs a second round');
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the REVIEW marker', () => h.ticket(key).status === 'in_review');
    const [first] = h.openRuntimes(key);

    // An idle review runtime holds no slot: --max-runtimes 1 still picks up another ticket.
    const other = await h.add('another ticket');
    await h.must(['--auto', '--once', '--pickup', '--max-runtimes', '1']);
    expect(h.ticket(other).status).toBe('in_progress');
    await h.must(['retire', other]);

    const usage = await h.mcc(['changes', key]);
    expect(usage.exitCode).toBe(2);
    expect((await h.mcc(['changes', 'MC-999', 'x'])).exitCode).toBe(4);

    // Live agent: in_progress, text delivered exactly once, same runtime.
    {
      expect(h.ticket(key).status).toBe('in_review');
      await h.must(['changes', key, 'please rename the flag']);
      expect(h.ticket(key).status).toBe('in_progress');
      await reconcileUntil(h, 'the changes to be sent', () =>
        h.messages(key).some((m) => m.kind === 'operator' && m.status === 'sent'),
      );
      const screen = await waitFor(
        'the agent to echo the changes',
        () => h.capture(session),
        (s) => s.includes('[demo] prompt 2 received'),
      );
      expect(count(screen, '[demo] prompt 2 received')).toBe(1);
      expect(h.openRuntimes(key)[0]?.id).toBe(first?.id);
      await reconcileUntil(h, 'the second REVIEW marker', () => h.ticket(key).status === 'in_review');
    }

    // Idle past reviewIdleSeconds: retired, the ticket stays in review.
    setProfile(h, 'demo', { reviewIdleSeconds: 1 });
    await reconcileUntil(h, 'the idle review runtime to be retired', () => h.openRuntimes(key).length === 0);
    expect(h.ticket(key).status).toBe('in_review');
    expect(await h.hasSession(session)).toBe(false);

    // Request changes now starts a fresh runtime; the text follows its prompt, once.
    const fresh = await h.must(['changes', key, 'and add a test']);
    expect(fresh.stdout).toContain('fresh');
    const [second] = h.openRuntimes(key);
    expect(second?.id).not.toBe(first?.id);
    await reconcileUntil(h, 'the changes to reach the fresh agent', () =>
      h
        .messages(key)
        .filter((m) => m.kind === 'operator')
        .every((m) => m.status === 'sent'),
    );
    const screen = await waitFor(
      'the fresh agent to echo its prompt and the changes',
      () => h.capture(session),
      (s) => s.includes('[demo] prompt 2 received'),
    );
    expect(count(screen, '[demo] prompt 1 received')).toBe(1);
    expect(count(screen, '[demo] prompt 2 received')).toBe(1);

    const blocked = await h.mcc(['block', key, 'waiting for the API team']);
    expect(blocked.exitCode, blocked.stderr).toBe(0);
    expect(h.ticket(key).status).toBe('blocked');
    expect(h.ticket(key).blocked_reason).toBe('waiting for the API team');
    expect((await h.mcc(['block', key, 'again'])).exitCode).toBe(3);
  }, 90_000);

  it('OVERDUE: one warning event, not one per pass', async () => {
    const h = useHarness({ profiles: { slow: { workMs: 60_000 } } });
    const key = await h.add('slow work', ['--profile', 'slow', '--check-in', '1s']);
    expect((await h.mcc(['add', 'x', '--check-in', 'soon'])).exitCode).toBe(2);
    await h.must(['pickup', key]);
    await reconcileUntil(h, 'the OVERDUE warning', () => events(h, key, 'ticket.overdue').length > 0);
    await h.must(['reconcile']);
    await h.must(['reconcile']);
    expect(events(h, key, 'ticket.overdue')).toHaveLength(1);
    expect((await h.must(['show', key])).stdout).toContain('OVERDUE');
  }, 60_000);
});
