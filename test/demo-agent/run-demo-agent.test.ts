// In-process runs of the demo agent over pipes (no terminal): each input line is a prompt.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemoAgent } from '../../src/demo-agent/demo-agent.js';
import { readJsonLines } from './tmux-harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-demo-logs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(argv: string[], input: string | null): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = runDemoAgent(argv, { stdin, stdout, stderr });
  if (input !== null) stdin.end(input);
  const code = await done;
  return { code, out, err };
}

describe('runDemoAgent without a terminal', () => {
  it('treats each line as a prompt, queues lines sent while busy, and exits 0 at end of input', async () => {
    const { code, out } = await run(
      ['--boot-ms', '20', '--work-ms', '10', '--outcome', 'question'],
      'hello\nDONE: yes\nlast',
    );
    expect(code).toBe(0);
    expect(out).toContain('demo-agent (mcc demo) pid ');
    expect(out).toContain('booting… (esc to interrupt)');
    expect(out).toContain('[demo] prompt 1 received (1 lines, 5 chars)\n│ hello\n');
    expect(out).toContain('QUESTION: demo needs a human decision for prompt 1\n');
    expect(out).toContain('[demo] prompt 2 received (1 lines, 9 chars)\n│ DONE: yes\n');
    expect(out).toContain('REVIEW: demo work for prompt 2 is ready for review\n');
    expect(out).toContain('│ last\n'); // an unterminated last line is a prompt too
    expect(out).toContain('REVIEW: demo work for prompt 3 is ready for review\n');
    expect(out).not.toMatch(/^DONE:/m);
    expect(out).not.toContain('\x1b'); // no terminal control sequences on a pipe
    expect(out).not.toContain('(busy: input ignored)');
  });

  it.each([
    ['done', 'DONE: demo work for prompt 1 complete'],
    ['review', 'REVIEW: demo work for prompt 1 is ready for review'],
  ])('outcome %s prints its marker line', async (outcome, line) => {
    const { code, out } = await run(['--boot-ms', '0', '--work-ms', '0', '--outcome', outcome], 'go\n');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^${line}$`, 'm'));
  });

  it('outcome crash prints the fatal line and returns 3', async () => {
    const { code, out } = await run(['--boot-ms', '0', '--work-ms', '0', '--outcome', 'crash'], 'go\nnever\n');
    expect(code).toBe(3);
    expect(out).toMatch(/^\[demo\] fatal: simulated crash$/m);
    expect(out).not.toContain('never');
  });

  it('blank lines are not prompts; empty input exits 0', async () => {
    const { code, out } = await run(['--boot-ms', '0', '--work-ms', '0'], '\n  \n\r\n');
    expect(code).toBe(0);
    expect(out).not.toContain('received');
  });

  it('bad flags print a clear error and return 2 without starting', async () => {
    const { code, out, err } = await run(['--outcome', 'later'], null);
    expect(code).toBe(2);
    expect(err).toBe('mcc demo-agent: --outcome must be one of review, done, question, crash; got "later"\n');
    expect(out).toBe('');
  });

  it('leaves no signal listeners behind', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGHUP')];
    await run(['--boot-ms', '0', '--work-ms', '0'], 'x\n');
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGHUP')]).toEqual(before);
  });

  it('logs each prompt in full, and input that arrived while booting as queued', async () => {
    const dir = tempDir();
    const [inputLog, promptLog] = [join(dir, 'input.jsonl'), join(dir, 'prompts.jsonl')];
    const text = 'one\ttab; "quoted" $(x) `y` #(z);';
    const { code } = await run(
      ['--boot-ms', '20', '--work-ms', '0', '--input-log', inputLog, '--prompt-log', promptLog],
      `${text}\nsecond\n`,
    );
    expect(code).toBe(0);
    expect(readJsonLines(promptLog).map(({ prompt, lines, chars, text }) => ({ prompt, lines, chars, text }))).toEqual([
      { prompt: 1, lines: 1, chars: text.length, text },
      { prompt: 2, lines: 1, chars: 6, text: 'second' },
    ]);
    const input = readJsonLines(inputLog);
    expect(input.map(({ phase, effect }) => ({ phase, effect }))).toEqual([{ phase: 'booting', effect: 'queued' }]);
    expect(input[0]?.['bytes']).toBe(`${text}\nsecond\n`);
  });

  it('creates empty logs when nothing arrives early and no prompt is sent', async () => {
    const dir = tempDir();
    const [inputLog, promptLog] = [join(dir, 'input.jsonl'), join(dir, 'prompts.jsonl')];
    const { code } = await run(['--boot-ms', '0', '--input-log', inputLog, '--prompt-log', promptLog], '');
    expect(code).toBe(0);
    expect(readFileSync(inputLog, 'utf8')).toBe('');
    expect(readFileSync(promptLog, 'utf8')).toBe('');
  });

  it('--signin: shows the menu; input before Ctrl-O is logged and never a prompt; after it, lines are prompts', async () => {
    const dir = tempDir();
    const [inputLog, promptLog] = [join(dir, 'input.jsonl'), join(dir, 'prompts.jsonl')];
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = runDemoAgent(
      ['--signin', '--boot-ms', '0', '--work-ms', '0', '--input-log', inputLog, '--prompt-log', promptLog],
      { stdin, stdout },
    );
    stdin.write('2\nnot a prompt\n');
    await new Promise((r) => setImmediate(r));
    stdin.end('\x0fafter\n');
    expect(await done).toBe(0);
    expect(out).toMatch(/^> 1\. Sign in with ChatGPT$/m);
    expect(out).toMatch(/^ {2}2\. Provide your own API key$/m);
    expect(out).toMatch(/^ {2}Press Enter to continue$/m);
    expect(out.indexOf('Press Enter to continue')).toBeLessThan(out.indexOf('demo-agent (mcc demo) pid'));
    expect(readJsonLines(promptLog).map((e) => e['text'])).toEqual(['after']);
    expect(readJsonLines(inputLog).map(({ phase, effect, bytes }) => ({ phase, effect, bytes }))).toEqual([
      { phase: 'signin', effect: 'ignored', bytes: '2\nnot a prompt\n' },
      { phase: 'signin', effect: 'continue', bytes: '\x0fafter\n' },
    ]);
  });

  it('--signin: end of input while the menu shows exits 0 without booting', async () => {
    const { code, out } = await run(['--signin', '--boot-ms', '0'], 'hello\n');
    expect(code).toBe(0);
    expect(out).toContain('Sign in with ChatGPT');
    expect(out).not.toContain('demo-agent (mcc demo) pid');
    expect(out).not.toContain('received');
  });

  it('the box layout on a pipe prints its box once per state, without terminal control sequences', async () => {
    const { code, out } = await run(
      ['--layout', 'box', '--footer', 'bypass', '--boot-ms', '0', '--work-ms', '0'],
      'hi\n',
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^╭─+╮\n│ > +│\n╰─+╯\n {2}⏵⏵ bypass permissions on/m);
    expect(out).toContain('[demo] prompt 1 received (1 lines, 2 chars)\n│ hi\n');
    expect(out).toContain('REVIEW: demo work for prompt 1 is ready for review\n');
    expect(out).not.toContain('\x1b');
  });

  it('a log that cannot be opened is a usage error naming the flag and path; nothing is left behind', async () => {
    const dir = tempDir();
    const inputLog = join(dir, 'input.jsonl');
    const bad = join(dir, 'missing', 'prompts.jsonl');
    const { code, out, err } = await run(['--input-log', inputLog, '--prompt-log', bad], null);
    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`^mcc demo-agent: --prompt-log ${bad}: cannot open for appending \\(ENOENT`));
    expect(out).toBe('');
    expect(existsSync(inputLog)).toBe(false);
  });
});
