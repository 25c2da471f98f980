// The shared argument parser (util.parseArgs, strict): what it accepts, and the words of every refusal.
import { describe, expect, it } from 'vitest';
import {
  asksForHelp,
  GLOBAL_FLAGS,
  HELP_FLAG,
  helpOf,
  parseArgs,
  UsageError,
  type CommandSpec,
} from '../../src/cli/args.js';

const ADD: CommandSpec = {
  name: 'add',
  summary: 'Add a ticket.',
  usage: 'mcc add TITLE [--body TEXT]',
  positionals: [{ name: 'TITLE', required: true }],
  flags: {
    body: { kind: 'string', help: 'ticket body' },
    interval: { kind: 'number', help: 'seconds' },
    'dry-run': { kind: 'boolean', help: 'change nothing' },
  },
};
const SEND: CommandSpec = {
  name: 'send',
  summary: 'Send.',
  usage: 'mcc send KEY TEXT...',
  positionals: [
    { name: 'KEY', required: true },
    { name: 'TEXT', required: true, rest: true },
  ],
  flags: {},
};

function refusal(argv: string[], spec: CommandSpec = ADD): UsageError {
  try {
    parseArgs(argv, spec);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('parseArgs', () => {
  it('reads flags as separate or --flag=value arguments, converts numbers, keeps positionals in order', () => {
    expect(parseArgs(['T', '--body', 'b', '--interval', '2.5', '--dry-run', '--json'], ADD)).toEqual({
      positionals: ['T'],
      flags: { body: 'b', interval: 2.5, 'dry-run': true, json: true },
    });
    expect(parseArgs(['--body=x=y', 'T', '--db=/tmp/s.db'], ADD).flags).toEqual({ body: 'x=y', db: '/tmp/s.db' });
    expect(parseArgs(['T', '--body', 'a', '--body', 'b'], ADD).flags['body']).toBe('b');
    expect(parseArgs(['MC-1', 'hello', 'world'], SEND).positionals).toEqual(['MC-1', 'hello', 'world']);
  });

  it('a value that looks like an option is a forgotten value, not the value: `--body --json` is refused', () => {
    for (const argv of [
      ['T', '--body', '--json'],
      ['T', '--body', '--dry-run'],
      ['T', '--body', '-h'],
      ['T', '--body', '--db=/x'],
      ['T', '--interval', '--json'],
    ]) {
      const e = refusal(argv);
      expect(e.command, argv.join(' ')).toBe('add');
      expect(e.message, argv.join(' ')).toMatch(new RegExp(`^${argv[1]} needs a value`));
    }
    expect(refusal(['T', '--body']).message).toBe('--body needs a value');
    // Said with `=`, any value is a value.
    expect(parseArgs(['T', '--body=--json'], ADD).flags).toEqual({ body: '--json' });
  });

  it('a dash-leading value that names no option is a value: negative numbers, `-x`, `-` for stdin', () => {
    expect(parseArgs(['T', '--interval', '-1'], ADD).flags['interval']).toBe(-1);
    expect(parseArgs(['T', '--body', '-x'], ADD).flags['body']).toBe('-x');
    expect(parseArgs(['T', '--body', '-'], ADD).flags['body']).toBe('-');
    expect(
      parseArgs(['T', '--', '--body', '-h'], { ...ADD, positionals: [{ name: 'W', required: true, rest: true }] }),
    ).toEqual({ positionals: ['T', '--body', '-h'], flags: {} });
  });

  it.each([
    [['T', '--bogus'], 'unknown option "--bogus"'],
    [['T', '--bogus=1'], 'unknown option "--bogus"'],
    [['T', '-x'], 'unknown option "-x"'],
    [['T', '-hx'], 'unknown option "-x"'],
    [['T', '--json=yes'], '--json takes no value'],
    [['T', '--dry-run=1'], '--dry-run takes no value'],
    [['T', '--interval', 'soon'], '--interval must be a number, got "soon"'],
    [['T', '--interval='], '--interval must be a number, got ""'],
    [['T', '--interval', 'Infinity'], '--interval must be a number, got "Infinity"'],
    [[], 'missing TITLE\nusage: mcc add TITLE [--body TEXT]'],
    [['T', 'U'], 'unexpected argument "U"\nusage: mcc add TITLE [--body TEXT]'],
  ])('refuses %j: %s', (argv, message) => {
    const e = refusal(argv);
    expect(e.command).toBe('add');
    expect(e.message).toBe(message);
  });

  it('names the first missing positional', () => {
    expect(refusal(['MC-1'], SEND).message).toBe('missing TEXT\nusage: mcc send KEY TEXT...');
  });

  it('-h is --help everywhere, and help skips the positional checks', () => {
    expect(parseArgs(['-h'], ADD)).toEqual({ positionals: [], flags: { help: true } });
    expect(parseArgs(['--help'], ADD).flags['help']).toBe(true);
    expect(parseArgs(['-h'], ADD, HELP_FLAG).flags['help']).toBe(true);
    expect(asksForHelp(['--boot-ms', '5', '-h'])).toBe(true);
    expect(asksForHelp(['--help'])).toBe(true);
    expect(asksForHelp(['--', '-h'])).toBe(false);
    expect(asksForHelp(['--helpful'])).toBe(false);
  });

  it('only the globals a program passes are accepted: a standalone program does not take --db', () => {
    expect(parseArgs(['T', '--db', 'x'], ADD).flags['db']).toBe('x');
    expect(() => parseArgs(['T', '--db', 'x'], ADD, HELP_FLAG)).toThrow('unknown option "--db"');
    expect(() => parseArgs(['T', '-h'], ADD, {})).toThrow('unknown option "-h"');
  });

  it('help lists every flag with its value name, the globals last, -h beside --help', () => {
    const text = helpOf(ADD);
    expect(text.split('\n').slice(0, 3)).toEqual(['usage: mcc add TITLE [--body TEXT]', '', 'Add a ticket.']);
    expect(text).toMatch(/^ {2}--body VALUE +ticket body$/m);
    expect(text).toMatch(/^ {2}--interval N +seconds$/m);
    expect(text).toMatch(/^ {2}--db PATH +store file/m);
    expect(text).toMatch(/^ {2}-h, --help +show help$/m);
    expect(text.indexOf('--body')).toBeLessThan(text.indexOf('--db'));
    for (const name of Object.keys(GLOBAL_FLAGS)) expect(text).toContain(`--${name}`);
    expect(helpOf(ADD, HELP_FLAG)).not.toContain('--db');
  });
});
