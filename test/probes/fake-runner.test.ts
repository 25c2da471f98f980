// The strict fake itself: a test double that let a wrong command through would make every probe test lie.
import { describe, expect, it } from 'vitest';
import { exitWith, FakeRunner, success } from '../helpers/fake-runner.js';

describe('FakeRunner', () => {
  it('answers the expected commands in order', async () => {
    const f = new FakeRunner([{ file: 'tmux', args: ['a'], outcome: success('1') }]).expect(
      'tmux',
      ['b'],
      exitWith('x'),
      'in',
    );
    expect((await f.run({ file: 'tmux', args: ['a'] })).stdout).toBe('1');
    expect((await f.run({ file: 'tmux', args: ['b'], input: 'in' })).stderr).toBe('x');
    expect(() => f.assertDone()).not.toThrow();
  });

  it('throws on an unexpected command, and assertDone still fails if that was swallowed', async () => {
    const f = new FakeRunner().expect('tmux', ['a'], success());
    await expect(f.run({ file: 'tmux', args: ['b'] })).rejects.toThrow(/unexpected command/);
    expect(() => f.assertDone()).toThrow(/unexpected command/);
  });

  it('throws on a command when none is expected', async () => {
    await expect(new FakeRunner().run({ file: 'tmux', args: [] })).rejects.toThrow(/none expected/);
  });

  it('checks stdin: missing, different, or present when none was expected', async () => {
    await expect(new FakeRunner().expect('t', [], success(), 'x').run({ file: 't', args: [] })).rejects.toThrow();
    await expect(
      new FakeRunner().expect('t', [], success(), 'x').run({ file: 't', args: [], input: 'y' }),
    ).rejects.toThrow();
    await expect(
      new FakeRunner().expect('t', [], success()).run({ file: 't', args: [], input: 'y' }),
    ).rejects.toThrow();
  });

  it('assertDone fails when an expected command was never run', () => {
    expect(() => new FakeRunner().expect('tmux', ['kill-server'], success()).assertDone()).toThrow(/not run/);
  });
});
