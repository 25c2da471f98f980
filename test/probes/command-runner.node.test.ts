// The real CommandRunner: it never throws for a failing command, and says why a command did not finish.
import { describe, expect, it } from 'vitest';
import { NodeCommandRunner } from '../../src/probes/command-runner.node.js';

const runner = new NodeCommandRunner();

describe('NodeCommandRunner', () => {
  it('returns stdout and stderr whole, final newline included', async () => {
    const r = await runner.run({ file: 'sh', args: ['-c', 'printf "out\\n\\n"; printf "err\\n" >&2'] });
    expect(r).toEqual({ exitCode: 0, stdout: 'out\n\n', stderr: 'err\n' });
  });

  it('passes arguments as they are, never through a shell', async () => {
    const arg = '$(touch /tmp/never) `id`; #(x) foo;';
    const r = await runner.run({ file: 'printf', args: ['%s', arg] });
    expect(r.stdout).toBe(arg);
  });

  it('writes input to stdin, and gives no stdin otherwise', async () => {
    expect((await runner.run({ file: 'cat', args: [], input: 'a;\n\x1b[201~\n' })).stdout).toBe('a;\n\x1b[201~\n');
    expect(await runner.run({ file: 'cat', args: [] })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('reports a non-zero exit as data', async () => {
    expect(await runner.run({ file: 'sh', args: ['-c', 'echo nope >&2; exit 3'] })).toEqual({
      exitCode: 3,
      stdout: '',
      stderr: 'nope\n',
    });
  });

  it('maps a timeout to failure: timeout', async () => {
    const r = await runner.run({ file: 'sleep', args: ['5'], timeoutMs: 100 });
    expect(r.failure).toBe('timeout');
    expect(r.exitCode).toBeNull();
  });

  it("kills a command that ignores the timeout's SIGTERM, and still says timeout", async () => {
    const r = await runner.run({ file: 'sh', args: ['-c', 'trap "" TERM; sleep 30'], timeoutMs: 100 });
    expect(r.failure).toBe('timeout');
    expect(r.exitCode).toBeNull();
  });

  it('maps a missing program to failure: spawn_error', async () => {
    const r = await runner.run({ file: '/nonexistent/tmux', args: ['ls'] });
    expect(r.failure).toBe('spawn_error');
    expect(r.detail).toContain('ENOENT');
  });

  it('maps an argument with a NUL byte to spawn_error instead of throwing', async () => {
    const r = await runner.run({ file: 'echo', args: ['a\0b'] });
    expect(r.failure).toBe('spawn_error');
  });

  it('maps death by a signal to failure: signal', async () => {
    const r = await runner.run({ file: 'sh', args: ['-c', 'kill -9 $$'] });
    expect(r.failure).toBe('signal');
    expect(r.detail).toContain('SIGKILL');
  });

  it('merges extra environment over the inherited one', async () => {
    const r = await new NodeCommandRunner({ env: { MCC_TEST_X: 'y;' } }).run({
      file: 'sh',
      args: ['-c', 'printf %s "$MCC_TEST_X"'],
    });
    expect(r.stdout).toBe('y;');
  });
});
