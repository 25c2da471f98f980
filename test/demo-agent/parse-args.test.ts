import { describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS, parseDemoArgs } from '../../src/demo-agent/demo-agent.js';

describe('parseDemoArgs', () => {
  it('defaults to boot 1500 ms, work 2000 ms, outcome review', () => {
    expect(parseDemoArgs([])).toEqual({ bootMs: 1500, workMs: 2000, outcome: 'review' });
    expect(DEMO_DEFAULTS).toEqual({ bootMs: 1500, workMs: 2000, outcome: 'review' });
  });

  it('reads every flag, as separate or --flag=value arguments', () => {
    expect(parseDemoArgs(['--boot-ms', '800', '--work-ms', '0', '--outcome', 'crash'])).toEqual({
      bootMs: 800,
      workMs: 0,
      outcome: 'crash',
    });
    expect(parseDemoArgs(['--outcome=question', '--work-ms=5'])).toEqual({
      bootMs: 1500,
      workMs: 5,
      outcome: 'question',
    });
    for (const outcome of ['review', 'done', 'question', 'crash'] as const) {
      expect(parseDemoArgs(['--outcome', outcome]).outcome).toBe(outcome);
    }
  });

  it('the last occurrence of a flag wins', () => {
    expect(parseDemoArgs(['--boot-ms', '1', '--boot-ms', '2']).bootMs).toBe(2);
  });

  it.each([
    [['--boot-ms'], /--boot-ms needs a value/],
    [['--work-ms', '--outcome', 'done'], /--work-ms needs a value/],
    [['--boot-ms', 'soon'], /--boot-ms expects a whole number of milliseconds.*got "soon"/],
    [['--work-ms', '-5'], /--work-ms expects a whole number of milliseconds.*got "-5"/],
    [['--work-ms', '1.5'], /--work-ms expects .*got "1.5"/],
    [['--boot-ms='], /--boot-ms expects .*got ""/],
    [['--boot-ms', '99999999999'], /--boot-ms expects .*0\.\.2147483647/],
    [['--outcome', 'maybe'], /--outcome must be one of review, done, question, crash; got "maybe"/],
    [['--outcome'], /--outcome needs a value/],
    [['--speed', '3'], /unknown option "--speed"/],
    [['--speed=3'], /unknown option "--speed"/],
    [['-x'], /unknown option "-x"/],
    [['--outcome', '--boot-ms', '5'], /--outcome needs a value/],
    [['--outcome=done=1'], /--outcome must be one of .*got "done=1"/],
    // The agent takes no store flags, and help is answered before it starts (mcc main, demo-agent/main).
    [['--db', 'x'], /unknown option "--db"/],
    [['-h'], /unknown option "-h"/],
    [['hello'], /unexpected argument "hello"/],
  ])('rejects %j with a message naming the flag and value', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(message);
    // A usage error without the command's name: runDemoAgent prefixes `mcc demo-agent: ` itself.
    expect(() => parseDemoArgs(argv)).toThrow(expect.objectContaining({ name: 'UsageError', command: 'demo-agent' }));
    expect(() => parseDemoArgs(argv)).not.toThrow(/^demo-agent:/);
  });
});
