import { describe, expect, it } from 'vitest';
import { FAILPOINTS, noFailpoints, parseFailpoints } from '../../src/core/failpoints.js';

describe('parseFailpoints', () => {
  it('names every step the pickup spec asks for', () => {
    expect(FAILPOINTS).toEqual([
      'pickup.after_claim',
      'pickup.after_runtime_row',
      'pickup.after_worktree',
      'pickup.after_new_session',
      'pickup.after_record_pid',
      'deliver.before_paste',
      'deliver.after_paste',
      'deliver.after_submit',
    ]);
  });

  it('parses a list with modes; the mode defaults to crash; blanks and spaces are ignored', () => {
    const m = parseFailpoints(' pickup.after_claim=exit , deliver.after_paste,, deliver.after_submit=throw ');
    expect([...m]).toEqual([
      ['pickup.after_claim', 'exit'],
      ['deliver.after_paste', 'crash'],
      ['deliver.after_submit', 'throw'],
    ]);
  });

  it('an empty spec arms nothing', () => {
    expect(parseFailpoints('').size).toBe(0);
    expect(parseFailpoints(' , ').size).toBe(0);
  });

  it('an unknown failpoint is an error that lists the known ones', () => {
    expect(() => parseFailpoints('pickup.after_clam=crash')).toThrow(
      /unknown failpoint "pickup.after_clam".*pickup.after_claim/,
    );
  });

  it('an unknown mode is an error naming the failpoint', () => {
    expect(() => parseFailpoints('pickup.after_claim=panic')).toThrow(/pickup.after_claim: unknown mode "panic"/);
  });

  it('each failpoint name parses alone', () => {
    for (const name of FAILPOINTS) expect(parseFailpoints(name).get(name)).toBe('crash');
  });

  it('the inert default does nothing at any point', () => {
    for (const name of FAILPOINTS) expect(() => noFailpoints.hit(name)).not.toThrow();
  });
});
