import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseConfig } from '../../src/core/config.js';

const SELF = { argv: ['node', '/opt/mcc/bin.js'] };

function bad(config: unknown, source = 'conf.json'): string {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  const res = parseConfig(text, source, SELF);
  expect(res.ok).toBe(false);
  if (res.ok) return '';
  expect(res.code).toBe('invalid');
  expect(res.message).toContain(source);
  return res.message;
}

describe('parseConfig: bad configs name the offending key', () => {
  it('command not an array', () => {
    expect(bad({ profiles: { claude: { command: 'claude --yes' } } })).toContain('profiles.claude.command');
  });

  it('an empty command or an empty argv element', () => {
    expect(bad({ profiles: { x: { command: [] } } })).toContain('profiles.x.command');
    expect(bad({ profiles: { x: { command: ['claude', ''] } } })).toContain('profiles.x.command.1');
  });

  it('a bad regular expression', () => {
    const msg = bad({ profiles: { x: { command: ['a'], ready: '(unclosed' } } });
    expect(msg).toContain('profiles.x.ready');
    expect(msg).toContain('not a valid regular expression');
  });

  it('a bad key name in interrupt or submit', () => {
    expect(bad({ profiles: { x: { command: ['a'], interrupt: ['Ctrl+C'] } } })).toContain('profiles.x.interrupt.0');
    expect(bad({ profiles: { x: { command: ['a'], submit: ['Enter', 'Return; rm -rf'] } } })).toContain(
      'profiles.x.submit.1',
    );
  });

  it('an unknown top-level key, and an unknown profile key', () => {
    expect(bad({ ttl: 5 })).toContain('ttl');
    expect(bad({ profiles: { x: { command: ['a'], shell: true } } })).toMatch(/profiles\.x.*shell/);
  });

  it('defaultProfile naming no profile', () => {
    const msg = bad({ defaultProfile: 'nope' });
    expect(msg).toContain('defaultProfile');
    expect(msg).toContain('nope');
  });

  it('invalid JSON', () => {
    expect(bad('{ "ttlSeconds": 3,, }')).toContain('not valid JSON');
  });

  it('out-of-range numbers, a socket name with a slash, a bad env var name', () => {
    expect(bad({ ttlSeconds: 0 })).toContain('ttlSeconds');
    expect(bad({ retryLimit: 1.5 })).toContain('retryLimit');
    expect(bad({ socket: '../evil' })).toContain('socket');
    expect(bad({ profiles: { x: { command: ['a'], env: { 'BAD-NAME': '1' } } } })).toContain('profiles.x.env');
  });
});

describe('parseConfig: good configs', () => {
  it('no file: the defaults and the built-in profiles', () => {
    const res = parseConfig(null, null, SELF);
    if (!res.ok) throw new Error(res.message);
    const c = res.value;
    expect(c).toMatchObject({ ...DEFAULTS, source: null });
    expect(Object.keys(c.profiles).sort()).toEqual(['aider', 'claude', 'codex', 'demo', 'gemini', 'opencode', 'shell']);
    expect(c.profiles['demo']!.command).toEqual(['node', '/opt/mcc/bin.js', 'demo-agent']);
    expect(c.profiles['demo']!.ready!.test('demo> ')).toBe(true);
  });

  it('a config merges its profiles with the built-ins, compiles regexes and fills defaults', () => {
    const res = parseConfig(
      JSON.stringify({
        defaultProfile: 'claude',
        ttlSeconds: 45,
        profiles: { claude: { command: ['claude'], ready: '^> $', busy: 'esc to interrupt', env: { FOO: 'bar' } } },
      }),
      '/etc/mcc.json',
      SELF,
    );
    if (!res.ok) throw new Error(res.message);
    const c = res.value;
    expect(Object.keys(c.profiles).sort()).toEqual(['aider', 'claude', 'codex', 'demo', 'gemini', 'opencode', 'shell']);
    expect(c).toMatchObject({
      defaultProfile: 'claude',
      ttlSeconds: 45,
      retryLimit: DEFAULTS.retryLimit,
      source: '/etc/mcc.json',
    });
    const p = c.profiles['claude']!;
    expect(p).toMatchObject({
      name: 'claude',
      command: ['claude'],
      cwd: null,
      env: { FOO: 'bar' },
      interrupt: ['Escape'],
      submit: ['Enter'],
      // Not given in the file: the built-in claude profile's.
      question: /^QUESTION:/,
    });
    expect(p.ready).toBeInstanceOf(RegExp);
    expect(p.busy!.test('working (esc to interrupt)')).toBe(true);
  });

  it('a config profile named like a built-in overrides it field by field', () => {
    const res = parseConfig(
      JSON.stringify({ profiles: { demo: { command: ['my-demo'], quietMs: 3000, env: { A: '1' } } } }),
      'c.json',
      SELF,
    );
    if (!res.ok) throw new Error(res.message);
    const demo = res.value.profiles['demo']!;
    expect(demo.command).toEqual(['my-demo']);
    expect(demo.quietMs).toBe(3000);
    expect(demo.env).toEqual({ A: '1' });
    // Not given: the built-in's.
    expect(demo.ready?.source).toBe('^demo> ?$');
    expect(demo.promptLines).toBe(1);
    // Given without a command, a built-in's command is kept; a new profile needs one.
    const cwdOnly = parseConfig(JSON.stringify({ profiles: { shell: { cwd: '/tmp' } } }), 'c.json', SELF);
    if (!cwdOnly.ok) throw new Error(cwdOnly.message);
    expect(cwdOnly.value.profiles['shell']!.command[1]).toBe('-i');
    expect(bad({ profiles: { mine: { ready: '^> $' } } })).toContain('profiles.mine.command: required');
  });

  it('readiness fields: defaults filled, ranges checked', () => {
    const res = parseConfig(JSON.stringify({ profiles: { x: { command: ['a'] } } }), 'c.json', SELF);
    if (!res.ok) throw new Error(res.message);
    expect(res.value.profiles['x']).toMatchObject({
      promptLines: 4,
      tailLines: 15,
      quietMs: 1500,
      readyTimeoutMs: 120_000,
    });
    expect(bad({ profiles: { x: { command: ['a'], promptLines: 0 } } })).toContain('profiles.x.promptLines');
    expect(bad({ profiles: { x: { command: ['a'], quietMs: -1 } } })).toContain('profiles.x.quietMs');
    expect(bad({ profiles: { x: { command: ['a'], blocked: '(' } } })).toContain('profiles.x.blocked');
  });
});
