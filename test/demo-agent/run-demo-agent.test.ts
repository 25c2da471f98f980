// In-process runs of the demo agent over pipes (no terminal): each input line is a prompt.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemoAgent } from '../../src/demo-agent/demo-agent.js';

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
});
