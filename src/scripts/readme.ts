// `npm run docs`: rewrite the generated sections of README.md (keys, commands, drift classes, failpoints)
// from the code; `--check` changes nothing and exits 1 when README.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpOf, HELP_FLAG, parseArgs, UsageError, type CommandSpec } from '../cli/args.js';
import { renderReadme, renderSections, sectionOf } from './readme-sections.js';

const README = resolve(dirname(fileURLToPath(import.meta.url)), '../../README.md');

const DOCS_SPEC: CommandSpec = {
  name: 'docs',
  summary: "Rewrite README.md's generated sections (between <!-- name --> markers) from the code.",
  usage: 'npm run docs -- [--check]',
  positionals: [],
  flags: { check: { kind: 'boolean', help: 'change nothing; exit 1 if README.md is out of date' } },
};

function main(argv: readonly string[]): number {
  let check: boolean;
  try {
    const { flags } = parseArgs(argv, DOCS_SPEC, HELP_FLAG);
    if (flags['help']) {
      process.stdout.write(`${helpOf(DOCS_SPEC, HELP_FLAG)}\n`);
      return 0;
    }
    check = flags['check'] === true;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`docs: ${e.message}\n`);
    return 2;
  }
  const before = readFileSync(README, 'utf8');
  const sections = renderSections();
  const after = renderReadme(before, sections);
  const stale = Object.keys(sections).filter((name) => sectionOf(before, name) !== sectionOf(after, name));
  if (stale.length === 0) {
    process.stdout.write('README.md is up to date\n');
    return 0;
  }
  if (check) {
    process.stderr.write(`README.md is out of date (${stale.join(', ')}): run npm run build && npm run docs\n`);
    return 1;
  }
  writeFileSync(README, after);
  process.stdout.write(`README.md: rewrote ${stale.join(', ')}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`docs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
