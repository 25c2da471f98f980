// The built-in agent profiles against screens that are not ours: captured real agents (recorded by
// `npm run test:agents`) and hand-made layouts that neighbouring tools misread. Each fixture names, in its
// header, the profiles it applies to and the state it must read as.
import { describe, expect, test } from 'vitest';
import { agentProfiles, shellProfile, shellReady, type AgentProfileInput } from '../../src/core/profiles.js';
import { classifyScreen } from '../../src/core/screen.js';
import { loadScreenFixtures } from '../helpers/screen-fixtures.js';
import { CONFIG } from './builders.js';

const PROFILES: Record<string, AgentProfileInput> = { ...agentProfiles(), shell: shellProfile() };
const fixtures = loadScreenFixtures();
const cases = fixtures.flatMap((f) => f.profiles.map((profile) => ({ ...f, profile })));

describe('screen fixtures', () => {
  test('there are recorded and hand-made fixtures for every built-in agent', () => {
    for (const agent of Object.keys(agentProfiles())) {
      expect(
        fixtures.some((f) => f.profiles.includes(agent)),
        agent,
      ).toBe(true);
    }
    expect(fixtures.some((f) => !f.file.startsWith('handmade-'))).toBe(true);
  });

  test.each(cases)('$file under $profile reads $expect', (c) => {
    // The built-in profile as the config compiles it: the very rules the reconciler judges by.
    const profile = CONFIG.profiles[c.profile];
    if (!profile) throw new Error(`${c.file}: unknown profile ${c.profile}`);
    expect(classifyScreen(c.lines, profile, c.quietForMs)).toBe(c.expect);
  });
});

// A typed draft per agent, in that agent's own input line.
const DRAFTS: Record<string, string[]> = {
  claude: [
    '❯ fix the login test',
    '❯\u00a0fix the login test',
    '❯ [Pasted text #1 +12 lines]',
    '│ > fix it                │',
    '> fix it',
  ],
  codex: ['› fix the login test', '› Ask Codex to do anything and more'],
  gemini: [' > fix the login test', ' >   fix the login test'],
  opencode: ['   ┃  fix the login test', '   ┃  Ask anything'],
  aider: ['> fix the login test', 'ask> why', 'multi> a', '-->', '</div>'],
  shell: ['mcc$ ls', 'mcc> ', '> ', '$ ', '# ', '-->', '</div>', 'user@host:~/proj$ ls'],
};

describe('built-in profiles', () => {
  test.each(Object.entries(PROFILES))('%s: every pattern is a valid regular expression', (_name, p) => {
    for (const src of [p.ready, p.busy, p.question, p.blocked]) {
      if (src !== undefined) expect(() => new RegExp(src)).not.toThrow();
    }
    expect(p.ready).toBeDefined();
    expect(p.command.length).toBeGreaterThan(0);
  });

  test.each(Object.entries(DRAFTS))('%s: ready never matches a typed draft', (name, drafts) => {
    const ready = new RegExp(PROFILES[name]?.ready ?? '(?!)');
    for (const line of drafts) expect(ready.test(line.replace(/\s+$/, '')), JSON.stringify(line)).toBe(false);
  });

  test('the shell prompt is set through the environment, so its ready rule is exact', () => {
    const shell = shellProfile('/bin/bash');
    expect(shell.command).toEqual(['/bin/bash', '-i']);
    expect(shell.env?.['PS1']).toBe('mcc$ ');
    expect(new RegExp(shellReady).test('mcc$')).toBe(true);
  });
});
