// The README sections that list what the code defines: keys, commands, drift classes, failpoints. Each is
// rendered here from its source and written between `<!-- name -->` and `<!-- /name -->` in README.md by
// `npm run docs`; test/docs/readme.test.ts fails when README.md differs from what this would write.
import { GLOBAL_FLAGS } from '../cli/args.js';
import { LISTED_COMMANDS } from '../cli/main.js';
import { builtinProfiles, SCREEN_DEFAULTS } from '../core/config.js';
import { DRIFT_CLASSES } from '../core/drift-classes.js';
import { FAILPOINTS } from '../core/failpoints.js';
import { COMMANDS as KEY_COMMANDS, NAMED_KEYS, keyLabel } from '../ui/keymap.js';

export const SECTION_NAMES = ['keys-table', 'cli-usage', 'drift-table', 'failpoints', 'profiles'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** Text for a table cell: a `|` would end the cell, a `<word>` would vanish as an HTML tag. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function keysTable(): string {
  const rows = KEY_COMMANDS.map((c) => [
    c.keys.map((k) => (NAMED_KEYS[k] ? keyLabel(k) : `\`${k}\``)).join(' / '),
    `\`${c.id}\`${c.mutates ? ' *' : ''}`,
    cell(c.description),
    c.views.join(', '),
  ]);
  return `${table(['key', 'command', 'what it does', 'where'], rows)}\n\n\\* changes state: disabled in a \`--readonly\` console.`;
}

function cliUsage(): string {
  const rows = LISTED_COMMANDS.map((c) => [`\`${cell(c.spec.usage)}\``, cell(c.spec.summary)]);
  const globals = Object.entries(GLOBAL_FLAGS).map(([name, f]) => {
    const arg = f.kind === 'boolean' ? '' : ` ${f.arg ?? (f.kind === 'number' ? 'N' : 'VALUE')}`;
    return `* \`${f.short ? `-${f.short}, ` : ''}--${name}${arg}\`: ${f.help}`;
  });
  return `${table(['command', 'what it does'], rows)}\n\nEvery command also takes:\n\n${globals.join('\n')}`;
}

function driftTable(): string {
  const rows = DRIFT_CLASSES.map((d) => [`\`${'shown' in d ? d.shown : d.badge}\``, cell(d.observed), cell(d.action)]);
  return table(['badge', 'observed', 'action'], rows);
}

function failpoints(): string {
  return FAILPOINTS.map((f) => `* \`${f}\``).join('\n');
}

/** The built-in profiles as the config compiles them: argv, patterns and readiness windows. */
function profilesTable(): string {
  const self = '<mcc>';
  const rows = Object.entries(builtinProfiles({ argv: [self] })).map(([name, p]) => {
    const argv = p.command.map((a) => (a === self ? 'mcc' : a)).join(' ');
    const re = (s: string | undefined) => (s === undefined ? '–' : `\`${cell(s)}\``);
    const windows = [
      `promptLines ${p.promptLines ?? SCREEN_DEFAULTS.promptLines}`,
      `quietMs ${p.quietMs ?? SCREEN_DEFAULTS.quietMs}`,
      `interrupt ${(p.interrupt ?? ['Escape']).join(' ')}`,
    ].join(', ');
    return [`\`${name}\``, `\`${cell(argv)}\``, re(p.ready), re(p.busy), re(p.blocked), windows];
  });
  return table(['profile', 'argv', 'ready', 'busy', 'blocked', 'windows'], rows);
}

/** Every generated section, by marker name. */
export function renderSections(): Record<SectionName, string> {
  return {
    'keys-table': keysTable(),
    'cli-usage': cliUsage(),
    'drift-table': driftTable(),
    failpoints: failpoints(),
    profiles: profilesTable(),
  };
}

/** Where one section's text lies: after its open marker, up to its close marker. */
function bounds(readme: string, name: string): [number, number] {
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start === -1 || end < start) throw new Error(`README.md: no "${open}" ... "${close}" pair`);
  if (readme.includes(open, start + 1) || readme.includes(close, end + 1))
    throw new Error(`README.md: the "${name}" markers appear more than once`);
  return [start + open.length, end];
}

/** The text between one section's markers (without the line breaks that set them apart). */
export function sectionOf(readme: string, name: string): string {
  const [start, end] = bounds(readme, name);
  return readme.slice(start, end).replace(/^\n/, '').replace(/\n$/, '');
}

/** README text with every marked section replaced by its rendering; the prose around them is kept. */
export function renderReadme(readme: string, sections: Record<string, string> = renderSections()): string {
  let out = readme;
  for (const [name, body] of Object.entries(sections)) {
    const [start, end] = bounds(out, name);
    out = `${out.slice(0, start)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}
