// Issue 9 on real tmux and the compiled binary: the readiness gate judged on agent screens that are not the
// plain demo prompt. An agent that boots behind a busy line left in scrollback, an input box with an animated
// spinner above it, a question answered while the finished busy line is still on screen, a sign-in menu that
// never becomes ready, large hostile prompts (into the demo agent and into a `cat`-like program), and an agent
// that exits at once. The demo agent's own logs say what reached it: every prompt it accepted, and every byte
// that arrived while it was not ready.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type ExpectStatic } from 'vitest';
import { promptOf } from '../../src/core/service.js';
import { inertForPaste } from '../../src/core/sanitize.js';
import { DEMO_SIGNIN_PATTERN } from '../../src/demo-agent/layouts.js';
import {
  count,
  jsonLines,
  ms,
  ROOT,
  reconcileUntil,
  startDaemon,
  useHarness,
  waitFor,
  type EventRow,
  type Harness,
  type MessageRow,
} from './helpers.js';

const CAT_AGENT = join(ROOT, 'test/runtime/fixtures/cat-agent.mjs');
const CAT_OUT = 'cat-received.jsonl';

const rowsOf = (h: Harness, key: string, kind: MessageRow['kind']): MessageRow[] =>
  h.messages(key).filter((m) => m.kind === kind);
const eventsOf = (h: Harness, key: string, kind: string): EventRow[] => h.events(key).filter((e) => e.kind === kind);

/** The prompt mcc queues for a ticket (promptOf of the ticket row) and the text it types (made inert). */
function promptText(h: Harness, key: string): { queued: string; typed: string } {
  const t = h.ticket(key);
  const queued = promptOf({ key: t.key, title: t.title, body: t.body });
  return { queued, typed: inertForPaste(queued) };
}

/** The agent accepted exactly the ticket's prompt, once, then `after` (answers), each once. */
function expectPrompts(
  expect: ExpectStatic,
  h: Harness,
  key: string,
  accepted: readonly { text: string }[],
  after: string[] = [],
): void {
  const { queued, typed } = promptText(h, key);
  expect(rowsOf(h, key, 'prompt').map((m) => [m.body, m.status])).toEqual([[queued, 'sent']]);
  expect(accepted.map((p) => p.text)).toEqual([typed, ...after]);
}

/** The last `n` non-empty lines of a screen. */
const lastLines = (screen: string, n: number): string[] =>
  screen
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n);

/** Deadline for waits on an agent or a run of passes: generous, the machine may be loaded. */
const LONG = 40_000;
/** Probe interval of the waits: each probe opens the store or runs tmux, and the machine is shared. */
const POLL = 100;

