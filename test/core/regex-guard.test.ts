import { describe, expect, it } from 'vitest';
import { builtinProfiles, parseConfig, type ProfileInput } from '../../src/core/config.js';
import { readScreen } from '../../src/core/screen.js';
import { PATTERN_TEXT_LIMIT, regexHazard } from '../../src/core/regex-guard.js';

// The guard on operator-written profile patterns: catastrophic ones are refused at config load, safe ones
// (every built-in among them) pass, and whatever passes only ever sees a bounded slice of a line.

const SELF = { argv: ['node', '/opt/mcc/bin.js'] };

const CATASTROPHIC: [string, RegExp][] = [
  ['(a+)+$', /nested quantifier/],
  ['(a*)*b', /nested quantifier/],
  ['(a|a)*$', /alternation/],
  ['(a|ab)+c', /alternation/],
  ['(a?){20}a{20}', /nested quantifier/],
  ['^(\\w+\\s?)+$', /nested quantifier/],
  ['(?:x+x+)+y', /nested quantifier/],
  ['.*.*x', /can match the same text/],
  ['.*.*.*x', /can match the same text/],
  ['a.*a.*a.*b', /can match the same text/],
  ['[a ]*[a ]*[a ]*z', /can match the same text/],
  ['\\s*x?\\s*$', /can match the same text/],
  ['a{1,100}a{1,100}b', /can match the same text/],
  ['(x.*)(y|.*)z', /can match the same text/],
  ['^(a+)\\1$', /backreference/],
  ['(?<n>a)\\k<n>', /backreference/],
  ['foo(?=bar)', /lookaround/],
  ['(?<!x)y', /lookaround/],
  ['x'.repeat(1001), /longer than 1000/],
];

const SAFE = [
  '^demo> ?$',
  'esc to interrupt',
  '^\\s*>\\s+Type your message',
  '\\s+\\S+\\s+$',
  '.*x',
  '^[^:]*: .*$',
  '(?:ab){2,}c',
  '^\\[\\d{1,3}%\\]',
  'a*b*c*$',
  '[\\d.]+ seconds',
  'Implement \\{feature\\}',
  '[]x',
  '\\bword\\b',
];

describe('regexHazard', () => {
  it('refuses nested quantifiers, ambiguous alternation under repetition, overlapping repetitions, backreferences and lookarounds', () => {
    for (const [src, why] of CATASTROPHIC) {
      const hazard = regexHazard(src);
      expect(hazard, src).not.toBeNull();
      expect(hazard, src).toMatch(why);
    }
  });

  it('accepts ordinary screen patterns, and every pattern of every built-in profile', () => {
    for (const src of SAFE) expect(regexHazard(src), src).toBeNull();
    const builtins = Object.entries<ProfileInput>(builtinProfiles(SELF));
    expect(builtins.length).toBeGreaterThan(3);
    for (const [name, p] of builtins)
      for (const field of ['ready', 'busy', 'question', 'blocked'] as const) {
        const src = p[field];
        if (src !== undefined) expect(regexHazard(src), `${name}.${field}: ${src}`).toBeNull();
      }
  });
});

describe('config load', () => {
  it('a catastrophic ready pattern is refused, naming the profile, the field and the pattern', () => {
    const res = parseConfig(JSON.stringify({ profiles: { x: { command: ['a'], ready: '(a+)+$' } } }), 'c.json', SELF);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.code).toBe('invalid');
    expect(res.message).toContain('config c.json: profiles.x.ready: pattern "(a+)+$" refused, it may backtrack');
    // An override of a built-in profile is checked the same way.
    const over = parseConfig(JSON.stringify({ profiles: { claude: { busy: '.*.*working' } } }), 'c.json', SELF);
    expect(!over.ok && over.message).toContain('profiles.claude.busy');
  });

  it('a compiled pattern sees at most PATTERN_TEXT_LIMIT characters of a line', () => {
    const res = parseConfig(
      JSON.stringify({ profiles: { x: { command: ['a'], ready: '^>$', busy: 'x', blocked: '.*z' } } }),
      'c.json',
      SELF,
    );
    if (!res.ok) throw new Error(res.message);
    const p = res.value.profiles['x']!;
    expect(p.busy!.test(`${'a'.repeat(PATTERN_TEXT_LIMIT - 1)}x`)).toBe(true);
    expect(p.busy!.test(`${'a'.repeat(PATTERN_TEXT_LIMIT)}x`)).toBe(false);
    // `.*z` is accepted but quadratic: unbounded, two 64 KiB lines of output without a newline take far past the
    // test timeout; bounded, each is a 1 KiB line.
    const hostile = 'a'.repeat(1 << 16);
    const reading = readScreen([hostile, hostile, '> '], p, 10_000);
    expect(reading.status).toBe('idle');
  });
});
