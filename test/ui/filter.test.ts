import { describe, expect, it } from 'vitest';
import { applyFilter, parseFilter } from '../../src/ui/filter.js';
import { driftFinding, gridRow } from './rows.js';

const rows = [
  gridRow({
    key: 'MC-1',
    title: 'Fix the login page',
    state: 'in_progress',
    badge: 'HIDDEN-LIVE',
    findings: [driftFinding('MC-1', 'HIDDEN-LIVE')],
  }),
  gridRow({ key: 'MC-2', title: 'Write docs', state: 'todo' }),
  gridRow({
    key: 'MC-3',
    title: 'Login rate limit',
    state: 'todo',
    badge: 'DYING 12s',
    findings: [driftFinding('MC-3', 'DYING')],
  }),
  gridRow({ key: 'MC-12', title: 'Release notes', state: 'done' }),
];
const keys = (text: string) => applyFilter(rows, text).map((r) => r.key);

describe('parseFilter', () => {
  it('splits free words from state: and drift: tokens', () => {
    expect(parseFilter('  Login  state:todo drift:dying ')).toEqual({
      words: ['login'],
      states: ['todo'],
      drifts: ['DYING'],
      problems: [],
    });
  });

  it('accepts an unambiguous part of a state and reports what names nothing', () => {
    expect(parseFilter('state:prog').states).toEqual(['in_progress']);
    expect(parseFilter('state:in-review').states).toEqual(['in_review']);
    expect(parseFilter('state:do').problems[0]).toMatch(/state:do names no state/);
    expect(parseFilter('drift:').problems).toHaveLength(1);
  });
});

describe('applyFilter', () => {
  it('keeps everything, in order, for an empty filter', () => {
    expect(keys('')).toEqual(['MC-1', 'MC-2', 'MC-3', 'MC-12']);
  });

  it('matches free text against key, title and badge, case-insensitively; every word must match', () => {
    expect(keys('login')).toEqual(['MC-1', 'MC-3']);
    expect(keys('login rate')).toEqual(['MC-3']);
    expect(keys('mc-12')).toEqual(['MC-12']);
    expect(keys('hidden')).toEqual(['MC-1']);
  });

  it('filters by state; several states are alternatives', () => {
    expect(keys('state:todo')).toEqual(['MC-2', 'MC-3']);
    expect(keys('state:todo state:done')).toEqual(['MC-2', 'MC-3', 'MC-12']);
    expect(keys('state:todo login')).toEqual(['MC-3']);
  });

  it('filters by drift class, any drift, or none', () => {
    expect(keys('drift:DYING')).toEqual(['MC-3']);
    expect(keys('drift:hidden-live')).toEqual(['MC-1']);
    expect(keys('drift:any')).toEqual(['MC-1', 'MC-3']);
    expect(keys('drift:none')).toEqual(['MC-2', 'MC-12']);
    expect(keys('drift:ORPHAN')).toEqual([]);
  });
});