// Concurrent: most of each test is waiting on an agent's timers and quiet windows, not on the CPU. The passes
// that must land inside a window are run by `mcc --auto` (cheap, in one process) or checked against the clock.
describe.concurrent('issue 9: the readiness gate on real agent screens', { timeout: 150_000 }, () => {
  it('delivers once, after boot, to an agent whose busy line stays in scrollback (mcc --auto)', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      { profiles: { sb: { layout: 'scrollback', bootMs: 10_000, workMs: 500, logs: true } } },
      { onTestFinished },
    );
    const key = await h.add('boots behind a busy line', ['--profile', 'sb', '--body', 'Fix the flaky test.']);
    const session = `mc-${key}`;
    // The daemon runs first, so its passes meet the agent while it boots.
    const daemon = startDaemon(h);
    await daemon.passes(1, LONG);
    await h.must(['pickup', key]);
    // The agent's process may take seconds to print anything on a loaded machine: count passes from its boot line.
    await waitFor(
      'the boot line',
      () => h.capture(session),
      (s) => s.includes('booting… (esc to interrupt)'),
      LONG,
      POLL,
    );
    await daemon.passes(2, LONG);
    const booting = await h.capture(session);
    expect(booting).toContain('booting… (esc to interrupt)');
    expect(booting, 'the test needs passes while the agent boots (no prompt yet)').not.toMatch(/^demo> ?$/m);
    expect(rowsOf(h, key, 'prompt').map((m) => m.status)).toEqual(['pending']);

    await waitFor(
      'the daemon to deliver the prompt and the agent to finish it',
      () => h.ticket(key).status,
      (s) => s === 'in_review',
      LONG,
      POLL,
    );
    await daemon.passes(2, LONG);
    const stopped = await daemon.stop();
    expect(stopped.exitCode, stopped.stderr).toBe(0);

    const screen = await h.capture(session);
    // The boot line stayed above the prompt the text was typed into.
    expect(screen.indexOf('booting… (esc to interrupt)')).toBeLessThan(screen.indexOf('[demo] prompt 1 received'));
    expect(count(screen, '[demo] prompt 1 received')).toBe(1);
    const logs = h.demoLogs('sb');
    expect(logs.inputs, 'nothing may be typed while the agent boots').toEqual([]);
    expectPrompts(expect, h, key, logs.prompts);
    expect(eventsOf(h, key, 'message.not_ready')).toEqual([]);
  });

  it('delivers once, after boot, to an input box whose spinner animates above it (mcc reconcile)', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        profiles: {
          box: {
            layout: 'box',
            footer: 'both',
            ready: '^│ > +│$',
            promptLines: 4,
            // Long enough for one-shot passes to land in it on a loaded machine.
            bootMs: 10_000,
            workMs: 500,
            logs: true,
          },
        },
      },
      { onTestFinished },
    );
    const key = await h.add('boots under an input box', ['--profile', 'box']);
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    await waitFor(
      'the spinner above the box',
      () => h.capture(session),
      (s) => s.includes('Booting…'),
      LONG,
      POLL,
    );

    // One-shot passes (a fresh process dates the screen by tmux's window activity) while the empty box shows
    // under the spinner: the box looks ready, the agent is not.
    let passesWhileBooting = 0;
    const passTimes: number[] = [];
    for (;;) {
      const started = Date.now();
      await h.must(['reconcile']);
      passTimes.push(Date.now() - started);
      if (!(await h.capture(session)).includes('Booting…')) break;
      // This pass read a booting screen: it must not have typed.
      passesWhileBooting++;
      expect(rowsOf(h, key, 'prompt').map((m) => m.status)).toEqual(['pending']);
    }
    expect(
      passesWhileBooting,
      `the test needs passes during the boot (passes took ${passTimes.join(', ')} ms)`,
    ).toBeGreaterThan(0);

    await reconcileUntil(h, 'the prompt to be sent', () => rowsOf(h, key, 'prompt')[0]?.status === 'sent', LONG);
    await reconcileUntil(h, 'the REVIEW marker', () => h.ticket(key).status === 'in_review', LONG);
    const logs = h.demoLogs('box');
    expect(logs.inputs, 'nothing may be typed while the agent boots').toEqual([]);
    expectPrompts(expect, h, key, logs.prompts);
    expect(count(await h.capture(session), '[demo] prompt 1 received')).toBe(1);
    expect(eventsOf(h, key, 'message.not_ready')).toEqual([]);
  });

  it('delivers an answer to a QUESTION once, under the finished busy line; human input stays asked until then', async ({
    expect,
    onTestFinished,
  }) => {
    // A long quiet window: passes right after the question read its busy line as current.
    const quietMs = 8000;
    const WORK_MS = 500;
    const h = useHarness(
      {
        profiles: {
          ask: { layout: 'scrollback', outcome: 'question', bootMs: 800, workMs: WORK_MS, quietMs, logs: true },
        },
      },
      { onTestFinished },
    );
    const key = await h.add('asks a question', ['--profile', 'ask']);
    const session = `mc-${key}`;
    const daemon = startDaemon(h);
    await daemon.passes(1, LONG);
    await h.must(['pickup', key]);
    await waitFor(
      'the QUESTION marker',
      () => h.ticket(key).human_input_required,
      (v) => v === 1,
      LONG,
      POLL,
    );
    // The question was printed workMs after the agent took the prompt (never earlier): the fresh window's start.
    const askedAt = ms(h.demoLogs('ask').prompts[0]?.ts ?? null) + WORK_MS;
    const tail = lastLines(await h.capture(session), 15);
    expect(tail.some((l) => l.startsWith('QUESTION:')) && /^demo> ?$/.test(tail.at(-1) ?? ''), tail.join('\n')).toBe(
      true,
    );
    expect(
      tail.some((l) => /^✻ Worked on prompt 1 .*\(esc to interrupt\)$/.test(l)),
      tail.join('\n'),
    ).toBe(true);
    expect(eventsOf(h, key, 'marker.question')).toHaveLength(1);
    // Passes on the fresh question screen read its busy line as current; nobody answered all the same.
    await daemon.passes(3, LONG);
    expect(Date.now() - askedAt, 'the test needs these passes within quietMs of the question').toBeLessThan(quietMs);
    expect(h.ticket(key).human_input_required, 'cleared before any answer').toBe(1);
    expect(eventsOf(h, key, 'ticket.answered')).toEqual([]);
    expect(h.openRuntimes(key)[0]?.status).toBe('waiting');

    const answer = 'Yes: take the second option; keep the tests.';
    const sent = await h.mcc(['send', key, answer]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    if (Date.now() - askedAt < quietMs) expect(sent.stdout).toContain('queued');
    const answerRows = () => rowsOf(h, key, 'operator');
    await waitFor(
      'the answer to be delivered, human input asked until then',
      () => ({ status: answerRows().map((m) => m.status), asked: h.ticket(key).human_input_required }),
      (v) => {
        expect(v.status).toHaveLength(1);
        if (v.status[0] !== 'sent') expect(v.asked, 'answer not yet delivered').toBe(1);
        return v.status[0] === 'sent';
      },
      LONG,
      POLL,
    );
    expect(h.ticket(key).human_input_required).toBe(0);

    await waitFor(
      'the REVIEW marker after the answer',
      () => h.ticket(key).status,
      (s) => s === 'in_review',
      LONG,
      POLL,
    );
    await daemon.passes(2, LONG);
    expect((await daemon.stop()).exitCode).toBe(0);
    const logs = h.demoLogs('ask');
    expectPrompts(expect, h, key, logs.prompts, [answer]);
    expect(logs.inputs).toEqual([]);
    expect(h.ticket(key).human_input_required).toBe(0);
  });

  it('raises one NOT-READY warning for a prompt stuck behind a sign-in menu, types nothing, and delivers once the operator signs in', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        profiles: {
          gate: {
            signin: true,
            blocked: DEMO_SIGNIN_PATTERN,
            readyTimeoutSeconds: 2,
            bootMs: 500,
            workMs: 500,
            logs: true,
          },
        },
      },
      { onTestFinished },
    );
    const key = await h.add('stuck at sign-in', ['--profile', 'gate']);
    const session = `mc-${key}`;
    await h.must(['pickup', key]);
    await waitFor(
      'the sign-in menu',
      () => h.capture(session),
      (s) => s.includes('Press Enter to continue'),
      LONG,
      POLL,
    );
    await reconcileUntil(h, 'the NOT-READY warning', () => eventsOf(h, key, 'message.not_ready').length > 0, LONG);
    const warned = () => ({
      notReady: eventsOf(h, key, 'message.not_ready').length,
      blockedScreen: eventsOf(h, key, 'runtime.blocked_screen').length,
    });
    expect(warned()).toEqual({ notReady: 1, blockedScreen: 1 });
    const [warning] = eventsOf(h, key, 'message.not_ready');
    expect(warning?.status).toBe('warning');
    expect(warning?.root_cause).toContain('waits for a human');
    expect(ms(warning?.at ?? null) - ms(h.runtimes(key)[0]?.created_at ?? null)).toBeGreaterThanOrEqual(2000);
    expect(h.openRuntimes(key)[0]?.status).toBe('waiting');
    expect(h.ticket(key)).toMatchObject({ status: 'in_progress', human_input_required: 1 });

    await h.must(['reconcile']);
    await h.must(['reconcile']);
    expect(warned()).toEqual({ notReady: 1, blockedScreen: 1 });
    expect(h.demoLogs('gate')).toEqual({ inputs: [], prompts: [] });
    expect(rowsOf(h, key, 'prompt').map((m) => m.status)).toEqual(['pending']);
    expect(h.openRuntimes(key)[0]?.status).toBe('waiting');

    const show = JSON.parse((await h.must(['show', key, '--json'])).stdout) as {
      events: { kind: string; rootCause: string | null }[];
    };
    const shown = show.events.filter((e) => e.kind === 'message.not_ready');
    expect(shown).toHaveLength(1);
    expect(shown[0]?.rootCause).toContain('Press Enter to continue');

    // The operator signs in; the agent boots and a later pass delivers the prompt.
    // `-t =mc-MC-1` names no pane for send-keys on tmux 3.3: `=mc-MC-1:` is the session's current window.
    await h.tmux(['send-keys', '-t', `=${session}:`, 'C-o']);
    await reconcileUntil(h, 'the prompt to be sent', () => rowsOf(h, key, 'prompt')[0]?.status === 'sent', LONG);
    await waitFor(
      'the agent to accept the prompt',
      () => h.demoLogs('gate').prompts,
      (p) => p.length > 0,
      LONG,
      POLL,
    );
    await h.must(['reconcile']);
    const logs = h.demoLogs('gate');
    expectPrompts(expect, h, key, logs.prompts);
    expect(logs.inputs.map((i) => [i.phase, i.effect])).toEqual([['signin', 'continue']]);
    expect(warned()).toEqual({ notReady: 1, blockedScreen: 1 });
  });

  it('delivers a large hostile prompt intact and inert, once, to the demo agent and to a cat-like program', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        profiles: { big: { bootMs: 300, workMs: 500, logs: true } },
        customProfiles: (dir) => ({
          cat: { command: [process.execPath, CAT_AGENT, join(dir, CAT_OUT)], ready: '^cat> ?$', promptLines: 1 },
        }),
      },
      { onTestFinished },
    );
    const catOut = join(h.dir, CAT_OUT);
    const pwned = (what: string) => join(h.dir, `pwned-${what}`);
    const lines = [
      'Tabs\there\tand "double" and \'single\' quotes; a semicolon; and a backslash \\',
      `Command substitution $(touch ${pwned('dollar')}) and backticks \`touch ${pwned('backtick')}\``,
      `A tmux format #(touch ${pwned('hash')}) and #{pane_pid} ; kill-server`,
      `run-shell "touch ${pwned('runshell')}" \\; kill-server ;`,
      'The end of a bracketed paste \x1b[201~ then more text',
      'An OSC 52 clipboard write \x1b]52;c;cHduZWQ=\x07 and a title \x1b]0;owned\x07 and a CSI \x1b[2J',
    ];
    for (let i = 0; lines.join('\n').length < 8192; i++)
      lines.push(`filler ${i}:\tlorem "ipsum" 'dolor' sit amet; $(echo nope) \`echo nope\` #(echo nope);`);
    lines.push('The last line ends with a semicolon;');
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThanOrEqual(8192);
    const bodyFile = join(h.dir, 'body.txt');
    writeFileSync(bodyFile, body);

    const demoKey = await h.add('large prompt; kill-server', ['--profile', 'big', '--body-file', bodyFile]);
    const catKey = await h.add(`large prompt #(touch ${pwned('title')}) ;`, [
      '--profile',
      'cat',
      '--body-file',
      bodyFile,
    ]);
    await h.must(['pickup', demoKey]);
    await h.must(['pickup', catKey]);
    const daemon = startDaemon(h);
    await waitFor(
      'both prompts to be sent',
      () => [demoKey, catKey].map((k) => rowsOf(h, k, 'prompt')[0]?.status),
      (s) => s.every((x) => x === 'sent'),
      LONG,
      POLL,
    );
    await waitFor(
      'the cat to take the submission',
      () => jsonLines(catOut),
      (l) => l.length > 0,
      LONG,
      POLL,
    );
    await waitFor(
      'the demo agent to take the prompt',
      () => h.demoLogs('big').prompts,
      (p) => p.length > 0,
      LONG,
      POLL,
    );
    await daemon.passes(3, LONG);
    expect((await daemon.stop()).exitCode).toBe(0);

    const demoText = promptText(h, demoKey).typed;
    const catText = promptText(h, catKey).typed;
    for (const text of [demoText, catText]) {
      expect(text).not.toContain('\x1b');
      expect(text).toContain('^[[201~ then more text');
      expect(text).toContain('^[]52;c;cHduZWQ=^G');
      expect(text).toContain('\tand "double"');
      expect(text).toContain('The last line ends with a semicolon;\n\nWhen finished');
    }
    const logs = h.demoLogs('big');
    expectPrompts(expect, h, demoKey, logs.prompts);
    expect(logs.inputs).toEqual([]);
    expectPrompts(expect, h, catKey, jsonLines<{ n: number; text: string }>(catOut));
    expect(jsonLines<{ n: number }>(catOut).map((l) => l.n)).toEqual([1]);
    // Byte for byte what the cat read: one bracketed paste and one Enter.
    expect(readFileSync(`${catOut}.raw`, 'utf8')).toBe(`\x1b[200~${catText}\x1b[201~\r`);

    // Nothing in the text ran: no shell, no tmux command; the server still runs both sessions.
    for (const what of ['dollar', 'backtick', 'hash', 'runshell', 'title'])
      expect(existsSync(pwned(what)), `pwned-${what}`).toBe(false);
    expect(await h.sessions()).toEqual([`mc-${demoKey}`, `mc-${catKey}`].sort());
  });

  it('closes an agent that exits at once with its exit status and last words, requeues it, and blocks it at the retry limit', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness(
      {
        ttlSeconds: 1,
        retryLimit: 2,
        customProfiles: {
          offline: {
            command: [process.execPath, '-e', "console.error('no network: ECONNREFUSED'); process.exit(3)"],
            ready: '^> $',
          },
        },
      },
      { onTestFinished },
    );
    const key = await h.add('agent without network', ['--profile', 'offline']);
    const causes: string[] = [];
    for (const attempt of [1, 2]) {
      const pickup = await h.mcc(['pickup', key]);
      expect(pickup.exitCode, pickup.stderr).toBe(0);
      expect(h.runtimes(key)).toHaveLength(attempt);
      await reconcileUntil(
        h,
        `the runtime of attempt ${attempt} to be closed`,
        () => h.runtimes(key)[attempt - 1]?.status === 'closed',
        LONG,
      );
      const closed = h.runtimes(key)[attempt - 1]!;
      const close = eventsOf(h, key, 'runtime.close').filter((e) => e.runtime_id === closed.id);
      expect(close).toHaveLength(1);
      const artifacts = JSON.parse(close[0]!.artifacts) as string[];
      causes.push(`${close[0]!.summary} | root cause: ${close[0]!.root_cause}`);
      expect.soft(closed.exit_status, `attempt ${attempt}: exit status of the closed row`).toBe(3);
      expect.soft(artifacts, `attempt ${attempt}: close artifacts`).toContain('exit_status:3');
      expect
        .soft(
          artifacts.some((a) => a.includes('no network: ECONNREFUSED')),
          `evidence: ${JSON.stringify(artifacts)}`,
        )
        .toBe(true);
      expect(await h.hasSession(`mc-${key}`)).toBe(false);
      if (attempt === 1) expect(h.ticket(key)).toMatchObject({ status: 'todo', attempts: 1 });
    }
    // The wording the operator reads; printed for whoever improves it.
    console.info(`root causes of the closes:\n${causes.join('\n')}`);
    const blocked = h.ticket(key);
    expect(blocked).toMatchObject({ status: 'blocked', attempts: 2 });
    expect(blocked.blocked_reason).toMatch(/retry limit reached \(2\/2\)/);
    const again = await h.mcc(['pickup', key]);
    expect(again.exitCode).toBe(3);
  });
});
