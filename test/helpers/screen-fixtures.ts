// Screen fixtures: captured (or hand-made) pane text with a header of `# key: value` lines that the loader
// strips. Keys: expect (blocked | running | waiting | idle | none = cannot tell), profiles (comma-separated
// profile names the expectation holds for), quiet (ms the screen had been unchanged, or null = unknown;
// default 10000), source and note (free text).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScreenStatus as ContractStatus } from '../../src/core/screen.js';

export const SCREENS_DIR = join(import.meta.dirname, '..', 'fixtures', 'screens');

export interface ScreenFixture {
  file: string;
  expect: ContractStatus | null;
  profiles: string[];
  quietForMs: number | null;
  lines: string[];
}

const HEADER_RE = /^# (expect|profiles|quiet|source|note): ?(.*)$/;
const STATES = new Set(['blocked', 'running', 'waiting', 'idle', 'none']);

/** Parse one fixture file's text; throws on a missing or malformed header (a broken fixture is a bug). */
export function parseScreenFixture(file: string, text: string): ScreenFixture {
  const all = text.replace(/\n$/, '').split('\n');
  const headers = new Map<string, string>();
  let i = 0;
  for (; i < all.length; i++) {
    const m = HEADER_RE.exec(all[i] ?? '');
    if (!m) break;
    headers.set(m[1] ?? '', (m[2] ?? '').trim());
  }
  const expect = headers.get('expect');
  const profiles = headers.get('profiles');
  if (!expect || !STATES.has(expect)) throw new Error(`${file}: header "# expect:" missing or not a state`);
  if (!profiles) throw new Error(`${file}: header "# profiles:" missing`);
  const quiet = headers.get('quiet') ?? '10000';
  return {
    file,
    expect: expect === 'none' ? null : (expect as ContractStatus),
    profiles: profiles.split(',').map((p) => p.trim()),
    quietForMs: quiet === 'null' ? null : Number(quiet),
    lines: all.slice(i),
  };
}

/** Every `.txt` fixture in the screens folder, sorted by name. */
export function loadScreenFixtures(dir = SCREENS_DIR): ScreenFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => parseScreenFixture(f, readFileSync(join(dir, f), 'utf8')));
}

/** The header block for a fixture file (the recorder writes it above the captured text). */
export function fixtureHeader(h: {
  expect: ContractStatus | null;
  profiles: string[];
  quietForMs: number | null;
  source: string;
}): string {
  return [
    `# expect: ${h.expect ?? 'none'}`,
    `# profiles: ${h.profiles.join(',')}`,
    `# quiet: ${h.quietForMs === null ? 'null' : String(h.quietForMs)}`,
    `# source: ${h.source}`,
  ].join('\n');
}
