// README.md lists what the code defines (keys, commands, drift classes, failpoints) only through
// `npm run docs`: this fails when README.md differs from what that script would write.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LISTED_COMMANDS } from '../../src/cli/main.js';
import { DRIFT_CLASSES } from '../../src/core/drift-classes.js';
import { FAILPOINTS } from '../../src/core/failpoints.js';
import { renderReadme, renderSections, SECTION_NAMES, sectionOf } from '../../src/scripts/readme-sections.js';
import { COMMANDS as KEY_COMMANDS } from '../../src/ui/keymap.js';
import { ROOT } from '../global-setup.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it.each(SECTION_NAMES)('its %s section is what npm run docs writes', (name) => {
    expect(sectionOf(README, name), `README.md is out of date: run npm run build && npm run docs`).toBe(
      renderSections()[name],
    );
  });

  it('is unchanged by a docs run', () => {
    expect(renderReadme(README) === README, 'run npm run build && npm run docs').toBe(true);
  });
});

describe('the rendered sections', () => {
  const s = renderSections();

  it('list every key command, CLI command, global flag, drift class and failpoint', () => {
    for (const c of KEY_COMMANDS) expect(s['keys-table']).toContain(`\`${c.id}\``);
    for (const c of LISTED_COMMANDS) expect(s['cli-usage']).toContain(c.spec.summary);
    for (const flag of ['--db PATH', '--socket NAME', '--config PATH', '--json', '-h, --help'])
      expect(s['cli-usage']).toContain(`\`${flag}\``);
    for (const d of DRIFT_CLASSES) expect(s['drift-table']).toContain(d.observed);
    expect(s['drift-table']).toContain('| `DYING 12s` |');
    expect(s['failpoints'].split('\n')).toEqual(FAILPOINTS.map((f) => `* \`${f}\``));
  });

  it('escape what would break a table: a | in a cell, a <word> that would vanish as HTML', () => {
    // The filter's description has both: `drift:<class>|any`.
    expect(s['keys-table']).toContain('drift:&lt;class>\\|any');
    // Usage alternatives inside code spans in a table cell.
    expect(s['cli-usage']).toContain('--outcome review\\|done\\|question\\|crash');
    for (const section of Object.values(s)) {
      for (const row of section.split('\n').filter((l) => l.startsWith('| '))) {
        const cells = row.replace(/\\\|/g, '').split('|').length - 2;
        const head = section.split('\n').find((l) => l.startsWith('| '))!;
        expect(cells, row).toBe(head.split('|').length - 2);
      }
    }
  });
});

describe('renderReadme', () => {
  const doc = [
    '# T',
    'prose before',
    '<!-- a -->',
    'old a',
    'more old a',
    '<!-- /a -->',
    'prose between',
    '<!-- b -->',
    '<!-- /b -->',
    'prose after',
    '',
  ].join('\n');

  it('replaces only what lies between the markers and keeps the prose around them', () => {
    const out = renderReadme(doc, { a: 'new a', b: '| x |\n|---|' });
    expect(out).toBe(
      [
        '# T',
        'prose before',
        '<!-- a -->',
        'new a',
        '<!-- /a -->',
        'prose between',
        '<!-- b -->',
        '| x |',
        '|---|',
        '<!-- /b -->',
        'prose after',
        '',
      ].join('\n'),
    );
    expect(sectionOf(out, 'a')).toBe('new a');
    expect(renderReadme(out, { a: 'new a', b: '| x |\n|---|' })).toBe(out);
  });

  it('refuses a README whose markers are missing, reversed or doubled, naming the section', () => {
    expect(() => renderReadme(doc, { c: 'x' })).toThrow('no "<!-- c -->" ... "<!-- /c -->" pair');
    expect(() => renderReadme('<!-- /a -->\n<!-- a -->\n', { a: 'x' })).toThrow('<!-- a -->');
    expect(() => renderReadme(`${doc}<!-- a -->\n<!-- /a -->\n`, { a: 'x' })).toThrow(
      'the "a" markers appear more than once',
    );
  });
});
