import { describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS, parseDemoArgs } from '../../src/demo-agent/demo-agent.js';

describe('parseDemoArgs', () => {
  const defaults = {
    bootMs: 1500,
    workMs: 2000,
    outcome: 'review',
    layout: 'plain',
    footer: 'shortcuts',
    signin: false,
    inputLog: null,
    promptLog: null,
  };

  it('defaults to boot 1500 ms, work 2000 ms, outcome review, the plain layout, no sign-in and no logs', () => {
    expect(parseDemoArgs([])).toEqual(defaults);
    expect(DEMO_DEFAULTS).toEqual(defaults);
  });

  it('reads every flag, as separate or --flag=value arguments', () => {
    expect(parseDemoArgs(['--boot-ms', '800', '--work-ms', '0', '--outcome', 'crash'])).toEqual({
      ...defaults,
      bootMs: 800,
      workMs: 0,
      outcome: 'crash',
    });
    expect(parseDemoArgs(['--outcome=question', '--work-ms=5'])).toEqual({
      ...defaults,
      workMs: 5,
      outcome: 'question',
    });
    expect(
      parseDemoArgs([
        '--layout',
        'box',
        '--footer=both',
        '--signin',
        '--input-log',
        '/tmp/in.jsonl',
        '--prompt-log=/tmp/prompts.jsonl',
      ]),
    ).toEqual({
      ...defaults,
      layout: 'box',
      footer: 'both',
      signin: true,
      inputLog: '/tmp/in.jsonl',
      promptLog: '/tmp/prompts.jsonl',
    });
    for (const layout of ['plain', 'scrollback', 'box'] as const) {
      expect(parseDemoArgs(['--layout', layout]).layout).toBe(layout);
    }
    for (const footer of ['shortcuts', 'bypass', 'both', 'none'] as const) {
      expect(parseDemoArgs(['--layout=box', '--footer', footer]).footer).toBe(footer);
    }
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
    [['--layout', 'grid'], /--layout must be one of plain, scrollback, box; got "grid"/],
    [['--layout'], /--layout needs a value/],
    [['--layout', 'box', '--footer', 'fancy'], /--footer must be one of shortcuts, bypass, both, none; got "fancy"/],
    [['--footer', 'both'], /--footer applies only to --layout box/],
    [['--footer=none', '--layout', 'scrollback'], /--footer applies only to --layout box/],
    [['--signin=yes'], /--signin takes no value/],
    [['--input-log'], /--input-log needs a value/],
    [['--input-log='], /--input-log expects a file path, got ""/],
    [['--prompt-log', '--signin'], /--prompt-log needs a value/],
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
