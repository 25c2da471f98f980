// (h) Two `mcc pickup` processes racing on one ticket: exactly one compare-and-set wins. One tmux session,
// one open runtime row, one prompt, one winner (exit 0) and one loser (exit 3, naming the holder).
import { describe, expect, it } from 'vitest';
import { disagreements, useHarness } from './helpers.js';

const ROUNDS = 5;

describe('(h) racing pickups', () => {
  it(`one winner, one loser, one runtime (${ROUNDS} rounds, fresh ticket each)`, async () => {
    const h = useHarness();
    for (let round = 1; round <= ROUNDS; round++) {
      const key = await h.add(`race round ${round}`);
      const racers = await Promise.all([h.spawn(['pickup', key]), h.spawn(['pickup', key])]);
      const codes = racers.map((r) => r.exitCode).sort();
      const detail = racers.map((r) => `exit ${r.exitCode} ${String(r.stdout)} ${String(r.stderr)}`).join('\n');
      expect(codes, detail).toEqual([0, 3]);
      const loser = racers.find((r) => r.exitCode === 3)!;
      expect(String(loser.stderr)).toContain(key);
      expect(String(loser.stderr)).toMatch(/held by|in_progress/);
      expect(String(loser.stderr)).not.toMatch(/SQLITE_BUSY|database is locked|unexpected error/);

      const rows = h.runtimes(key);
      expect(rows, detail).toHaveLength(1);
      expect(rows[0]?.status).toBe('running');
      expect(h.messages(key).filter((m) => m.kind === 'prompt')).toHaveLength(1);
      expect(h.ticket(key)).toMatchObject({ status: 'in_progress', attempts: 1 });
      expect((await h.sessions()).filter((s) => s === `mc-${key}`)).toHaveLength(1);
      expect(await disagreements(h, key)).toEqual([]);
    }
    expect(await h.sessions()).toHaveLength(ROUNDS);
  });
});
