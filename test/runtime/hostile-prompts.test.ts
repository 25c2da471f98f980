// Hostile prompts (issue 11): a ticket body and `mcc send` texts made of shell and tmux syntax, tmux key names
// as whole arguments, newlines and the end of a bracketed paste. Each must reach the demo agent as the text it
// is (its prompt log), once; no file may appear and no tmux command may run (the server, its sessions and its
// buffers stay as they were).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { inertForPaste } from '../../src/core/sanitize.js';
import { jsonLines, ROOT, startDaemon, useHarness, waitFor, type Harness } from './helpers.js';

const CAT_AGENT = join(ROOT, 'test/runtime/fixtures/cat-agent.mjs');
const CAT_OUT = 'cat-received.jsonl';
const LONG = 60_000;
const POLL = 100;

/** What the demo agent logs for a pasted text: the inert paste, without the trailing newlines it drops (the cat keeps them). */
const typed = (text: string): string => inertForPaste(text).replace(/\n+$/, '');

/** Our server's session names and buffer names. */
async function tmuxState(h: Harness): Promise<{ sessions: string[]; buffers: string[] }> {
  const buffers = await h.tmux(['list-buffers', '-F', '#{buffer_name}']).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [],
  );
  return { sessions: await h.sessions(), buffers };
}

/** Each send is one argv as a shell would pass it: key names and `;` as whole arguments. */
function sends(pwned: (what: string) => string): string[][] {
  return [
    ['Enter'],
    ['C-c'],
    ['Escape'],
    [';'],
    ['run', 'this;'],
    [';', 'kill-server'],
    ['\\;', 'new-session', '-d', '-s', 'pwned-send', ';'],
    [`$(touch ${pwned('send-dollar')})`, `\`touch ${pwned('send-backtick')}\``],
    [`#(touch ${pwned('send-hash')})`, '#{pane_id}', '#{pane_pid}', '##{x}'],
    ['line one\nline two;\n\nline four', 'C-c\nEnter\n'],
    ['end of paste \x1b[201~', `; run-shell "touch ${pwned('send-runshell')}"`, '\x1b[201~\r', 'Enter'],
  ];
}

describe('hostile prompts reach the agent as text', { timeout: 240_000 }, () => {
  it('a body and mcc send texts with ; $() backticks #() #{} key names, newlines and ESC[201~', async ({
    expect,
    onTestFinished,
  }) => {
    // The demo agent asks a question after the ticket's prompt, so it takes exactly one more text (the answer)
    // while in_progress; the cat-like agent never finishes, so it takes every send, and logs its raw bytes.
    const h = useHarness(
      {
        profiles: { demo: { bootMs: 300, workMs: 300, outcome: 'question', logs: true } },
        customProfiles: (dir) => ({
          cat: { command: [process.execPath, CAT_AGENT, join(dir, CAT_OUT)], ready: '^cat> ?$', promptLines: 1 },
        }),
      },
      { onTestFinished },
    );
    const pwned = (what: string) => join(h.dir, `pwned-${what}`);
    const catOut = join(h.dir, CAT_OUT);
    const body = [
      `subst $(touch ${pwned('body-dollar')}) and \`touch ${pwned('body-backtick')}\``,
      `tmux #(touch ${pwned('body-hash')}) #{pane_id} #{session_name}`,
      '; kill-server',
      '\\; new-session -d -s pwned-body ;',
      'paste end \x1b[201~ then \x1b[200~ again and 8-bit \u009b201~',
      'trailing semicolon;',
    ].join('\n');
    const enterKey = await h.add('answer is the word Enter', ['--body', body]);
    const wordsKey = await h.add('answer is every hostile word', ['--body', body]);
    const catKey = await h.add('a cat takes every send', ['--profile', 'cat', '--body', body]);
    const keys = [enterKey, wordsKey, catKey];
    for (const k of keys) await h.must(['pickup', k]);
    const daemon = startDaemon(h);
    await waitFor(
      'the demo agents to ask their question and the cat to take its prompt',
      () => [...[enterKey, wordsKey].map((k) => h.ticket(k).human_input_required), jsonLines(catOut).length],
      (v) => v.every((x) => x === 1),
      LONG,
      POLL,
    );
    const before = await tmuxState(h);
    expect(before.sessions).toEqual(keys.map((k) => `mc-${k}`).sort());

    const all = sends(pwned);
    const send = async (key: string, words: string[]) => {
      // `--`: a word like `-d` is text, not a flag of send.
      const r = await h.mcc(['send', key, '--', ...words]);
      expect(r.exitCode, `${JSON.stringify(words)}: ${r.stderr}`).toBe(0);
    };
    await send(enterKey, ['Enter']);
    await send(wordsKey, all.flat());
    for (const words of all) await send(catKey, words);
    await waitFor(
      'every text to be delivered',
      () => keys.flatMap((k) => h.messages(k).map((m) => m.status)),
      (s) => s.length === 3 + 2 + all.length && s.every((x) => x === 'sent'),
      LONG,
      POLL,
    );
    await waitFor(
      'the cat to take every send',
      () => jsonLines(catOut).length,
      (n) => n === 1 + all.length,
      LONG,
      POLL,
    );
    await daemon.passes(2, LONG);
    expect((await daemon.stop()).exitCode).toBe(0);

    // Each agent took the ticket's prompt (the body, inert) and then exactly the texts sent to it, once each.
    const demo = h.demoLogs('demo');
    expect(demo.prompts).toHaveLength(4);
    for (const k of [enterKey, wordsKey]) {
      const first = demo.prompts.find((p) => p.text.startsWith(`${k}: `))?.text ?? '';
      expect(first).toContain(typed(body));
      expect(first).toContain('paste end ^[[201~ then ^[[200~ again and 8-bit M-^[201~');
    }
    const answers = demo.prompts.filter((p) => !/^MC-\d+: /.test(p.text)).map((p) => p.text);
    expect(answers.sort()).toEqual([typed('Enter'), typed(all.flat().join(' '))].sort());
    // Nothing was typed into a demo agent while it could not take it.
    expect(demo.inputs).toEqual([]);

    const cat = jsonLines<{ n: number; text: string }>(catOut);
    expect(cat.slice(1).map((c) => c.text)).toEqual(all.map((w) => inertForPaste(w.join(' '))));
    expect(cat[0]?.text).toContain(typed(body));
    // Byte for byte what the cat read: one bracketed paste and one Enter per text; no paste ended early.
    const pasted = [cat[0]?.text ?? '', ...all.map((w) => inertForPaste(w.join(' ')))];
    expect(readFileSync(`${catOut}.raw`, 'utf8')).toBe(pasted.map((t) => `\x1b[200~${t}\x1b[201~\r`).join(''));

    // Nothing ran: no file, no tmux command (same sessions, no leftover or foreign buffer, server alive).
    expect(readdirSync(h.dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    expect(await tmuxState(h)).toEqual({ sessions: keys.map((k) => `mc-${k}`).sort(), buffers: [] });
  });

  it('a send whose words look like flags without -- is a usage error and queues nothing', async ({
    expect,
    onTestFinished,
  }) => {
    const h = useHarness({}, { onTestFinished });
    const key = await h.add('flags are not text');
    const r = await h.mcc(['send', key, ';', 'new-session', '-d', '-s', 'pwned']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/-d/);
    expect(h.messages(key)).toEqual([]);
    expect(await h.sessions()).toEqual([]);
  });
});
